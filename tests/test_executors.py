"""Dask as an executor: the pool's results bit for bit, plain errors, cancelled when abandoned."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from franchise_sim.engine.executors import ExecutorUnavailableError, dask_cluster, is_dask_client
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.cli import main
from franchise_sim.scenario.schema import Scenario

from .books import assert_identical
from .conftest import AUTO_REPAIR, printed_by

distributed = pytest.importorskip("distributed")

RUNS, HORIZON, SEED = 48, 24, 5


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One local cluster for the module: two single-threaded worker processes."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def run(scenario: Scenario, **options: Any) -> SimulationResults:
    """The module's small run of ``scenario``."""
    return simulate(scenario, runs=RUNS, seed=SEED, horizon_months=HORIZON, **options)


def test_the_pool_and_dask_give_identical_results(
    shipped_auto_repair: Scenario, client: Any
) -> None:
    pool = run(shipped_auto_repair, workers=2)
    dask = run(shipped_auto_repair, executor=client)
    assert is_dask_client(client)
    assert_identical(pool, dask)
    assert len(dask.worker_pids) == 2  # both workers ran batches
    pool_summary = run(shipped_auto_repair, workers=2, summary_only=True)
    dask_summary = run(shipped_auto_repair, executor=client, summary_only=True)
    assert_identical(pool_summary, dask_summary)
    assert dask_summary.summary_only
    assert_identical(pool, dask_summary)


def test_an_abandoned_dask_run_cancels_its_futures(
    shipped_auto_repair: Scenario, client: Any
) -> None:
    def stop(done: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        simulate(shipped_auto_repair, runs=400, executor=client, workers=40, progress=stop)
    deadline = time.monotonic() + 30.0
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        assert time.monotonic() < deadline, "the run's tasks were not cancelled"
        time.sleep(0.1)


def test_an_embedded_cluster_is_closed_when_the_run_is_interrupted() -> None:
    held: list[Any] = []

    def interrupted() -> None:
        with dask_cluster(workers=1) as cluster:
            assert "local Dask cluster of 1 worker process" in cluster.where
            held.append(cluster.client)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    (client,) = held
    assert client.status == "closed"
    assert client.cluster.status.name == "closed"


def test_a_bad_scheduler_address_is_one_line_and_exit_2(tmp_path: Path) -> None:
    args = ["run", str(AUTO_REPAIR), "--runs", "4", "--scheduler", "not-an-address::"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "cannot reach a Dask scheduler" in lines[0]
    assert not (tmp_path / "x").exists()


def test_without_dask_the_command_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(ExecutorUnavailableError, match=r"franchise-sim\[dask\]"):
        dask_cluster(workers=1).__enter__()
    args = ["run", str(AUTO_REPAIR), "--runs", "4", "--executor", "dask"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "not installed" in result.output


def test_the_runner_imports_no_dask() -> None:
    code = (
        "import sys, franchise_sim.engine.runner, franchise_sim.interfaces.cli; "
        "print('distributed' in sys.modules)"
    )
    assert printed_by(code) == "False"


def test_a_relationship_defined_in_a_test_module_runs_on_dask(
    auto_repair: Scenario, client: Any
) -> None:
    """The model's relationships travel with the batches: Dask's workers run one of this suite's."""
    from .test_relationships import ALLIANCE, WITH_ALLIANCE

    here = run(auto_repair, workers=1, relationships=WITH_ALLIANCE)
    on_dask = run(auto_repair, executor=client, relationships=WITH_ALLIANCE)
    assert_identical(here, on_dask)
    assert set(ALLIANCE.cost_lines) <= set(on_dask.monthly_columns)
    assert on_dask.series("alliance_fee").sum() > 0  # the alliance worked on the workers
    assert set(ALLIANCE.cost_lines).isdisjoint(run(auto_repair, workers=1).monthly_columns)
