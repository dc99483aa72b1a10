"""The ``franchise-sim`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and writes or prints the result.
Bad input ends with one plain message on standard error and exit code 2. Ctrl-C, SIGTERM and
SIGHUP end a command with one plain line and exit code 128 + the signal's number (130 for
Ctrl-C): the first raises in the main thread, so worker processes are killed and a half-written
results folder is removed on the way out; any further one is ignored until then.
"""

from __future__ import annotations

import difflib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from franchise_sim.analysis.comparison import BaselineError, choose_baseline
from franchise_sim.engine.runner import (
    NonFiniteResultError,
    Progress,
    available_cores,
    pool_workers,
    run_setting_bounds,
)
from franchise_sim.outputs.folders import (
    FolderKind,
    OutputFolderError,
    ResultsFolderError,
    check_output_folder,
    redraw,
    save_results,
    shown,
)
from franchise_sim.scenario.errors import ScenarioError, safe_text
from franchise_sim.scenario.schema import Scenario, unusual_values
from franchise_sim.scenario.shelf import (
    DEFAULT_STARTER,
    ShelfError,
    find_scenario,
    load_scenario,
    short_name,
)

EXIT_BAD_INPUT = 2
EXIT_WORKER_LOST = 1

_Command = TypeVar("_Command", bound=Callable[..., Any])

_OUTPUT = "franchise_sim.output"
"""Key in the click context's meta: where a writing command has written (None: not yet)."""

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that end a command plainly."""


class _Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl-C is, so the same cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stopped(signum: int, meta: dict[str, Any]) -> NoReturn:
    """End a command stopped by a signal: one plain line, exit code 128 + the signal's number."""
    if _OUTPUT not in meta:
        message = "interrupted"
    elif meta[_OUTPUT] is None:
        message = "interrupted; nothing was written"
    else:
        message = f"interrupted after writing {meta[_OUTPUT]}/"
    with suppress(OSError):  # standard error may have gone with the terminal (SIGHUP)
        click.echo(f"franchise-sim: {message}", err=True)
    raise click.exceptions.Exit(128 + signum)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """While a command runs, the first stop signal raises in the main thread; later ones wait.

    Ctrl-C raises ``KeyboardInterrupt`` as Python's own handler does; SIGTERM and SIGHUP raise
    its subclass ``_Signalled``, so workers are killed and staging folders removed for them too
    (their default would end the process on the spot). Once one has arrived, the rest are
    ignored (SIG_IGN, which outlasts the interpreter's own exit): a second Ctrl-C can neither
    cut the cleanup short nor kill the process before its line and exit code. Only the main
    thread can set handlers; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for each in before:  # not a handler: Python resets those as it exits
            signal.signal(each, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise _Signalled(signum)

    # A signal ignored on the way in stays ignored (nohup, a background job of a script).
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    before = {signum: was for signum, was in before.items() if was is not signal.SIG_IGN}
    for signum in before:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        if not stopping:  # called in-process (a test, a script): leave things as they were
            for signum, handler in before.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)


class _Commands(click.Group):
    """The command group, ending a command on a stop signal with one line, not a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line with the stop signals handled (see ``_stop_on_signals``)."""
        with _stop_on_signals():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a Ctrl-C or stop signal ends it with one line (``_stopped``)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            _stopped(exc.signum if isinstance(exc, _Signalled) else signal.SIGINT, ctx.meta)


def _printable(message: str) -> str:
    """A message safe for the terminal: each line's control characters escaped, none cut."""
    return "\n".join(safe_text(line, None) for line in message.split("\n"))


def _fail(message: str) -> NoReturn:
    click.echo(_printable(f"franchise-sim: {message}"), err=True)
    sys.exit(EXIT_BAD_INPUT)


def _warn_unusual(path: str, model: Scenario) -> None:
    """Print a warning line on standard error for each unusual value of the scenario."""
    for note in unusual_values(model):
        click.echo(_printable(f"{path}: warning: {note}"), err=True)


def _baseline_option(default: str) -> Callable[[_Command], _Command]:
    """The --baseline option of a command that compares arms; ``default`` for its help."""
    return click.option(
        "--baseline",
        metavar="ARM",
        help=f"The arm every other arm is compared with [default: {default}].",
    )


