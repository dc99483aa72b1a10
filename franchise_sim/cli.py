"""The ``franchise-sim`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and writes or prints the result.
Bad input ends with one plain message on standard error and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from franchise_sim.scenario import Scenario
from franchise_sim.scenario_file import ScenarioError, load_scenario

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
def run(
    scenario: str,
    runs: int | None,
    seed: int | None,
    workers: int | None,
    horizon_months: int | None,
    deterministic: bool,
    out_dir: str | None,
) -> None:
    """Simulate SCENARIO, write the results folder and print the comparison.

    The folder holds summary.csv, monthly.parquet and manifest.json.
    """
    from franchise_sim.archive import OutputFolderError, save_results
    from franchise_sim.comparison import compare
    from franchise_sim.monte_carlo import simulate

    model = _load(scenario)
    results = simulate(
        model,
        runs=runs,
        seed=seed,
        workers=workers,
        horizon_months=horizon_months,
        deterministic=deterministic,
    )
    target = Path(out_dir) if out_dir else Path("results") / Path(scenario).stem
    try:
        save_results(results, target, source=scenario)
    except OutputFolderError as exc:
        _fail(str(exc))
    click.echo(compare(results).to_text())
    click.echo(f"\nResults written to {target}/ in {results.run_seconds:.1f} s of simulation.")


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
