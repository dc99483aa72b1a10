"""Signals, orphans, worker caps and argument checks: a stopped run leaves nothing behind.

The subprocess tests start a 20,000-run ``franchise-sim run`` (minutes of work), wait for its
worker processes, signal the parent and then poll, with a deadline, until every process it
started is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import psutil
import pytest
from click.testing import CliRunner

from franchise_sim.analysis.sweeps import sweep
from franchise_sim.engine import pool
from franchise_sim.engine import runner as monte_carlo
from franchise_sim.engine.batch import BatchRecord, run_batch, scenario_columns
from franchise_sim.engine.outcomes import outcome_table
from franchise_sim.engine.pool import release_workers
from franchise_sim.engine.runner import (
    NonFiniteResultError,
    available_cores,
    run_setting_bounds,
    simulate,
)
from franchise_sim.interfaces.cli import main
from franchise_sim.scenario.schema import RunSettings, Scenario
from tests.conftest import AUTO_REPAIR

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

LONG_RUN = ["run", str(AUTO_REPAIR), "--runs", "20000", "--workers", "2", "--quiet"]
INTERRUPTED = "franchise-sim: interrupted; nothing was written"


def _start(
    tmp_path: Path, *args: str, start_method: str | None = None, nohup: bool = False
) -> subprocess.Popen[str]:
    """Start the installed command line's entry point in its own session, inside tmp_path.

    SIGHUP is ignored there with ``nohup``, and otherwise at its default, whatever the tests
    were started with (a suite run under ``nohup`` hands every child SIGHUP ignored, which the
    command rightly keeps).
    """
    code = (
        "import multiprocessing, signal, sys\n"
        f"if {start_method!r}: multiprocessing.set_start_method({start_method!r})\n"
        "signal.signal(signal.SIGHUP, "
        f"signal.SIG_IGN if {nohup} else signal.SIG_DFL)\n"
        "from importlib.metadata import entry_points\n"
        "(command,) = entry_points(group='console_scripts', name='franchise-sim')\n"
        "sys.argv[0] = 'franchise-sim'\n"
        "command.load()()\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _wait_for(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _workers(parent: subprocess.Popen[str], count: int = 2) -> list[psutil.Process]:
    """Wait until the parent has ``count`` child processes; return all its descendants."""
    process = psutil.Process(parent.pid)
    _wait_for(lambda: len(process.children()) >= count, f"{count} worker processes", 60.0)
    time.sleep(0.5)  # let them start on their batches
    return process.children(recursive=True)


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def _all_gone(processes: list[psutil.Process]) -> None:
    _wait_for(lambda: not _alive(processes), "the workers to exit", 10.0)


def _finish(parent: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _out, err = parent.communicate(timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
    return parent.returncode, err


def _left_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@posix_only
@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "to_group", "code"),
    [
        (signal.SIGINT, True, 130),  # Ctrl-C at a terminal: the whole group, pressed twice
        (signal.SIGTERM, False, 143),
        (signal.SIGHUP, False, 129),
    ],
    ids=["ctrl-c-twice", "sigterm", "sighup"],
)
def test_a_signal_stops_the_run_and_its_workers(
    tmp_path: Path, signum: int, to_group: bool, code: int
) -> None:
    parent = _start(tmp_path, *LONG_RUN, "--out", "out")
    workers = _workers(parent)
    if to_group:
        os.killpg(parent.pid, signum)
        time.sleep(0.05)
        os.killpg(parent.pid, signum)
    else:
        parent.send_signal(signum)
    returncode, err = _finish(parent)
    _all_gone(workers)
    assert returncode == code
    assert err.strip() == INTERRUPTED  # no traceback, no "Aborted!", nothing from a worker
    assert _left_in(tmp_path) == []  # no results folder, no staging folder


@posix_only
@pytest.mark.slow
def test_a_hangup_ignored_on_the_way_in_stays_ignored(tmp_path: Path) -> None:
    parent = _start(tmp_path, *LONG_RUN, "--out", "out", nohup=True)  # as under nohup
    workers = _workers(parent)
    parent.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert parent.poll() is None
    parent.send_signal(signal.SIGTERM)
    assert _finish(parent) == (143, INTERRUPTED + "\n")
    _all_gone(workers)


@posix_only
@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_die_with_a_killed_parent(tmp_path: Path, start_method: str) -> None:
    parent = _start(tmp_path, *LONG_RUN, start_method=start_method)
    workers = _workers(parent)
    parent.kill()  # SIGKILL: no handler runs; the workers must notice on their own
    _finish(parent)
    _all_gone(workers)


@posix_only
@pytest.mark.slow
def test_a_signal_while_writing_leaves_no_staging_folder(tmp_path: Path) -> None:
    args = ["run", str(AUTO_REPAIR), "--runs", "300", "--workers", "1", "--report", "-q"]
    args.append("--no-attribution")  # the attribution's simulation would only delay the write
    parent = _start(tmp_path, *args, "--out", "out")
    _wait_for(
        lambda: any(name.startswith(".out.staging-") for name in _left_in(tmp_path)),
        "the staging folder",
        120.0,
    )
    parent.send_signal(signal.SIGTERM)
    returncode, err = _finish(parent)
    assert (returncode, err.strip()) == (143, INTERRUPTED)
    assert _left_in(tmp_path) == []


def test_ctrl_c_while_the_library_loads_prints_one_line() -> None:
    # Ctrl-C arrives while the command line imports the scenario model (numpy, pydantic...).
    code = (
        "import os, signal, sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'franchise_sim.scenario.schema':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from importlib.metadata import entry_points\n"
        "(command,) = entry_points(group='console_scripts', name='franchise-sim')\n"
        "command.load()()\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code, "validate", str(AUTO_REPAIR)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (shown.returncode, shown.stderr.strip()) == (130, INTERRUPTED)


def test_ctrl_c_while_loading_the_scenario_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(_path: str) -> Scenario:
        raise KeyboardInterrupt

    monkeypatch.setattr("franchise_sim.interfaces.cli.load_scenario", interrupted)
    before = signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(main, ["run", str(AUTO_REPAIR), "--out", str(tmp_path / "out")])
    assert (result.exit_code, result.stderr.strip()) == (130, INTERRUPTED)
    assert _left_in(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are put back


class _CountingPool(ProcessPoolExecutor):
    sizes: ClassVar[list[int]] = []

    def __init__(self, max_workers: int | None = None, **options: Any) -> None:
        _CountingPool.sizes.append(max_workers or 0)
        super().__init__(max_workers=max_workers, **options)


def test_the_pool_has_no_more_processes_than_cores_or_batches(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "ProcessPoolExecutor", _CountingPool)
    _CountingPool.sizes.clear()
    simulate(auto_repair, runs=12, workers=1000, horizon_months=3)
    release_workers()  # the next run would take the kept pool if it fitted: count a new one
    simulate(auto_repair, runs=3, workers=min(available_cores(), 3) + 2, horizon_months=3)
    wide, narrow = _CountingPool.sizes
    assert 1 <= wide <= min(available_cores(), 12)
    assert narrow <= 3


@pytest.mark.slow
def test_the_command_line_says_when_it_uses_fewer_workers(tmp_path: Path) -> None:
    args = ["run", str(AUTO_REPAIR), "--runs", "4", "--horizon-months", "3", "--no-plots", "-q"]
    result = CliRunner().invoke(main, [*args, "--workers", "1000", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stderr.splitlines() if "--workers" in line]
    used = int(re.fullmatch(r"--workers 1000: using (\d+) \(.+\)", line)[1])  # type: ignore[index]
    assert 1 <= used <= available_cores()
    result = CliRunner().invoke(
        main, [*args, "--workers", "2", "--runs", "1", "--out", str(tmp_path / "b")]
    )
    assert "--workers 2: using 1 (1 run fills only 1 batch)" in result.stderr
    quiet = CliRunner().invoke(main, [*args, "--workers", "1", "--out", str(tmp_path / "c")])
    assert "--workers" not in quiet.stderr


def test_runs_above_the_schema_cap_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_run(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("simulated anyway")

    monkeypatch.setattr(monte_carlo, "simulate", no_run)
    cap = RunSettings.model_fields["runs"].metadata[-1].le
    for command in (["run", str(AUTO_REPAIR)], ["sweep", str(AUTO_REPAIR), "--set", "x=1"]):
        result = CliRunner().invoke(main, [*command, "--runs", str(cap + 1), "--out", "x"])
        assert result.exit_code == 2
        assert f"{cap + 1} is not in the range" in result.stderr
    assert _left_in(tmp_path) == []


def test_run_setting_bounds_are_the_schema_bounds() -> None:
    assert run_setting_bounds("runs") == (1, 1_000_000)
    assert run_setting_bounds("horizon_months") == (1, 360)
    assert run_setting_bounds("seed") == (0, 2**64 - 1)


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"runs": True}, TypeError, r"runs must be a whole number from 1 to 1,000,000 .*bool"),
        ({"runs": 2.0}, TypeError, r"runs must be a whole number"),
        ({"runs": 1_000_001}, ValueError, r"runs must be .* not 1,000,001"),
        ({"horizon_months": 5000}, ValueError, r"horizon_months must be .* 1 to 360"),
        ({"horizon_months": 0}, ValueError, r"horizon_months"),
        ({"deterministic": "no"}, TypeError, r"deterministic must be True or False, not str"),
        (
            {"seed": 1.5},
            TypeError,
            r"seed must be a whole number from 0 to 18,446,744,073,709,551,615 .*, not float 1.5",
        ),
        ({"seed": -1}, ValueError, r"seed must be a whole number from 0 to 18,446,744,073,709,551"),
        ({"workers": 0}, ValueError, r"workers must be a whole number of at least 1"),
        ({"workers": True}, TypeError, r"workers must be a whole number"),
    ],
)
def test_simulate_checks_its_arguments(
    auto_repair: Scenario, arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        simulate(auto_repair, **{"runs": 2, "workers": 1, **arguments})


def test_simulate_takes_numpy_integers(auto_repair: Scenario) -> None:
    two, four = np.int64(2), np.int64(4)
    one = simulate(auto_repair, runs=two, seed=four, workers=1, horizon_months=6)  # type: ignore[arg-type]
    assert (one.runs, one.seed, type(one.runs), type(one.seed)) == (2, 4, int, int)


def test_simulate_refuses_what_is_not_a_scenario() -> None:
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        simulate("auto_repair")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"runs": True}, TypeError, "runs"),
        ({"seed": 2.5}, TypeError, "seed"),
        ({"horizon_months": 361}, ValueError, "horizon_months"),
    ],
)
def test_sweep_checks_its_arguments(
    auto_repair: Scenario, arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    grid = {"arms.franchise.royalty_rate": [0.05, 0.06]}
    with pytest.raises(error, match=match):
        sweep(auto_repair, grid, **{"runs": 2, "workers": 1, **arguments})


def _poison(monkeypatch: pytest.MonkeyPatch, where: dict[int, tuple[int, int, str]]) -> None:
    """Put a NaN into the books of some replications: replication -> (arm, month index, column)."""
    real = run_batch

    def poisoned(
        scenario: Scenario, seed: int, replications: range, *args: Any, **kwargs: Any
    ) -> BatchRecord:
        record = real(scenario, seed, replications, *args, **kwargs)
        for r, (arm, month, column) in where.items():
            if r in replications:
                record.monthly[
                    arm, r - replications.start, month, scenario_columns(scenario).index(column)
                ] = np.nan
        return record

    monkeypatch.setattr(monte_carlo, "run_batch", poisoned)


@pytest.mark.parametrize(
    ("workers", "summary_only"),
    [(1, False), (1, True), (2, True)],
    ids=["full", "summary-only", "summary-only-pool"],
)
def test_a_non_finite_number_stops_the_run_where_it_first_appears(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch, workers: int, summary_only: bool
) -> None:
    if workers > 1 and multiprocessing.get_start_method() != "fork":
        pytest.skip("the poisoned engine reaches pool workers only when they are forked")
    # Summary-only batches arrive as they complete: the first in replication order still wins.
    _poison(monkeypatch, {5: (0, 0, "revenue"), 3: (1, 9, "cash"), 4: (0, 2, "rent")})
    with pytest.raises(NonFiniteResultError, match="too extreme for the arithmetic") as caught:
        simulate(
            auto_repair,
            runs=8,
            workers=workers,
            horizon_months=12,
            summary_only=summary_only,
        )
    stop = caught.value
    arms = auto_repair.arm_names
    assert (stop.arm, stop.replication, stop.month, stop.column) == (arms[1], 3, 10, "cash")
    assert f"arm {arms[1]!r}, replication 3, month 10, cash" in str(stop)


def test_an_overflowing_outcome_stops_the_run(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = outcome_table

    def overflowing(*args: Any, **kwargs: Any) -> dict[str, Any]:
        table = real(*args, **kwargs)
        table["npv"][0, 2] = np.inf
        return table

    monkeypatch.setattr(monte_carlo, "outcome_table", overflowing)
    with pytest.raises(NonFiniteResultError) as caught:
        simulate(auto_repair, runs=4, workers=1, horizon_months=6)
    assert (caught.value.replication, caught.value.month, caught.value.column) == (2, None, "npv")


def test_the_command_line_stops_at_a_non_finite_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _poison(monkeypatch, {1: (0, 0, "cash")})
    out = tmp_path / "out"
    args = ["run", str(AUTO_REPAIR), "--runs", "3", "--workers", "1", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"franchise-sim: {AUTO_REPAIR}: the simulation produced")
    assert "replication 1, month 1, cash" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert _left_in(tmp_path) == []


def test_arithmetic_that_breaks_down_on_a_nan_stops_the_run(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(
        scenario: Scenario, seed: int, replications: range, *args: Any, **kwargs: Any
    ) -> BatchRecord:
        if 2 in replications:
            raise ValueError("cannot convert float NaN to integer")
        return run_batch(scenario, seed, replications, *args, **kwargs)

    monkeypatch.setattr(monte_carlo, "run_batch", broken)
    with pytest.raises(NonFiniteResultError, match="broke down in replication 2") as caught:
        simulate(auto_repair, runs=4, workers=1, horizon_months=3)
    assert caught.value.cause == "ValueError: cannot convert float NaN to integer"


def test_other_errors_of_a_replication_are_not_blamed_on_the_inputs(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> BatchRecord:
        raise ValueError("a bug")

    monkeypatch.setattr(monte_carlo, "run_batch", failing)
    with pytest.raises(ValueError, match="a bug") as caught:
        simulate(auto_repair, runs=2, workers=1, horizon_months=3)
    assert not isinstance(caught.value, NonFiniteResultError)