def _bad_baseline(exc: BaselineError) -> NoReturn:
    """End a command whose --baseline names no arm: one line naming the arms there are."""
    _fail(f"--baseline {safe_text(exc.baseline)}: no such arm; the arms are {', '.join(exc.arms)}")


def _load(path: str) -> Scenario:
    try:
        model = load_scenario(path)
    except ScenarioError as exc:
        _fail(str(exc))
    _warn_unusual(path, model)
    return model


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="franchise-sim")
def main() -> None:
    """Buy a franchise or start independently? Simulate both, side by side."""


@contextmanager
def _progress_bar(
    total: int, *, quiet: bool, delay: float = 0.5, doing: str = "Simulating"
) -> Iterator[Progress | None]:
    """A bar of replications done, rate and time left, on a terminal and for long runs only.

    Nothing is shown when standard error is not a terminal, with ``--quiet``, or when the run
    ends within ``delay`` seconds. ``doing`` heads the bar.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="run", desc=doing, delay=delay, leave=False) as bar:

        def advance(done: int) -> None:
            bar.update(done)

        yield advance


def _simulation_options(*, runs: str, seed: str) -> Callable[[_Command], _Command]:
    """The options of every command that simulates: --runs, --seed, --workers, --horizon-months.

    Args:
        runs: Help text of --runs.
        seed: Help text of --seed.
    """
    options = (  # within the bounds a scenario file's run section obeys
        click.option("--runs", type=click.IntRange(*run_setting_bounds("runs")), help=runs),
        click.option("--seed", type=click.IntRange(*run_setting_bounds("seed")), help=seed),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            help="Worker processes, at most the cores [default: all cores].",
        ),
        click.option(
            "--horizon-months",
            type=click.IntRange(*run_setting_bounds("horizon_months")),
            help="Months to simulate.",
        ),
    )

    def apply(command: _Command) -> _Command:
        for option in reversed(options):  # the first option listed first in --help
            command = option(command)
        return command

    return apply


def _force_option(kind: str) -> Callable[[_Command], _Command]:
    """The --force option of a command that writes a folder of ``kind`` (a run, a sweep)."""
    return click.option(
        "--force",
        is_flag=True,
        help=f"Replace the folder at --out if it holds {kind} [default: keep it and write "
        "beside it as <folder>-2, -3, ...].",
    )


def _output_folder(target: Path, *, kind: FolderKind, force: bool, scenario_file: Path) -> Path:
    """The folder a command will write, checked before simulating; exit 2 if it may not be."""
    try:
        return check_output_folder(target, kind=kind, force=force, scenario_file=scenario_file)
    except OutputFolderError as exc:
        _fail(str(exc))


def _say_where(asked: Path, written: Path, kind: FolderKind) -> None:
    """Tell the user that an earlier folder was kept and where this one went instead."""
    if written.resolve() != asked.resolve():
        what = {"results": "run", "sweep": "sweep", "attribution": "attribution"}.get(
            kind, "model check"
        )
        click.echo(
            f"{shown(asked)} holds an earlier {what}; this {what} is in {shown(written)} "
            "(pass --force to replace)",
            err=True,
        )


def _writes_atomically() -> None:
    """Mark the running command as one that writes its folder whole or not at all."""
    click.get_current_context().meta.setdefault(_OUTPUT, None)


def _written(target: Path) -> None:
    """Record that the running command has written its folder."""
    click.get_current_context().meta[_OUTPUT] = target


def _say_workers(workers: int | None, runs: int) -> None:
    """Say once on standard error when fewer workers than ``--workers`` will be started."""
    if workers is None:
        return
    used = pool_workers(runs, workers)
    if used >= workers:
        return
    if used < min(workers, available_cores()):
        runs_fill = f"{runs:,} runs fill" if runs != 1 else "1 run fills"
        why = f"{runs_fill} only {used} batch{'es' if used != 1 else ''}"
    else:
        why = "the cores of this machine"
    click.echo(f"--workers {workers}: using {used} ({why})", err=True)


@contextmanager
def _simulation(source: Path) -> Iterator[None]:
    """Turn a run the engine stopped into one plain line: bad numbers exit 2, a lost worker 1."""
    try:
        yield
    except NonFiniteResultError as exc:
        _fail(f"{source}: {exc}")
    except BrokenExecutor as exc:
        click.echo(
            f"franchise-sim: a worker process stopped unexpectedly ({exc}); nothing was written",
            err=True,
        )
        sys.exit(EXIT_WORKER_LOST)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_simulation_options(runs="Paired replications per arm.", seed="Master seed.")
@click.option(
    "--deterministic",
    is_flag=True,
    help="The plan on paper: inputs at their means, no random events, expected flows.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Results folder [default: results/<scenario file name>].",
)
@_force_option("an earlier run")
@click.option("--no-plots", is_flag=True, help="Skip the PNG figures.")
@click.option("--report", is_flag=True, help="Also write report.html (figures embedded).")
@click.option(
    "--no-attribution",
    is_flag=True,
    help="With --report, skip the attribution (where the difference comes from), which "
    "simulates the franchise's mechanisms one at a time at the same runs.",
)
@click.option(
    "--xlsx",
    is_flag=True,
    help="Also write workbook.xlsx: summary, monthly medians and bands, runs, assumptions.",
)
@click.option(
    "--summary-only",
    is_flag=True,
    help="Keep outcomes and monthly bands, not the monthly books (memory flat in runs); "
    "picked by itself when the books would not fit in memory.",
)
@click.option(
    "--executor",
    type=click.Choice(["pool", "dask"]),
    default="pool",
    show_default=True,
    help="Where the batches run: a process pool of this machine, or a local Dask cluster "
    "(one single-threaded worker process per core; needs the dask extra).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run the batches on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786).",
)
@_baseline_option("independent")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no printed comparison.")
def run(
    scenario: str,
    runs: int | None,
    seed: int | None,
    workers: int | None,
    horizon_months: int | None,
    deterministic: bool,
    out_dir: str | None,
    force: bool,
    no_plots: bool,
    report: bool,
    no_attribution: bool,
    xlsx: bool,
    summary_only: bool,
    executor: str,
    scheduler: str | None,
    baseline: str | None,
    quiet: bool,
) -> None:
    """Simulate SCENARIO, print the comparison and write the results folder.

    SCENARIO is a scenario file or the name of a shipped one (e.g. auto_repair). The folder
    holds summary.csv, monthly.parquet, manifest.json, the figures as PNG, with --report
    report.html (with attribution.csv: where the franchise's difference comes from, unless
    --no-attribution) and with --xlsx workbook.xlsx. A folder holding an earlier run is kept unless
    --force is given: the new one is written beside it (results/x-2, ...). Any other non-empty
    folder is never written over. A summary-only run writes summary.parquet and
    monthly_aggregates.npz instead of monthly.parquet.
    """
    from franchise_sim.analysis.comparison import compare
    from franchise_sim.engine.runner import simulate

    _writes_atomically()
    path = _scenario_path(scenario)
    model = _load(str(path))
    try:
        baseline = choose_baseline(model.arm_names, baseline)
    except BaselineError as exc:
        _bad_baseline(exc)
    target = Path(out_dir) if out_dir else Path("results") / short_name(path.stem)
    _output_folder(target, kind="results", force=force, scenario_file=path)
    total = (1 if deterministic else model.run.runs) if runs is None else runs
    if xlsx:
        from franchise_sim.outputs.workbook import WorkbookError, check_workbook_size

        try:
            check_workbook_size(len(model.arm_names), total)
        except WorkbookError as exc:
            _fail(f"--xlsx: {exc}")
    horizon = model.run.horizon_months if horizon_months is None else horizon_months
    summary_only = _summary_only(summary_only, deterministic, model, total, horizon)
    with _executor(executor, scheduler, workers) as (pool, where):
        if pool is None:
            _say_workers(workers, total)
        elif not quiet:
            click.echo(f"Running on {where}", err=True)
        with _simulation(path), _progress_bar(total, quiet=quiet) as progress:
            results = simulate(
                model,
                runs=runs,
                seed=seed,
                workers=workers,
                horizon_months=horizon_months,
                deterministic=deterministic,
                progress=progress,
                executor=pool,
                summary_only=summary_only,
            )
        if not quiet:  # the answer first: the attribution and the figures take longer
            click.echo(compare(results, baseline).to_text())
        attribution = []
        if report and not no_attribution and not deterministic:
            from franchise_sim.analysis.attribution import attributable_arms, attribute

            arms = attributable_arms(model)
            if not quiet:
                _say_attribution_time(model, arms, results.runs, results.run_seconds)
            bar = _progress_bar(total * len(arms), quiet=quiet, doing="Attribution")
            with _simulation(path), bar as progress:
                attribution = [
                    attribute(
                        model,
                        arm,
                        runs=results.runs,
                        seed=results.seed,
                        workers=workers,
                        horizon_months=results.horizon_months,
                        progress=progress,
                        executor=pool,
                        summary_only=summary_only,
                    )
                    for arm in arms
                ]
    try:
        written = save_results(
            results,
            target,
            source=str(path),
            figures=not no_plots,
            report=report,
            xlsx=xlsx,
            force=force,
            attribution=attribution,
            baseline=baseline,
        )
    except OutputFolderError as exc:
        _fail(str(exc))
    _written(written)
    _say_where(target, written, "results")
    if quiet:
        return
    click.echo(
        f"\nResults written to {shown(written)}/ in {results.run_seconds:.1f} s of simulation."
    )
    if report:
        click.echo(f"Open {shown(written / 'report.html')} in a browser.")
    if xlsx:
        click.echo(f"Spreadsheet: {shown(written / 'workbook.xlsx')}")


ATTRIBUTION_NOTICE_SECONDS = 30.0
"""An attribution expected to take longer than this is announced, with how to skip it."""


def _say_attribution_time(
    model: Scenario, arms: tuple[str, ...], runs: int, seconds: float
) -> None:
    """Say on standard error how long the attribution should take, when that is long.

    Each attribution simulates its counterfactual arms at the run's replications, so it takes
    about the run's time scaled by the arms simulated (17 for a franchise's 8 mechanisms).
    """
    from franchise_sim.analysis.attribution import counterfactual_scenario

    simulated = sum(len(counterfactual_scenario(model, arm)[0].arm_names) for arm in arms)
    expected = seconds * simulated / len(model.arm_names)
    if expected < ATTRIBUTION_NOTICE_SECONDS:
        return
    click.echo(
        f"--report: the attribution simulates {simulated} arms at the same {runs:,} runs, about "
        f"{_duration(expected)} more (--no-attribution skips it)",
        err=True,
    )


def _duration(seconds: float) -> str:
    """Seconds as a reader says them: "40 s", "12 min", "1.5 h"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _summary_only(
    asked: bool, deterministic: bool, model: Scenario, runs: int, horizon: int
) -> bool:
    """Whether ``run`` keeps only a summary: when asked, or when the books would not fit."""
    from franchise_sim.engine.batch import scenario_columns
    from franchise_sim.engine.runner import memory_for_trajectories, trajectory_bytes

    if deterministic:
        if asked:
            _fail("--summary-only is for many runs; --deterministic is one path")
        return False
    if asked:
        return True
    width = len(scenario_columns(model))
    needed = trajectory_bytes(len(model.arm_names), runs, horizon, width)
    room = memory_for_trajectories()
    if needed <= room:
        return False
    click.echo(
        f"{runs:,} runs x {horizon} months would need {needed / 1e9:.1f} GB of monthly books "
        f"(more than {room / 1e9:.1f} GB): keeping a summary only (--summary-only)",
        err=True,
    )
    return True


