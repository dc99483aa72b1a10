"""Writing results folders: never over a user's work, never unsafely, never half, no leftovers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from franchise_sim.analysis.sweeps import sweep
from franchise_sim.interfaces.cli import main
from franchise_sim.interfaces.notebook import Results, simulate
from franchise_sim.outputs import folders as archive
from franchise_sim.outputs.folders import (
    MARKER_FILE,
    OutputFolderError,
    StagedFolder,
    load_results,
    save_results,
    save_sweep,
)
from franchise_sim.scenario.schema import Scenario
from tests.conftest import AUTO_REPAIR

SMALL = ["--runs", "4", "--horizon-months", "12", "--workers", "1", "--quiet"]
RUN = ["run", "auto_repair", *SMALL, "--no-plots"]
SWEEP = ["sweep", "auto_repair", "--set", "arms.franchise.royalty_rate=0.05,0.07", *SMALL]


@pytest.fixture(scope="module")
def four(auto_repair: Scenario) -> Results:
    return simulate(auto_repair, runs=4, seed=3, workers=1, horizon_months=12)


@pytest.fixture(scope="module")
def six(auto_repair: Scenario) -> Results:
    return simulate(auto_repair, runs=6, seed=3, workers=1, horizon_months=12)


def _runs_in(folder: Path) -> int:
    runs: int = json.loads((folder / "manifest.json").read_text())["runs"]
    return runs


def _snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Every path under ``root`` with its content (a link's target; None for a folder)."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = os.readlink(path)
        elif path.is_file():
            found[name] = path.read_bytes()
        else:
            found[name] = None
    return found


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


# Item 1: an earlier folder is kept unless --force; never replaced by the other kind.


def test_a_second_run_is_written_beside_the_first_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = _invoke([*RUN, "--report", "--out", "results/rep"])
    assert first.exit_code == 0, first.output
    assert first.stderr == ""
    second = _invoke([*RUN, "--runs", "5", "--out", "results/rep"])
    assert second.exit_code == 0, second.output
    assert second.stderr == (
        "results/rep holds an earlier run; this run is in results/rep-2 (pass --force to replace)\n"
    )
    assert (tmp_path / "results/rep/report.html").is_file()  # the first run's report kept
    assert _runs_in(tmp_path / "results/rep") == 4
    assert _runs_in(tmp_path / "results/rep-2") == 5
    third = _invoke([*RUN, "--out", "results/rep"])
    assert "this run is in results/rep-3" in third.stderr
    forced = _invoke([*RUN, "--runs", "6", "--out", "results/rep", "--force"])
    assert forced.exit_code == 0, forced.output
    assert forced.stderr == ""
    assert _runs_in(tmp_path / "results/rep") == 6
    assert not (tmp_path / "results/rep/report.html").exists()
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["rep", "rep-2", "rep-3"]


def test_the_printed_folder_is_the_one_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "auto_repair", *SMALL[:-1], "--no-plots", "--out", "out"]
    assert _invoke(args).exit_code == 0
    again = _invoke(args)
    assert again.exit_code == 0, again.output
    assert "Results written to out-2/ in " in again.stdout


def test_a_deterministic_run_needs_force_to_replace_a_monte_carlo_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _invoke([*RUN, "--out", "plan"]).exit_code == 0
    kept = _invoke([*RUN, "--deterministic", "--out", "plan"])
    assert kept.exit_code == 0, kept.output
    assert "plan holds an earlier run; this run is in plan-2" in kept.stderr
    assert json.loads((tmp_path / "plan/manifest.json").read_text())["deterministic"] is False
    forced = _invoke([*RUN, "--deterministic", "--out", "plan", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((tmp_path / "plan/manifest.json").read_text())["deterministic"] is True


def test_save_returns_the_folder_it_wrote(four: Results, tmp_path: Path) -> None:
    target = tmp_path / "rep"
    assert save_results(four, target, figures=False) == target
    assert json.loads((target / MARKER_FILE).read_text())["kind"] == "results"
    assert save_results(four, target, figures=False) == tmp_path / "rep-2"
    assert four.save(target, figures=False) == tmp_path / "rep-3"
    (target / "notes.txt").write_text("mine")
    assert four.save(target, figures=False, force=True) == target
    assert not (target / "notes.txt").exists()
    assert load_results(target).runs == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep", "rep-2", "rep-3"]


def test_an_empty_folder_is_used(four: Results, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert save_results(four, tmp_path / "empty", figures=False) == tmp_path / "empty"
    assert load_results(tmp_path / "empty").runs == 4


def test_a_folder_of_the_other_kind_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _invoke([*RUN, "--out", "run"]).exit_code == 0
    assert _invoke([*SWEEP, "--out", "grid"]).exit_code == 0
    assert json.loads((tmp_path / "grid" / MARKER_FILE).read_text())["kind"] == "sweep"
    before = _snapshot(tmp_path)
    onto_sweep = _invoke([*RUN, "--out", "grid", "--force"])
    assert onto_sweep.exit_code == 2
    assert onto_sweep.output == (
        "franchise-sim: grid: holds a sweep, which a run never replaces, forced or not; "
        "choose another output folder\n"
    )
    onto_run = _invoke([*SWEEP, "--out", "run", "--force"])
    assert onto_run.exit_code == 2
    assert "run: holds a run's results, which a sweep never replaces, forced or not" in (
        onto_run.output
    )
    assert _snapshot(tmp_path) == before


def test_a_second_sweep_is_written_beside_the_first(auto_repair: Scenario, tmp_path: Path) -> None:
    frame = sweep(auto_repair, {"arms.franchise.royalty_rate": [0.05, 0.07]}, runs=4, workers=1)
    target = tmp_path / "grid"
    assert save_sweep(frame, target, charts=["npv_mean"]) == target
    assert save_sweep(frame, target, charts=["npv_mean"]) == tmp_path / "grid-2"
    assert save_sweep(frame, target, charts=["npv_mean"], force=True) == target
    results = tmp_path / "run"
    (results / "x").mkdir(parents=True)
    with pytest.raises(OutputFolderError, match="was not written by franchise-sim"):
        save_sweep(frame, results, charts=["npv_mean"], force=True)


# Item 16: paths resolved before anything is removed; unsafe targets refused.


def _newdir_up(tmp_path: Path) -> tuple[list[str], str]:
    return ["--out", "newdir/.."], "newdir/..: is the current folder, which is never written over"


def _newdir_up_up(tmp_path: Path) -> tuple[list[str], str]:
    return ["--out", "newdir/../.."], "newdir/../..: holds the current folder"


def _dots_yaml(tmp_path: Path) -> tuple[list[str], str]:
    shutil.copy(AUTO_REPAIR, "...yaml")
    return ["--scenario", "...yaml"], "results/..: is the current folder"


def _dot_inside_results(tmp_path: Path) -> tuple[list[str], str]:
    assert _invoke([*RUN, "--out", "here"]).exit_code == 0
    os.chdir("here")
    return ["--out", "."], ".: is the current folder, which is never written over"


def _scenario_inside(tmp_path: Path) -> tuple[list[str], str]:
    assert _invoke([*RUN, "--out", "res"]).exit_code == 0
    shutil.copy(AUTO_REPAIR, "res/mine.yaml")
    return (
        ["--scenario", "res/mine.yaml", "--out", "res", "--force"],
        "res: holds the scenario file being run (mine.yaml), which is never written over",
    )


def _web_app(tmp_path: Path) -> tuple[list[str], str]:
    Path("web").mkdir()
    Path("web/manifest.json").write_text('{"name": "my app", "start_url": "/"}')
    Path("web/index.html").write_text("<html></html>")
    return ["--out", "web", "--force"], (
        "web: holds a manifest.json but no .franchise-sim.json (another tool's folder, or results "
        "of an older franchise-sim), so it is never replaced"
    )


def _thesis(tmp_path: Path) -> tuple[list[str], str]:
    Path("thesis").mkdir()
    Path("thesis/chapter1.tex").write_text("precious")
    return ["--out", "thesis", "--force"], (
        "thesis: exists and was not written by franchise-sim (no .franchise-sim.json), so it is "
        "never replaced"
    )


def _symlink(tmp_path: Path) -> tuple[list[str], str]:
    assert _invoke([*RUN, "--out", "res"]).exit_code == 0
    Path("link").symlink_to("res")
    return ["--out", "link", "--force"], (
        "link: is a symbolic link; give the folder it points to (res)"
    )


def _home(tmp_path: Path) -> tuple[list[str], str]:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# mine")
    os.environ["HOME"] = str(home)
    return ["--out", str(home)], f"{home}: is your home folder"


def _above_home(tmp_path: Path) -> tuple[list[str], str]:
    (tmp_path / "users" / "jo").mkdir(parents=True)
    os.environ["HOME"] = str(tmp_path / "users" / "jo")
    return ["--out", str(tmp_path / "users")], f"{tmp_path / 'users'}: holds your home folder"


def _root(tmp_path: Path) -> tuple[list[str], str]:
    return ["--out", "/"], "/: is the filesystem root"


UNSAFE: dict[str, Callable[[Path], tuple[list[str], str]]] = {
    "newdir/..": _newdir_up,
    "newdir/../..": _newdir_up_up,
    "...yaml with the default --out": _dots_yaml,
    "--out . inside a results folder": _dot_inside_results,
    "a scenario inside its results folder": _scenario_inside,
    "another tool's manifest.json": _web_app,
    "a folder of the user's": _thesis,
    "a symbolic link": _symlink,
    "the home folder": _home,
    "a folder holding the home folder": _above_home,
    "the filesystem root": _root,
}


@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param(case, command, id=f"{command}: {case}")
        for case in UNSAFE
        for command in ("run", "sweep")
        if (case, command) != ("...yaml with the default --out", "sweep")  # results/.._sweep
    ],
)
def test_an_unsafe_output_folder_is_refused_and_nothing_is_removed(
    case: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", "/nonexistent/home-of-franchise-sim-tests")
    (work / "notes.txt").write_text("the user's own file")
    options, message = UNSAFE[case](tmp_path)
    scenario = "auto_repair"
    if options[0] == "--scenario":
        scenario, options = options[1], options[2:]
    base = RUN if command == "run" else SWEEP
    args = [base[0], scenario, *base[2:], *options]
    before = _snapshot(tmp_path)
    result = _invoke(args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"franchise-sim: {message}"), result.output
    assert result.output.count("\n") == 1
    assert _snapshot(tmp_path) == before


def test_the_library_refuses_unsafe_folders_too(
    four: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"^newdir/\.\.: is the current folder"):
        save_results(four, "newdir/..", figures=False)
    with pytest.raises(OutputFolderError, match=r"keep\.txt: is a file, not a folder"):
        four.save("keep.txt", figures=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# Item 22: swap by rename, old folder deleted last; leftovers of dead processes cleaned up.


def _failing_rename(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make the rename of a staging folder into place fail."""
    rename = os.rename

    def failing(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        if ".staging-" in Path(source).name:
            raise error
        rename(source, destination)

    monkeypatch.setattr(os, "rename", failing)


@pytest.mark.parametrize(
    "error", [KeyboardInterrupt(), SystemExit(143), OSError(13, "Permission denied")]
)
def test_a_failed_swap_keeps_the_old_folder(
    error: BaseException,
    four: Results,
    six: Results,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = save_results(four, tmp_path / "rep", figures=False)
    (target / "report.html").write_text("the user's report")
    _failing_rename(monkeypatch, error)
    with pytest.raises(OutputFolderError if isinstance(error, OSError) else type(error)):
        save_results(six, target, figures=False, force=True)
    assert _runs_in(target) == 4
    assert (target / "report.html").read_text() == "the user's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no staging, no backup


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_an_error_while_writing_removes_the_staging_folder(
    error: type[BaseException],
    four: Results,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_results(four, tmp_path / "rep", figures=False)
    before = _snapshot(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(archive, "manifest", interrupted)
    with pytest.raises(error):
        save_results(four, tmp_path / "rep", figures=False, force=True)
    assert _snapshot(tmp_path) == before


LEFT_BEHIND = """
import sys, time
from franchise_sim.outputs.folders import StagedFolder
with StagedFolder(sys.argv[1], kind="results", force=True) as staging:
    (staging / "monthly.parquet").write_bytes(b"x" * 100_000)
    print(staging, flush=True)
    time.sleep(120)
"""


def test_a_kill_9_leftover_is_removed_by_the_next_write(four: Results, tmp_path: Path) -> None:
    target = tmp_path / "rep"
    writer = subprocess.Popen(
        [sys.executable, "-c", LEFT_BEHIND, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    staging = Path(writer.stdout.readline().strip())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    assert staging.name.startswith(f".rep.staging-{writer.pid}-")
    assert (staging / "monthly.parquet").is_file()  # what kill -9 leaves behind
    assert save_results(four, target, figures=False) == target
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def _dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert finished.returncode == 0
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_backup_left_between_the_two_renames_is_put_back(
    four: Results, six: Results, tmp_path: Path
) -> None:
    target = save_results(four, tmp_path / "rep", figures=False)
    pid = _dead_pid()
    target.rename(tmp_path / f".rep.old-{pid}-0123abcd")  # died after the first rename
    (tmp_path / f".rep.staging-{pid}-89abcdef").mkdir()
    assert save_results(six, target, figures=False) == tmp_path / "rep-2"
    assert _runs_in(target) == 4  # the earlier results are back
    assert _runs_in(tmp_path / "rep-2") == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep", "rep-2"]


def test_a_running_writers_staging_folder_is_left_alone(four: Results, tmp_path: Path) -> None:
    busy = tmp_path / f".rep.staging-{os.getpid()}-0123abcd"
    busy.mkdir()
    save_results(four, tmp_path / "rep", figures=False)
    assert busy.is_dir()


def test_staging_folders_are_named_after_the_target_and_the_process(tmp_path: Path) -> None:
    with StagedFolder(tmp_path / "rep", kind="results") as staging:
        assert staging.parent == tmp_path
        assert staging.name.startswith(f".rep.staging-{os.getpid()}-")
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == [MARKER_FILE]


# Item 24: long values cut in messages about folders.


def test_a_long_output_path_is_cut_in_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke([*RUN, "--out", "9" * 10_000])
    assert result.exit_code == 2
    assert "cannot be written (File name too long)" in result.output
    assert "9" * 200 not in result.output
    assert len(result.output) < 300
    assert list(tmp_path.iterdir()) == []
