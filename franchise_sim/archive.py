"""Results folders: summary.csv, monthly.parquet, manifest.json, the figures and the report.

A sweep's folder holds sweep.csv, its manifest.json and one chart per metric.

A folder is written completely or not at all: files go to a hidden sibling folder first, which
then replaces the target in one rename. An existing target is replaced only if it holds earlier
results (a manifest.json) or nothing, never an unrelated folder. ``load_results`` reads a folder
back into the same ``SimulationResults``: the monthly books are stored at full precision and the
per-run outcomes are recomputed from them, so figures redrawn later match the first ones.
"""

from __future__ import annotations

import json
import platform
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from franchise_sim.results import SimulationResults

if TYPE_CHECKING:
    import pandas as pd

    from franchise_sim.scenario import Scenario

SUMMARY_FILE = "summary.csv"
MONTHLY_FILE = "monthly.parquet"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"
SWEEP_FILE = "sweep.csv"


class OutputFolderError(Exception):
    """The output folder cannot be used."""


class ResultsFolderError(Exception):
    """A folder does not hold readable franchise-sim results."""


def manifest(results: SimulationResults, *, source: str | None = None) -> dict[str, Any]:
    """What is needed to replay a run: the resolved scenario, seed, runs, versions, timing."""
    import numpy as np
    import simpy

    from franchise_sim import __version__

    return {
        "franchise_sim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_file": source,
        "scenario_name": results.scenario.name,
        "seed": results.seed,
        "runs": results.runs,
        "horizon_months": results.horizon_months,
        "deterministic": results.deterministic,
        "arms": list(results.arms),
        "run_seconds": round(results.run_seconds, 3),
        "worker_processes": len(results.worker_pids),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "replay": (
            f"franchise-sim run {source or 'SCENARIO'} --runs {results.runs} "
            f"--seed {results.seed} --horizon-months {results.horizon_months}"
            + (" --deterministic" if results.deterministic else "")
        ),
        "scenario": results.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def save_results(
    results: SimulationResults,
    out_dir: str | Path,
    *,
    source: str | None = None,
    figures: bool = True,
    report: bool = False,
    xlsx: bool = False,
) -> Path:
    """Write the results folder atomically and return its path.

    Args:
        results: What ``simulate`` returned.
        out_dir: The folder to write; replaced whole if it holds earlier results.
        source: The scenario file simulated, recorded in the manifest's replay command.
        figures: Also write every figure as ``<name>.png``.
        report: Also write the self-contained ``report.html``.
        xlsx: Also write ``workbook.xlsx`` (summary, monthly bands, runs, assumptions).

    Raises:
        OutputFolderError: The target exists and is not an earlier results folder, or it
            cannot be written.
        WorkbookError: ``xlsx`` and more runs than one Excel sheet holds.
    """
    target = Path(out_dir)
    with staged_folder(target) as staging:
        results.summary.to_csv(staging / SUMMARY_FILE, index=False, float_format="%.2f")
        results.monthly.to_parquet(staging / MONTHLY_FILE, index=False)
        record = manifest(results, source=source)
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if xlsx:
            from franchise_sim.workbook import write_workbook

            write_workbook(results, staging, record)
        if figures or report:
            from franchise_sim.figures import FIGURE_NAMES

            shown = FIGURE_NAMES if figures else ()
            _write_pictures(
                results, staging, record, names=shown, report=report, write=Path.write_bytes
            )
    return target


def check_output_folder(target: Path) -> None:
    """Check that ``target`` may be written: absent, empty, or holding earlier results.

    Raises:
        OutputFolderError: ``target`` is a file, or a folder holding something else.
    """
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / MANIFEST_FILE).is_file())
    ):
        raise OutputFolderError(
            f"{target}: exists and does not hold franchise-sim results; choose another --out"
        )


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A hidden sibling folder to write into; on success it replaces ``target`` in one rename.

    The folder is written completely or not at all: on any error the staging folder is removed
    and ``target`` is left as it was. An existing ``target`` is replaced only if it is empty or
    holds earlier results (a ``manifest.json``), never an unrelated folder.

    Raises:
        OutputFolderError: ``target`` exists and does not hold results, or cannot be written.
    """
    check_output_folder(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; results are meant to be shared
    except OSError as exc:
        raise OutputFolderError(f"{target}: cannot be written ({exc.strerror})") from None
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputFolderError(f"{target}: cannot be written ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_sweep(
    frame: pd.DataFrame,
    out_dir: str | Path,
    *,
    scenario: Scenario | None = None,
    source: str | None = None,
    charts: Sequence[str] | None = None,
) -> Path:
    """Write a sweep folder atomically: ``sweep.csv``, ``manifest.json`` and one PNG per chart.

    Args:
        frame: What ``franchise_sim.sweeps.sweep`` returned.
        out_dir: The folder to write; replaced whole if it holds earlier results.
        scenario: The scenario swept, recorded in full in the manifest.
        source: The scenario file swept, recorded in the manifest's replay command.
        charts: Metrics to chart as ``<metric>.png``; ``default_charts`` if not given.

    Returns:
        The folder written.

    Raises:
        KeyError: A chart names a metric the frame does not have.
        OutputFolderError: The target exists and is not an earlier results folder, or it
            cannot be written.
    """
    from matplotlib.figure import Figure

    from franchise_sim.figures import png_bytes, sweep_chart
    from franchise_sim.sweeps import default_charts

    attrs = frame.attrs
    charts = tuple(charts or default_charts(int(attrs["horizon_months"])))
    known = set(frame["metric"])
    for metric in charts:
        if metric not in known:
            raise KeyError(f"no metric {metric!r} in the sweep; it has {', '.join(sorted(known))}")
    record = sweep_manifest(frame, scenario=scenario, source=source, charts=charts)
    with staged_folder(Path(out_dir)) as staging:
        frame.to_csv(staging / SWEEP_FILE, index=False)
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for metric in charts:
            page = Figure(figsize=(8.0, 4.8), layout="constrained")
            sweep_chart(frame, metric, ax=page.add_subplot())
            (staging / f"{metric}.png").write_bytes(png_bytes(page))
    return Path(out_dir)


def sweep_manifest(
    frame: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    source: str | None = None,
    charts: Sequence[str] = (),
) -> dict[str, Any]:
    """What is needed to replay a sweep: grid, seed, runs, horizon, version and a command line."""
    from franchise_sim import __version__

    attrs = frame.attrs
    grid: dict[str, list[Any]] = attrs["grid"]
    options = [
        "--set " + shlex.quote(f"{path}={','.join(map(_yaml, values))}")
        for path, values in grid.items()
    ]
    options += [
        f"--runs {attrs['runs']}",
        f"--seed {attrs['seed']}",
        f"--horizon-months {attrs['horizon_months']}",
        *(f"--metric {metric}" for metric in charts),
    ]
    record: dict[str, Any] = {
        "franchise_sim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": "sweep",
        "scenario_file": source,
        "scenario_name": attrs.get("scenario"),
        "grid": grid,
        "points": attrs["points"],
        "seed": attrs["seed"],
        "runs": attrs["runs"],
        "horizon_months": attrs["horizon_months"],
        "arms": attrs.get("arms"),
        "charts": list(charts),
        "run_seconds": attrs.get("run_seconds"),
        "replay": f"franchise-sim sweep {shlex.quote(source or 'SCENARIO')} " + " ".join(options),
    }
    if scenario is not None:
        record["scenario"] = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return record


def _yaml(value: Any) -> str:
    """A value as a YAML scalar that reads back as the same value."""
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _write_pictures(
    results: SimulationResults,
    folder: Path,
    record: dict[str, Any],
    *,
    names: tuple[str, ...],
    report: bool,
    write: Callable[[Path, bytes], object],
) -> list[Path]:
    """Write the named figures as PNG and, if asked, the report; each figure is drawn once."""
    from franchise_sim.figures import FIGURE_NAMES, render
    from franchise_sim.report import html_report

    images = render(results, FIGURE_NAMES if report else names)
    written = [folder / f"{name}.png" for name in names]
    for path, name in zip(written, names, strict=True):
        write(path, images[name])
    if report:
        written.append(folder / REPORT_FILE)
        write(written[-1], html_report(results, record, images).encode("utf-8"))
    return written


def _replace_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary sibling, so no half file is left."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with open(handle, "wb") as stream:
            stream.write(content)
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def redraw(
    folder: str | Path,
    *,
    names: tuple[str, ...] | None = None,
    report: bool = False,
    figures: bool = True,
) -> list[Path]:
    """Draw figures (and/or the report) again from a saved results folder, without simulating.

    Args:
        folder: A folder written by ``save_results``.
        names: Figures to draw; all if not given.
        report: Write ``report.html`` (with every figure) as well.
        figures: Write the PNG files.

    Returns:
        The files written.

    Raises:
        ResultsFolderError: The folder does not hold readable results.
        OutputFolderError: The files cannot be written.
    """
    from franchise_sim.figures import FIGURE_NAMES

    folder = Path(folder)
    results, record = _read_folder(folder)
    wanted = (names or FIGURE_NAMES) if figures else ()
    try:
        return _write_pictures(
            results, folder, record, names=wanted, report=report, write=_replace_file
        )
    except OSError as exc:
        raise OutputFolderError(f"{folder}: cannot be written ({exc.strerror})") from None


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ResultsFolderError(f"{folder}: no such folder")
    if not path.is_file():
        raise ResultsFolderError(
            f"{folder}: not a franchise-sim results folder (no {MANIFEST_FILE}); "
            "write one with `franchise-sim run SCENARIO --out FOLDER`"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsFolderError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(record, dict):
        raise ResultsFolderError(f"{path}: not a franchise-sim manifest")
    return record


def load_results(folder: str | Path) -> SimulationResults:
    """Read a results folder written by ``save_results`` back into ``SimulationResults``.

    The monthly books come from ``monthly.parquet`` at full precision; closure reasons, event
    counts and franchise events from ``summary.csv``; the scenario, seed and run settings from
    ``manifest.json``. The per-run outcomes are recomputed from the books, exactly as
    ``simulate`` computed them.

    Raises:
        ResultsFolderError: The folder, or one of its files, is missing or unreadable.
    """
    return _read_folder(Path(folder))[0]


def _read_folder(folder: Path) -> tuple[SimulationResults, dict[str, Any]]:
    """The results in a folder and its manifest."""
    import numpy as np
    import pandas as pd
    from pydantic import ValidationError

    from franchise_sim.outcomes import outcome_table
    from franchise_sim.replication import SHOCK_NAMES, monthly_columns
    from franchise_sim.scenario import Scenario

    record = _read_manifest(folder)
    try:
        scenario = Scenario.model_validate(record["scenario"])
        arms = tuple(str(a) for a in record["arms"])
        runs, horizon = int(record["runs"]), int(record["horizon_months"])
        monthly = pd.read_parquet(folder / MONTHLY_FILE)
        summary = pd.read_csv(folder / SUMMARY_FILE, keep_default_na=False, na_values=[""])
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ResultsFolderError(
            f"{folder}: the manifest is incomplete or invalid ({exc})"
        ) from None
    except OSError as exc:
        raise ResultsFolderError(f"{folder}: cannot be read ({exc})") from None
    columns = monthly_columns()
    expected = len(arms) * runs * horizon
    missing = [c for c in ("arm", "replication", "month", *columns) if c not in monthly.columns]
    if missing or len(monthly) != expected or len(summary) != len(arms) * runs:
        raise ResultsFolderError(
            f"{folder}: {MONTHLY_FILE} or {SUMMARY_FILE} does not match the manifest "
            f"({len(arms)} arms x {runs} runs x {horizon} months)"
        )
    order = {arm: i for i, arm in enumerate(arms)}
    monthly = monthly.assign(_arm=monthly["arm"].map(order)).sort_values(
        ["_arm", "replication", "month"]
    )
    books = monthly[list(columns)].to_numpy(dtype=float).reshape(len(arms), runs, horizon, -1)
    summary = summary.assign(_arm=summary["arm"].map(order)).sort_values(["_arm", "replication"])

    def per_run(name: str) -> Any:
        return summary[name].to_numpy().reshape(len(arms), runs)

    failed = np.nan_to_num(per_run("franchisor_failed_month").astype(float), nan=0.0)
    reasons = np.asarray(summary["closure_reason"].fillna("").astype(str)).reshape(len(arms), runs)
    first_arm = summary[summary["_arm"] == 0]
    results = SimulationResults(
        scenario=scenario,
        seed=int(record["seed"]),
        runs=runs,
        horizon_months=horizon,
        deterministic=bool(record.get("deterministic", False)),
        arms=arms,
        monthly_columns=columns,
        trajectories=books,
        outcomes=outcome_table(
            scenario, arms, columns, books, failed, per_run("brand_shocks").astype(float)
        ),
        closure_reasons=reasons.astype(str),
        shock_counts={n: first_arm[n].to_numpy(dtype=np.int64) for n in SHOCK_NAMES},
        run_seconds=float(record.get("run_seconds", 0.0)),
    )
    return results, record