@contextmanager
def _executor(kind: str, scheduler: str | None, workers: int | None) -> Iterator[tuple[Any, str]]:
    """The executor of a run and where it runs: None for the pool, or a Dask client.

    An embedded Dask cluster is closed on the way out, also when the run is interrupted (its
    futures are cancelled first, by ``simulate``). Dask missing, or a scheduler that cannot be
    reached, ends the command with one line and exit 2.
    """
    if kind == "pool" and scheduler is None:
        yield None, "a process pool of this machine"
        return
    from franchise_sim.engine.executors import ExecutorUnavailableError, dask_cluster

    stack = ExitStack()
    try:
        cluster = stack.enter_context(dask_cluster(scheduler, workers=workers or available_cores()))
    except ExecutorUnavailableError as exc:
        _fail(str(exc))
    with stack:
        yield cluster.client, cluster.where


def _scenario_path(scenario: str) -> Path:
    """The scenario file: a path as given, or a shipped scenario's file when named."""
    try:
        return find_scenario(scenario)
    except ShelfError:
        return Path(scenario)  # let the loader say the file is missing


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option(
    "--only",
    "names",
    multiple=True,
    metavar="NAME",
    help="Draw only this figure (repeatable): dashboard, customers, cash_flow, owner_cash, "
    "survival, final_cash, npv, npv_difference, break_even or payback.",
)
@_baseline_option("the run's")
def plot(results_dir: str, names: tuple[str, ...], baseline: str | None) -> None:
    """Draw the figures again from a saved RESULTS_DIR, without simulating."""
    from franchise_sim.outputs.figures import FIGURE_NAMES

    unknown = [name for name in names if name not in FIGURE_NAMES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], FIGURE_NAMES, n=1, cutoff=0.6)
        guess = f"did you mean {close[0]}? " if close else ""
        _fail(
            f"--only {safe_text(unknown[0])}: no such figure; {guess}"
            f"figures are {', '.join(FIGURE_NAMES)}"
        )
    try:
        written = redraw(results_dir, names=names or None, baseline=baseline)
    except (OutputFolderError, ResultsFolderError) as exc:
        _fail(str(exc))
    except BaselineError as exc:
        _bad_baseline(exc)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@_baseline_option("the run's")
