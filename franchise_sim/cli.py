"""The ``franchise-sim`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and writes or prints the result.
Bad input ends with one plain message on standard error and exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from franchise_sim.archive import OutputFolderError, ResultsFolderError, redraw, save_results
from franchise_sim.monte_carlo import Progress
from franchise_sim.scenario import Scenario
from franchise_sim.scenario_file import ScenarioError, load_scenario
from franchise_sim.shelf import DEFAULT_STARTER, ShelfError, find_scenario

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"franchise-sim: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _load(path: str) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="franchise-sim")
def main() -> None:
    """Buy a franchise or start independently? Simulate both, side by side."""


@contextmanager
def _progress_bar(total: int, *, quiet: bool, delay: float = 0.5) -> Iterator[Progress | None]:
    """A bar of replications done, rate and time left, on a terminal and for long runs only.

    Nothing is shown when standard error is not a terminal, with ``--quiet``, or when the run
    ends within ``delay`` seconds.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="run", desc="Simulating", delay=delay, leave=False) as bar:

        def advance(done: int) -> None:
            bar.update(done)

        yield advance


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--runs", type=click.IntRange(min=1), help="Paired replications per arm.")
@click.option("--seed", type=click.IntRange(min=0), help="Master seed.")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes [default: all cores]."
)
@click.option("--horizon-months", type=click.IntRange(1, 360), help="Months to simulate.")
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
@click.option("--no-plots", is_flag=True, help="Skip the PNG figures.")
@click.option("--report", is_flag=True, help="Also write report.html (figures embedded).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no printed comparison.")
def run(
    scenario: str,
    runs: int | None,
    seed: int | None,
    workers: int | None,
    horizon_months: int | None,
    deterministic: bool,
    out_dir: str | None,
    no_plots: bool,
    report: bool,
    quiet: bool,
) -> None:
    """Simulate SCENARIO, write the results folder and print the comparison.

    SCENARIO is a scenario file or the name of a shipped one (e.g. auto_repair). The folder
    holds summary.csv, monthly.parquet, manifest.json, the figures as PNG and, with --report,
    report.html.
    """
    from franchise_sim.comparison import compare
    from franchise_sim.monte_carlo import simulate

    path = _scenario_path(scenario)
    model = _load(str(path))
    total = (1 if deterministic else model.run.runs) if runs is None else runs
    with _progress_bar(total, quiet=quiet) as progress:
        results = simulate(
            model,
            runs=runs,
            seed=seed,
            workers=workers,
            horizon_months=horizon_months,
            deterministic=deterministic,
            progress=progress,
        )
    target = Path(out_dir) if out_dir else Path("results") / path.stem
    try:
        save_results(results, target, source=str(path), figures=not no_plots, report=report)
    except OutputFolderError as exc:
        _fail(str(exc))
    if quiet:
        return
    click.echo(compare(results).to_text())
    click.echo(f"\nResults written to {target}/ in {results.run_seconds:.1f} s of simulation.")
    if report:
        click.echo(f"Open {target / 'report.html'} in a browser.")


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
def plot(results_dir: str, names: tuple[str, ...]) -> None:
    """Draw the figures again from a saved RESULTS_DIR, without simulating."""
    from franchise_sim.figures import FIGURE_NAMES

    unknown = [name for name in names if name not in FIGURE_NAMES]
    if unknown:
        _fail(f"--only {unknown[0]}: no such figure; figures are {', '.join(FIGURE_NAMES)}")
    try:
        written = redraw(results_dir, names=names or None)
    except (OutputFolderError, ResultsFolderError) as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
def report(results_dir: str) -> None:
    """Write RESULTS_DIR/report.html from saved results, without simulating."""
    try:
        (written,) = redraw(results_dir, report=True, figures=False)
    except (OutputFolderError, ResultsFolderError) as exc:
        _fail(str(exc))
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
    from franchise_sim.scenario_file import parse_scenario
    from franchise_sim.shelf import new_scenario_text, slug

    try:
        origin = find_scenario(source)
        target = Path(out_path) if out_path else Path(f"{slug(name)}.yaml")
        text = new_scenario_text(name, origin, target=str(target))
    except ShelfError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{source}: cannot be read ({exc.strerror})")
    try:
        parse_scenario(text, source=str(target))
    except ScenarioError as exc:
        _fail(f"{origin} is not a valid scenario to start from:\n{exc}")
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
            click.echo(str(exc), err=True)
            failed = True
            continue
        arms = ", ".join(model.arm_names)
        click.echo(f"ok: {path} ({model.name}; arms: {arms})")
    if failed:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    click.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))