def report(results_dir: str, baseline: str | None) -> None:
    """Write RESULTS_DIR/report.html from saved results, without simulating."""
    try:
        (written,) = redraw(results_dir, report=True, figures=False, baseline=baseline)
    except (OutputFolderError, ResultsFolderError) as exc:
        _fail(str(exc))
    except BaselineError as exc:
        _bad_baseline(exc)
    click.echo(f"wrote {written}; open it in a browser")


@main.command()
@click.argument("name")
@click.option(
    "--from",
    "source",
    default=DEFAULT_STARTER,
    show_default=True,
    help="Shipped scenario name or scenario file to start from.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="File to write [default: <name>.yaml in the current folder].",
)
def new(name: str, source: str, out_path: str | None) -> None:
    """Write a commented scenario file for your own business called NAME.

    It copies a shipped scenario (or your file) with every source comment, so each figure says
    where it came from and which ones are assumptions to replace.
    """
    from franchise_sim.scenario.files import parse_scenario
    from franchise_sim.scenario.shelf import new_scenario_text, slug

    try:
        origin = find_scenario(source)
        target = Path(out_path) if out_path else Path(f"{slug(name)}.yaml")
        text = new_scenario_text(name, origin, target=str(target))
    except (ShelfError, ScenarioError) as exc:
        _fail(str(exc))
    try:
        parse_scenario(text, source=str(target))
    except ScenarioError as exc:
        _fail(f"{origin} is not a valid scenario to start from:\n{exc}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # as `run --out` makes its folders
    except OSError as exc:
        _fail(f"{target.parent}: cannot be made a folder ({exc.strerror})")
    try:
        with target.open("x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        _fail(f"{target}: already exists; choose another --out")
    except OSError as exc:
        _fail(f"{target}: cannot be written ({exc.strerror})")
    click.echo(f"wrote {target} (from {origin.name}); edit it, then: franchise-sim run {target}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES; exit 2 if any is invalid."""
    failed = False
    for path in files:
        try:
            model = load_scenario(path)
        except ScenarioError as exc:
            click.echo(_printable(str(exc)), err=True)
            failed = True
            continue
        _warn_unusual(path, model)
        arms = ", ".join(model.arm_names)
        click.echo(_printable(f"ok: {path} ({model.name}; arms: {arms})"))
    if failed:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    click.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--set",
    "settings",
    multiple=True,
    required=True,
    metavar="PATH=V1,V2,...",
    help="A field and the values to try, e.g. arms.franchise.royalty_rate=0.04,0.06,0.08; "
    "give it twice for the full grid of two fields.",
)
@_simulation_options(runs="Paired replications per point.", seed="Master seed of every point.")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Metric to chart as NAME.png (repeatable) [default: npv_mean and "
    "survival_month_<horizon>].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Results folder [default: results/<scenario file name>_sweep].",
)
@_force_option("an earlier sweep")
@_baseline_option("independent")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no printed table.")
def sweep(
    scenario: str,
    settings: tuple[str, ...],
    runs: int | None,
    seed: int | None,
    workers: int | None,
    horizon_months: int | None,
    metrics: tuple[str, ...],
    out_dir: str | None,
    force: bool,
    baseline: str | None,
    quiet: bool,
) -> None:
    """Simulate SCENARIO at every point of a grid of one or two changed fields.

    Every point uses the same seed and runs, so run r meets the same market and events at
    every point and only the change moves the results. Values read as YAML scalars. The folder
    holds sweep.csv (one row per point, arm and metric), manifest.json and one PNG per metric.
    """
    from franchise_sim.analysis.sweeps import default_charts, metric_names, sweep_points, sweep_text
    from franchise_sim.analysis.sweeps import sweep as sweep_grid
    from franchise_sim.outputs.folders import save_sweep
    from franchise_sim.scenario.changes import SOURCE

    _writes_atomically()
    path = _scenario_path(scenario)
    model = _load(str(path))
    try:
        baseline = choose_baseline(model.arm_names, baseline)
    except BaselineError as exc:
        _bad_baseline(exc)
    grid = _sweep_grid(settings)
    try:
        points = sweep_points(model, grid)
    except ScenarioError as exc:
        _fail("--set " + str(exc).replace(f"{SOURCE}: ", "").replace("\n", "\n--set "))
    except ValueError as exc:
        _fail(f"--set: {exc}")
    horizon = model.run.horizon_months if horizon_months is None else horizon_months
    known = metric_names(horizon)
    unknown = [name for name in metrics if name not in known]
    if unknown:
        _fail(f"--metric {unknown[0]}: no such metric; metrics are {', '.join(known)}")
    target = Path(out_dir) if out_dir else Path("results") / f"{short_name(path.stem)}_sweep"
    _output_folder(target, kind="sweep", force=force, scenario_file=path)
    per_point = model.run.runs if runs is None else runs
    _say_workers(workers, per_point)
    with _simulation(path), _progress_bar(len(points) * per_point, quiet=quiet) as progress:
        frame = sweep_grid(
            model,
            grid,
            runs=runs,
            seed=seed,
            workers=workers,
            horizon_months=horizon,
            progress=progress,
            baseline=baseline,
        )
    charts = metrics or default_charts(horizon)
    try:
        written = save_sweep(
            frame, target, scenario=model, source=str(path), charts=charts, force=force
        )
    except OutputFolderError as exc:
        _fail(str(exc))
    _written(written)
    _say_where(target, written, "sweep")
    if quiet:
        return
    click.echo(sweep_text(frame))
    seconds = float(frame.attrs["run_seconds"])
    click.echo(f"\nSweep written to {shown(written)}/ in {seconds:.1f} s of simulation.")


def _sweep_grid(settings: tuple[str, ...]) -> dict[str, list[object]]:
    """The grid of ``--set PATH=V1,V2,...`` options, each value read as a YAML scalar."""
    import yaml

    grid: dict[str, list[object]] = {}
    for text in settings:
        path, equals, listed = (part.strip() for part in text.partition("="))
        if not equals or not path or not listed:
            _fail(
                f"--set {text}: write PATH=V1,V2,... (e.g. arms.franchise.royalty_rate=0.04,0.08)"
            )
        if path in grid:
            _fail(f"--set {path}: given twice; list all its values in one --set")
        values: list[object] = []
        for item in (part.strip() for part in listed.split(",")):
            try:
                value = yaml.safe_load(item) if item else None
            except yaml.YAMLError:
                value = None
            if not isinstance(value, bool | int | float | str):
                shown = f"`{item}` is not a single value" if item else "an empty value"
                _fail(f"--set {text}: {shown}; values are numbers, text or true/false")
            values.append(value)
        grid[path] = values
    return grid


EXIT_CHECK_FAILED = 1
"""Exit code of ``check-model --strict`` when a check fails."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--arm",
    default=None,
    help="The arm to attribute: a franchise, or one with other relationships "
    "[default: franchise, or the first such arm].",
)
@_simulation_options(runs="Paired replications per arm.", seed="Master seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Folder for attribution.csv, attribution.png and attribution.html "
    "[default: results/<scenario file name>-attribution].",
)
@_force_option("an earlier attribution")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no printed table.")
def attribute(
    scenario: str,
    arm: str | None,
    runs: int | None,
    seed: int | None,
    workers: int | None,
    horizon_months: int | None,
    out_dir: str | None,
    force: bool,
    quiet: bool,
) -> None:
    """Show where the difference between an arm and the independent comes from.

    Counterfactual arms switch the arm's steps on one at a time over the same markets and
    events: a franchise's mechanisms (financing, format, fees, brand, template, purchasing,
    customization limit, franchisor risk), then each other relationship it holds (a
    partnership, a marketing alliance...); each step is the paired mean change in the owner's
    NPV and in survival at year 5 (or the horizon), and the steps add up to the total
    difference. The reverse order
    is run too, and a step that depends on the order beyond its noise is named. Prints the
    table and writes a folder with attribution.csv, attribution.png and attribution.html.
    """
    from franchise_sim.analysis.attribution import (
        AttributionError,
        counterfactual_scenario,
        default_arm,
    )
    from franchise_sim.analysis.attribution import attribute as attribute_arm
    from franchise_sim.outputs.attribution_page import PAGE_FILE, save_attribution

    _writes_atomically()
    path = _scenario_path(scenario)
    model = _load(str(path))
    try:
        chosen = arm if arm is not None else default_arm(model)
        counterfactual_scenario(model, chosen)
    except AttributionError as exc:
        _fail(f"{path}: {exc}")
    target = Path(out_dir) if out_dir else Path("results") / f"{short_name(path.stem)}-attribution"
    _output_folder(target, kind="attribution", force=force, scenario_file=path)
    total = model.run.runs if runs is None else runs
    _say_workers(workers, total)
    with _simulation(path), _progress_bar(total, quiet=quiet) as progress:
        result = attribute_arm(
            model,
            chosen,
            runs=runs,
            seed=seed,
            workers=workers,
            horizon_months=horizon_months,
            progress=progress,
        )
    try:
        written = save_attribution(result, target, force=force)
    except OutputFolderError as exc:
        _fail(str(exc))
    _written(written)
    _say_where(target, written, "attribution")
    if not quiet:
        click.echo(_printable(result.to_text()))
        click.echo(f"\nOpen {shown(written / PAGE_FILE)} in a browser.")


@main.command("check-model")
@click.argument("scenarios", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Paired replications per simulation.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Master seed [default: each file's].")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes [default: all cores]."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="results/model_check",
    show_default=True,
    help="Folder for model_check.html and model_check.csv.",
)
@_force_option("an earlier model check")
@click.option("--strict", is_flag=True, help="Exit 1 if any check fails [default: exit 0].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no printed table.")
def check_model(
    scenarios: tuple[str, ...],
    runs: int,
    seed: int | None,
    workers: int | None,
    out_dir: str,
    force: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Check the model against published figures for each SCENARIO (all shipped if none).

    Survival by year against the scenario's BLS sector (years 1-5 judged, later ones shown, not
    fitted), when closures happen, the Bass closed form, the loan schedule, the franchise gap
    band and the directions of effect of franchisor failure and the brand. Writes a
    self-contained model_check.html and model_check.csv, prints the table and exits 0 when the
    checks ran, whatever they found (1 with --strict if any fails).
    """
    from franchise_sim.analysis.model_check import check_model as run_checks
    from franchise_sim.analysis.model_check import check_table, simulations_needed
    from franchise_sim.outputs.model_check_page import PAGE_FILE, save_model_check
    from franchise_sim.scenario.shelf import shipped_scenarios

    named = {name: _scenario_path(name) for name in scenarios} or shipped_scenarios()
    models = [(_load(str(path)), name) for name, path in named.items()]
    target = Path(out_dir)
    for path in named.values():  # a folder holding a scenario file is never written
        _output_folder(target, kind="model-check", force=force, scenario_file=path)
    total = sum(runs * simulations_needed(model) for model, _ in models)
    with _progress_bar(total, quiet=quiet) as progress:
        checked = run_checks(models, runs=runs, seed=seed, workers=workers, progress=progress)
    try:
        written = save_model_check(checked, target, force=force)
    except OutputFolderError as exc:
        _fail(str(exc))
    _say_where(target, written, "model-check")
    if not quiet:
        click.echo(_printable(check_table(checked)))
        click.echo(f"\nOpen {shown(written / PAGE_FILE)} in a browser.")
    if strict and not checked.passed:
        sys.exit(EXIT_CHECK_FAILED)
