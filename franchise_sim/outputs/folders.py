"""Results folders: summary.csv, monthly.parquet, manifest.json, the figures and the report.

A sweep's folder holds sweep.csv, its manifest.json and one chart per metric. Every folder this
module writes also holds ``.franchise-sim.json``, a marker saying what kind of folder it is; only
a folder with that marker is ever replaced, and only by one of the same kind when asked to
(``force``). Without ``force`` an earlier folder is kept and the new one is written beside it
under the next free name (``rep-2``, ``rep-3``, ...).

A folder is written completely or not at all: files go to a hidden staging sibling first
(``.NAME.staging-PID-XXXXXXXX``). A forced replacement swaps by rename: the old folder is renamed
to a hidden backup sibling (``.NAME.old-PID-XXXXXXXX``), the new one renamed in, and the old one
deleted last, so an interruption never loses both. Leftovers of a process that died are cleaned
up by the next write to the same folder (a backup whose folder is missing is put back).

``load_results`` reads a folder back into the same ``SimulationResults`` after checking every
file: the monthly books are stored at full precision and the per-run outcomes are recomputed from
them, so figures redrawn later match the first ones. A summary-only run's folder holds no
monthly.parquet: its outcomes are kept at full precision in summary.parquet (beside the rounded
summary.csv) and what it kept of the books in monthly_aggregates.npz. A folder is read with the
columns and counters of the relationships its scenario's arms hold (``relationships_in_use``),
as a run of that scenario keeps them; one written with more (by a run composed with every
relationship, or before runs were narrowed) reads the same, its extra columns left unread.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from franchise_sim.engine.results import SimulationResults, tool_version
from franchise_sim.outputs.manifest import manifest, sweep_manifest
from franchise_sim.scenario.errors import safe_text

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import ValidationError

    from franchise_sim.analysis.attribution import Attribution
    from franchise_sim.model.relationships.relationship import Relationships
    from franchise_sim.scenario.schema import Scenario

SUMMARY_FILE = "summary.csv"
MONTHLY_FILE = "monthly.parquet"
MANIFEST_FILE = "manifest.json"
OUTCOMES_FILE = "summary.parquet"
"""A summary-only run's per-run outcomes at full precision (there are no books to recompute)."""
AGGREGATES_FILE = "monthly_aggregates.npz"
"""A summary-only run's monthly aggregates (``monthly_aggregates.MonthlyAggregates``)."""
REPORT_FILE = "report.html"
SWEEP_FILE = "sweep.csv"
MARKER_FILE = ".franchise-sim.json"
"""The marker only franchise-sim writes: ``{"kind": "results" | "sweep" | ..., ...}``."""
ATTRIBUTION_FILE = "attribution.csv"
"""A run's attribution (``attribution.Attribution.to_csv``), optional beside its results."""

FolderKind = Literal["results", "sweep", "model-check", "attribution"]
FOLDER_KINDS: tuple[FolderKind, ...] = ("results", "sweep", "model-check", "attribution")
"""Every kind of folder franchise-sim writes."""

_MANIFEST_BYTES = 10_000_000
"""Largest manifest.json read (one is a few kilobytes: the scenario and the run settings)."""
_SHOWN_CHARACTERS = 120
"""Longest value or path quoted whole in a message; longer ones are cut in the middle."""
_KIND_WORDS: dict[str, str] = {
    "results": "a run's results",
    "sweep": "a sweep",
    "model-check": "a model check",
    "attribution": "an attribution",
}
_EARLIER: dict[str, str] = {
    "results": "an earlier run",
    "sweep": "an earlier sweep",
    "model-check": "an earlier model check",
    "attribution": "an earlier attribution",
}
_DOERS: dict[str, str] = {
    "results": "run",
    "sweep": "sweep",
    "model-check": "model check",
    "attribution": "attribution",
}


class OutputFolderError(Exception):
    """The output folder cannot be used."""


class ResultsFolderError(Exception):
    """A folder does not hold readable franchise-sim results."""


def save_results(
    results: SimulationResults,
    out_dir: str | Path,
    *,
    source: str | None = None,
    figures: bool = True,
    report: bool = False,
    xlsx: bool = False,
    force: bool = False,
    attribution: Attribution | Sequence[Attribution] | None = None,
    baseline: str | None = None,
) -> Path:
    """Write the results folder atomically and return its path.

    Args:
        results: What ``simulate`` returned.
        out_dir: The folder to write.
        source: The scenario file simulated, recorded in the manifest's replay command; a
            folder that holds it is never written over.
        figures: Also write every figure as ``<name>.png``.
        report: Also write the self-contained ``report.html``.
        xlsx: Also write ``workbook.xlsx`` (summary, monthly bands, runs, assumptions).
        force: Replace ``out_dir`` if it holds earlier results of a run. Without it they are
            kept and the new folder is written beside them under the next free name
            (``out_dir-2``, ``out_dir-3``, ...).
        attribution: Where each arm's difference comes from (``attribution.attribute``, one
            or one per arm), written as ``attribution.csv`` and shown in the report; optional
            data beside the results, so ``load_results`` reads a folder with or without it.
        baseline: The arm the others are compared with in the figures, the report and the
            workbook (``independent`` if None); recorded in the manifest, so that ``redraw``
            compares the same way.

    Returns:
        The folder written: ``out_dir``, or the free name beside it.

    Raises:
        OutputFolderError: The target cannot be used (see ``check_output_folder``) or cannot
            be written.
        WorkbookError: ``xlsx`` and more runs than one Excel sheet holds.
        BaselineError: ``baseline`` is not an arm of the results (nothing is written).
    """
    from franchise_sim.analysis.comparison import choose_baseline

    baseline = choose_baseline(results.arms, baseline)
    staged = StagedFolder(out_dir, kind="results", force=force, scenario_file=source)
    with staged as staging:
        results.summary.to_csv(staging / SUMMARY_FILE, index=False, float_format="%.2f")
        if results.monthly_aggregates is not None:
            import numpy as np

            results.summary.to_parquet(staging / OUTCOMES_FILE, index=False)
            with (staging / AGGREGATES_FILE).open("wb") as file:
                np.savez_compressed(
                    file,
                    open_runs=results.monthly_aggregates.open_runs,
                    histograms=results.monthly_aggregates.histograms,
                )
        else:
            results.monthly.to_parquet(staging / MONTHLY_FILE, index=False)
        record = manifest(results, source=source, baseline=baseline)
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if xlsx:
            from franchise_sim.outputs.workbook import write_workbook

            write_workbook(results, staging, record)
        from franchise_sim.analysis.attribution import as_attributions, attributions_csv

        attributions = as_attributions(attribution)
        if attributions:
            (staging / ATTRIBUTION_FILE).write_text(
                attributions_csv(attributions), encoding="utf-8"
            )
        if figures or report:
            from franchise_sim.outputs.figures import FIGURE_NAMES

            shown = FIGURE_NAMES if figures else ()
            _write_pictures(
                results,
                staging,
                record,
                names=shown,
                report=report,
                write=Path.write_bytes,
                attribution=attributions,
                baseline=baseline,
            )
    return staged.destination


def shown(value: object, *, limit: int = _SHOWN_CHARACTERS) -> str:
    """A value or path for a message: control characters escaped, long ones cut in the middle."""
    text = safe_text(str(value), limit=None)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}...{text[-half // 2 :]} ({len(text):,} characters)"


def folder_kind(folder: str | Path) -> FolderKind | None:
    """What franchise-sim wrote in ``folder`` (see ``FOLDER_KINDS``), or None without a marker.

    Raises:
        OutputFolderError: The marker is there but unreadable or names no known kind.
    """
    marker = Path(folder) / MARKER_FILE
    if not marker.is_file() or marker.is_symlink():
        return None
    try:
        if marker.stat().st_size > 10_000:
            raise ValueError("too large")
        kind = json.loads(marker.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, RecursionError, AttributeError):
        kind = None
    for known in FOLDER_KINDS:
        if kind == known:
            return known
    raise OutputFolderError(
        f"{shown(folder)}: its {MARKER_FILE} cannot be read, so the folder is never replaced; "
        "choose another output folder"
    )


def check_output_folder(
    target: str | Path,
    *,
    kind: FolderKind = "results",
    force: bool = False,
    scenario_file: str | Path | None = None,
) -> Path:
    """The folder a write of ``kind`` to ``target`` would fill, or why it may not be written.

    ``target`` is used if it is absent or empty. If it holds franchise-sim's folder of the same
    kind it is replaced with ``force``; without, the answer is the next free name beside it
    (``target-2``, ``target-3``, ...). Nothing is written or removed.

    Args:
        target: The folder asked for.
        kind: "results" for a run, "sweep" for a sweep.
        force: Whether an earlier folder of the same kind may be replaced.
        scenario_file: The scenario file being run; a folder holding it is never written.

    Returns:
        ``target``, or the free name beside it.

    Raises:
        OutputFolderError: ``target`` is a symbolic link, a file, the current folder or one
            holding it, the filesystem root, the home folder, a folder holding the scenario
            file, a folder franchise-sim did not write (no marker), or one of the other kind.
    """
    return StagedFolder(target, kind=kind, force=force, scenario_file=scenario_file).destination


def _resolved_target(given: Path) -> Path:
    """The absolute folder ``given`` means, before anything is created; refused if unsafe."""
    name = shown(given)
    if given.is_symlink():
        raise OutputFolderError(
            f"{name}: is a symbolic link; give the folder it points to "
            f"({shown(os.readlink(given))})"
        )
    resolved = given.resolve()
    here = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        raise OutputFolderError(f"{name}: is the filesystem root; choose another output folder")
    if resolved == here or resolved in here.parents:
        what = "is the current folder" if resolved == here else "holds the current folder"
        raise OutputFolderError(
            f"{name}: {what}, which is never written over; choose another output folder"
        )
    try:
        home: Path | None = Path.home().resolve()
    except (OSError, RuntimeError):
        home = None
    if home is not None and (resolved == home or resolved in home.parents):
        what = "is your home folder" if resolved == home else "holds your home folder"
        raise OutputFolderError(f"{name}: {what}; choose another output folder")
    return resolved


def _destination(
    given: Path, resolved: Path, *, kind: FolderKind, force: bool, scenario: Path | None
) -> tuple[Path, bool]:
    """The folder to write and whether it holds earlier results to be swapped out."""
    name = shown(given)
    if not resolved.exists():
        return resolved, False
    if not resolved.is_dir():
        raise OutputFolderError(f"{name}: is a file, not a folder; choose another output folder")
    if scenario is not None and resolved in scenario.parents:
        raise OutputFolderError(
            f"{name}: holds the scenario file being run ({shown(scenario.name)}), which is never "
            "written over; keep scenario files outside results folders"
        )
    try:
        empty = not any(resolved.iterdir())
    except OSError as exc:
        raise OutputFolderError(f"{name}: cannot be read ({_reason(exc)})") from None
    if empty:
        return resolved, False
    found = folder_kind(resolved)
    if found is None:
        if (resolved / MANIFEST_FILE).is_file():
            raise OutputFolderError(
                f"{name}: holds a {MANIFEST_FILE} but no {MARKER_FILE} (another tool's folder, or "
                "results of an older franchise-sim), so it is never replaced; choose another "
                "output folder or move it away"
            )
        raise OutputFolderError(
            f"{name}: exists and was not written by franchise-sim (no {MARKER_FILE}), so it is "
            "never replaced; choose another output folder"
        )
    if found != kind:
        doer = _DOERS[kind]
        raise OutputFolderError(
            f"{name}: holds {_KIND_WORDS[found]}, which a {doer} never replaces, forced or not; "
            "choose another output folder"
        )
    if force:
        return resolved, True
    for number in range(2, 10_000):
        beside = resolved.with_name(f"{resolved.name}-{number}")
        if not os.path.lexists(beside):
            return beside, False
    raise OutputFolderError(f"{name}: no free name beside it; choose another output folder")


def _shown_path(given: Path, resolved: Path, destination: tuple[Path, bool]) -> Path:
    """The folder written, spelled like the one asked for where that is possible."""
    folder = destination[0]
    if given.name in ("", ".."):
        return folder
    return given.with_name(folder.name)


def _reason(exc: BaseException) -> str:
    """Why an operating-system call failed, in words."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return shown(exc) or type(exc).__name__


def _staging_pattern(name: str) -> re.Pattern[str]:
    """Names of staging and backup siblings of a folder called ``name``: (what, pid)."""
    return re.compile(rf"\.{re.escape(name)}\.(staging|old)-(\d{{1,10}})-[0-9a-f]{{8}}")


def _alive(pid: int) -> bool:
    """Whether a process with this id is running (assumed so where that cannot be told)."""
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _clean_leftovers(folder: Path) -> None:
    """Remove staging and backup siblings of ``folder`` left by processes no longer running.

    A backup is the earlier folder moved aside during a swap: if ``folder`` itself is missing
    (the process died between the two renames) the backup is put back instead of removed.
    """
    pattern = _staging_pattern(folder.name)
    try:
        siblings = list(folder.parent.iterdir())
    except OSError:
        return
    stale = []
    for sibling in siblings:
        match = pattern.fullmatch(sibling.name)
        if (
            match
            and not sibling.is_symlink()
            and sibling.is_dir()
            and not _alive(int(match.group(2)))
        ):
            stale.append((match.group(1), sibling))
    for what, sibling in sorted(stale):  # backups ("old") before staging folders
        if what == "old" and not os.path.lexists(folder):
            try:
                os.rename(sibling, folder)
                continue
            except OSError:
                pass
        shutil.rmtree(sibling, ignore_errors=True)


class StagedFolder:
    """A hidden sibling folder to write into; on success it becomes the destination.

    Use it as ``with StagedFolder(target, kind="results") as staging:`` and write the files
    into ``staging``; ``destination`` then holds the folder written (``target``, or the free
    name beside it when ``target`` holds earlier results and ``force`` is not given). On any
    error or interruption (KeyboardInterrupt and SystemExit included) the staging folder is
    removed and ``target`` is left as it was. The marker file is written last, just before the
    staging folder is renamed in.
    """

    def __init__(
        self,
        target: str | Path,
        *,
        kind: FolderKind,
        force: bool = False,
        scenario_file: str | Path | None = None,
    ) -> None:
        """Check ``target`` (see ``check_output_folder``); nothing is written yet.

        Raises:
            OutputFolderError: ``target`` may not be written.
        """
        self.kind: FolderKind = kind
        self.force = force
        self._given = Path(target)
        self._staging: Path | None = None
        try:
            self._resolved = _resolved_target(self._given)
            self._scenario = Path(scenario_file).resolve() if scenario_file is not None else None
            self._plan()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of symbolic links
            raise OutputFolderError(
                f"{shown(self._given)}: cannot be written ({_reason(exc)})"
            ) from None
        self.destination = _shown_path(self._given, self._resolved, self._planned)

    def _plan(self) -> tuple[Path, bool]:
        self._planned = _destination(
            self._given, self._resolved, kind=self.kind, force=self.force, scenario=self._scenario
        )
        return self._planned

    def __enter__(self) -> Path:
        """Clean up leftovers of dead processes, then make the staging folder."""
        target = self._resolved
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _clean_leftovers(target)
            self._plan()  # a backup put back changes the answer
            staging = target.with_name(
                f".{target.name}.staging-{os.getpid()}-{secrets.token_hex(4)}"
            )
            staging.mkdir()
        except OSError as exc:
            raise OutputFolderError(
                f"{shown(self._given)}: cannot be written ({_reason(exc)})"
            ) from None
        self._staging = staging
        return staging

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Move the staging folder in on success; remove it on any error."""
        staging = self._staging
        assert staging is not None, "StagedFolder used outside a with block"
        try:
            if error is None:
                marker = {"kind": self.kind, "franchise_sim_version": tool_version()}
                (staging / MARKER_FILE).write_text(json.dumps(marker) + "\n", encoding="utf-8")
                self._commit(staging)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputFolderError(
                f"{shown(self._given)}: cannot be written ({_reason(exc)})"
            ) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if error is not None:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, staging: Path) -> None:
        """Rename the staging folder to the destination, swapping out earlier results."""
        for _attempt in range(5):
            folder, replace = self._plan()  # again: another writer may have got there first
            self.destination = _shown_path(self._given, self._resolved, self._planned)
            if replace:
                _swap(staging, folder)
                return
            try:
                os.rename(staging, folder)  # an empty folder there is replaced in the rename
                return
            except OSError:
                if not os.path.lexists(folder):
                    raise
                # it appeared since it was planned: plan again
        raise OSError(f"{folder} keeps being taken by another writer")


def _swap(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging``: old aside, new in, old removed last.

    If the new folder cannot be renamed in (or the rename is interrupted), the old one is put
    back before the error goes on.
    """
    backup = folder.with_name(f".{folder.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(folder, backup)
    try:
        os.rename(staging, folder)
    except BaseException:
        if not os.path.lexists(folder):
            os.rename(backup, folder)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def save_sweep(
    frame: pd.DataFrame,
    out_dir: str | Path,
    *,
    scenario: Scenario | None = None,
    source: str | None = None,
    charts: Sequence[str] | None = None,
    force: bool = False,
) -> Path:
    """Write a sweep folder atomically: ``sweep.csv``, ``manifest.json`` and one PNG per chart.

    Args:
        frame: What ``franchise_sim.analysis.sweeps.sweep`` returned.
        out_dir: The folder to write.
        scenario: The scenario swept, recorded in full in the manifest.
        source: The scenario file swept, recorded in the manifest's replay command; a folder
            that holds it is never written over.
        charts: Metrics to chart as ``<metric>.png``; ``default_charts`` if not given.
        force: Replace ``out_dir`` if it holds an earlier sweep. Without it the earlier sweep is
            kept and the new folder is written beside it under the next free name
            (``out_dir-2``, ``out_dir-3``, ...).

    Returns:
        The folder written: ``out_dir``, or the free name beside it.

    Raises:
        KeyError: A chart names a metric the frame does not have.
        OutputFolderError: The target cannot be used (see ``check_output_folder``) or cannot
            be written.
    """
    from matplotlib.figure import Figure

    from franchise_sim.analysis.sweeps import default_charts
    from franchise_sim.outputs.figures import png_bytes, sweep_chart

    attrs = frame.attrs
    charts = tuple(charts or default_charts(int(attrs["horizon_months"])))
    known = set(frame["metric"])
    for metric in charts:
        if metric not in known:
            raise KeyError(f"no metric {metric!r} in the sweep; it has {', '.join(sorted(known))}")
    record = sweep_manifest(frame, scenario=scenario, source=source, charts=charts)
    staged = StagedFolder(out_dir, kind="sweep", force=force, scenario_file=source)
    with staged as staging:
        frame.to_csv(staging / SWEEP_FILE, index=False)
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for metric in charts:
            page = Figure(figsize=(8.0, 4.8), layout="constrained")
            sweep_chart(frame, metric, ax=page.add_subplot())
            (staging / f"{metric}.png").write_bytes(png_bytes(page))
    return staged.destination


def _write_pictures(
    results: SimulationResults,
    folder: Path,
    record: dict[str, Any],
    *,
    names: tuple[str, ...],
    report: bool,
    write: Callable[[Path, bytes], object],
    attribution: Sequence[Attribution] = (),
    baseline: str | None = None,
) -> list[Path]:
    """Write the named figures as PNG and, if asked, the report; each figure is drawn once."""
    from franchise_sim.outputs.figures import FIGURE_NAMES, render
    from franchise_sim.outputs.report import html_report

    images = render(results, FIGURE_NAMES if report else names, baseline=baseline)
    written = [folder / f"{name}.png" for name in names]
    for path, name in zip(written, names, strict=True):
        write(path, images[name])
    if report:
        written.append(folder / REPORT_FILE)
        page = html_report(results, record, images, attribution=attribution, baseline=baseline)
        write(written[-1], page.encode("utf-8"))
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
    baseline: str | None = None,
) -> list[Path]:
    """Draw figures (and/or the report) again from a saved results folder, without simulating.

    Args:
        folder: A folder written by ``save_results``.
        names: Figures to draw; all if not given.
        report: Write ``report.html`` (with every figure) as well.
        figures: Write the PNG files.
        baseline: The arm the others are compared with; the one the run recorded (its
            manifest's ``baseline``, ``independent`` in a folder from before the choice) if
            not given.

    Returns:
        The files written.

    Raises:
        ResultsFolderError: The folder does not hold readable results.
        BaselineError: ``baseline`` is not an arm of the results (nothing is written).
        OutputFolderError: The files cannot be written.
    """
    from franchise_sim.analysis.comparison import choose_baseline
    from franchise_sim.outputs.figures import FIGURE_NAMES

    folder = Path(folder)
    results, record = _read_folder(folder)
    baseline = choose_baseline(results.arms, baseline or record.get("baseline"))
    attribution = read_attributions(folder) if report else ()
    wanted = (names or FIGURE_NAMES) if figures else ()
    try:
        return _write_pictures(
            results,
            folder,
            record,
            names=wanted,
            report=report,
            write=_replace_file,
            attribution=attribution,
            baseline=baseline,
        )
    except OSError as exc:
        raise OutputFolderError(f"{folder}: cannot be written ({exc.strerror})") from None


def read_attribution(folder: str | Path) -> Attribution | None:
    """The first arm's attribution saved beside a run's results, None without one.

    Raises:
        ResultsFolderError: The file is there but cannot be read as an attribution.
    """
    found = read_attributions(folder)
    return found[0] if found else None


def read_attributions(folder: str | Path) -> tuple[Attribution, ...]:
    """Every arm's attribution saved beside a run's results (``attribution.csv``), in order.

    Raises:
        ResultsFolderError: The file is there but cannot be read as attributions.
    """
    from franchise_sim.analysis.attribution import AttributionError, read_attributions_csv

    folder = Path(folder)
    path = folder / ATTRIBUTION_FILE
    if not os.path.lexists(path):
        return ()
    try:
        if not path.is_file() or path.stat().st_size > _MANIFEST_BYTES:
            raise _invalid(folder, f"{ATTRIBUTION_FILE} is not a regular file of a few kilobytes")
        return read_attributions_csv(path.read_text(encoding="utf-8"), ATTRIBUTION_FILE)
    except OSError as exc:
        raise _invalid(folder, f"{ATTRIBUTION_FILE} cannot be read ({_reason(exc)})") from None
    except UnicodeDecodeError:
        raise _invalid(folder, f"{ATTRIBUTION_FILE} is not UTF-8 text") from None
    except AttributionError as exc:
        raise _invalid(folder, str(exc)) from None


def saved_baseline(folder: str | Path) -> str | None:
    """The baseline a results folder's run was compared with (None: the default, or unknown).

    Raises:
        ResultsFolderError: The folder holds no readable manifest.
    """
    folder = Path(folder)
    baseline = _read_manifest(folder).get("baseline")
    return baseline if isinstance(baseline, str) else None


def load_results(folder: str | Path) -> SimulationResults:
    """Read a results folder written by ``save_results`` back into ``SimulationResults``.

    The monthly books come from ``monthly.parquet`` at full precision; closure reasons, event
    counts and franchise events from ``summary.csv``; the scenario, seed and run settings from
    ``manifest.json``. The per-run outcomes are recomputed from the books, exactly as
    ``simulate`` computed them. A summary-only run's folder has no books: its outcomes come
    from ``summary.parquet`` at full precision and its monthly aggregates from
    ``monthly_aggregates.npz``, checked against the closures the outcomes record.

    Every file is checked first: the manifest's fields and their types, the scenario it holds,
    the tables' columns and number types, no NaN or infinity in the books, each (arm,
    replication[, month]) row exactly once and the arms those of the manifest. A folder written
    by an older franchise-sim (a manifest.json but no marker) is read if it passes the checks.

    Raises:
        ResultsFolderError: "FOLDER is not a valid results folder: REASON", naming the file at
            fault, or "FOLDER: no such folder".
    """
    return _read_folder(Path(folder))[0]


def _invalid(folder: Path, reason: str) -> ResultsFolderError:
    """The one error of a folder that does not hold valid results."""
    return ResultsFolderError(f"{shown(folder)} is not a valid results folder: {reason}")


def _read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run's results folder, as a JSON object."""
    if not folder.is_dir():
        if os.path.lexists(folder):
            raise _invalid(folder, "it is a file, not a folder")
        raise ResultsFolderError(f"{shown(folder)}: no such folder")
    try:
        kind = folder_kind(folder)
    except OutputFolderError:
        raise _invalid(folder, f"its {MARKER_FILE} cannot be read") from None
    path = folder / MANIFEST_FILE
    if not os.path.lexists(path):
        raise _invalid(
            folder,
            f"it holds no {MANIFEST_FILE}; "
            "write one with `franchise-sim run SCENARIO --out FOLDER`",
        )
    if not path.is_file():
        raise _invalid(folder, f"{MANIFEST_FILE} is not a regular file")
    try:
        size = path.stat().st_size
        if size > _MANIFEST_BYTES:
            raise _invalid(folder, f"{MANIFEST_FILE} is too large for a manifest ({size:,} bytes)")
        record = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise _invalid(folder, f"{MANIFEST_FILE} cannot be read ({_reason(exc)})") from None
    except UnicodeDecodeError:
        raise _invalid(folder, f"{MANIFEST_FILE} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _invalid(
            folder,
            f"{MANIFEST_FILE} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
        ) from None
    except RecursionError:
        raise _invalid(folder, f"{MANIFEST_FILE} is nested too deeply") from None
    except ValueError:  # an integer longer than Python converts
        raise _invalid(folder, f"{MANIFEST_FILE} holds a number with too many digits") from None
    if not isinstance(record, dict):
        raise _invalid(folder, f"{MANIFEST_FILE} does not hold a JSON object")
    if kind == "sweep" or record.get("kind") == "sweep":
        raise _invalid(folder, "it holds a sweep; plot and report read the folder of a run")
    return record


def _json(value: Any) -> str:
    """A manifest value as it reads in the file, cut if long."""
    try:
        return shown(json.dumps(value))
    except (TypeError, ValueError, RecursionError):
        return type(value).__name__


def _first_problem(exc: ValidationError) -> str:
    """The first problem pydantic found: field path and message, without its links."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"])
    message = message[:1].lower() + message[1:]
    # The schema's own sentence is shown whole; only a runaway value inside it is cut.
    return shown(f"{where}: {message}" if where else message, limit=400)


@dataclass(frozen=True)
class _Settings:
    """What the manifest says about the run."""

    scenario: Scenario
    arms: tuple[str, ...]
    seed: int
    runs: int
    horizon_months: int
    deterministic: bool
    run_seconds: float
    summary_only: bool


def _settings(folder: Path, record: dict[str, Any]) -> _Settings:
    """The run settings of a manifest, each field checked."""
    from pydantic import ValidationError

    from franchise_sim.scenario.schema import RunSettings, Scenario

    def field(name: str) -> Any:
        if name not in record:
            raise _invalid(folder, f"{MANIFEST_FILE}: {name} is missing")
        return record[name]

    def bad(name: str, what: str) -> ResultsFolderError:
        return _invalid(
            folder, f"{MANIFEST_FILE}: {name} is not {what} (it is {_json(field(name))})"
        )

    numbers: dict[str, int] = {}
    for name in ("seed", "runs", "horizon_months"):
        if type(field(name)) is not int:
            raise bad(name, "a whole number")
        numbers[name] = field(name)
    try:
        RunSettings.model_validate(numbers, strict=True)
    except ValidationError as exc:
        raise _invalid(folder, f"{MANIFEST_FILE}: {_first_problem(exc)}") from None
    if type(field("deterministic")) is not bool:
        raise bad("deterministic", "true or false")
    summary_only = record.get("summary_only", False)  # absent before summary-only runs
    if type(summary_only) is not bool:
        raise bad("summary_only", "true or false")
    seconds = field("run_seconds")
    if type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0:
        raise bad("run_seconds", "a number of seconds")
    arms = field("arms")
    if not isinstance(arms, list) or not arms or not all(isinstance(a, str) for a in arms):
        raise bad("arms", "a list of arm names")
    twice = [arm for i, arm in enumerate(arms) if arm in arms[:i]]
    if twice:
        raise _invalid(folder, f"{MANIFEST_FILE}: arms names {shown(twice[0])!r} twice")
    baseline = record.get("baseline")  # absent before the baseline could be chosen
    if baseline is not None and baseline not in arms:
        raise bad("baseline", "one of its arms")
    if not isinstance(field("scenario"), dict):
        raise bad("scenario", "a scenario")
    try:
        scenario = Scenario.model_validate(field("scenario"))
    except ValidationError as exc:
        problem = _first_problem(exc)
        raise _invalid(
            folder, f"{MANIFEST_FILE}: the scenario it holds is invalid: {problem}"
        ) from None
    except RecursionError:
        raise _invalid(
            folder, f"{MANIFEST_FILE}: the scenario it holds is nested too deeply"
        ) from None
    except (TypeError, ValueError) as exc:
        raise _invalid(
            folder, f"{MANIFEST_FILE}: the scenario it holds is invalid ({shown(exc)})"
        ) from None
    if tuple(arms) != scenario.arm_names:
        raise _invalid(
            folder,
            f"{MANIFEST_FILE}: arms ({shown(', '.join(arms))}) do not match the arms of the "
            f"scenario it holds ({shown(', '.join(scenario.arm_names))})",
        )
    return _Settings(
        scenario=scenario,
        arms=tuple(arms),
        seed=numbers["seed"],
        runs=numbers["runs"],
        horizon_months=numbers["horizon_months"],
        deterministic=field("deterministic"),
        run_seconds=float(seconds),
        summary_only=summary_only,
    )


def _read_table(folder: Path, name: str, read: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    """One table of the folder, read whole; any failure is blamed on that file."""
    path = folder / name
    if not os.path.lexists(path):
        raise _invalid(folder, f"it holds no {name}")
    if not path.is_file():
        raise _invalid(folder, f"{name} is not a regular file")
    try:
        table = read(path)
    except Exception as exc:  # pandas and pyarrow raise many kinds; each means "unreadable"
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        why = shown(why.replace(str(path), name).strip() or type(exc).__name__, limit=200)
        raise _invalid(folder, f"{name} cannot be read ({why})") from None
    if len(table) == 0:
        raise _invalid(folder, f"{name} holds no rows")
    return table


_LIMIT = 2**31
"""Largest count of events a summary may hold."""


def _check_columns(
    folder: Path,
    name: str,
    table: pd.DataFrame,
    *,
    required: Sequence[str],
    numbers: Sequence[str],
    whole: dict[str, tuple[int, int]],
    may_be_empty: Sequence[str] = (),
) -> None:
    """Check that the columns are there, hold numbers, finite ones, whole where they count.

    Args:
        folder: The folder, for the message.
        name: The file, for the message.
        table: What the file holds.
        required: Columns that must be there.
        numbers: Columns of numbers, where present (true/false counts as a number).
        whole: Columns of whole numbers, each with its lowest and highest value.
        may_be_empty: Columns that may be empty (NaN) where they do not apply.
    """
    import numpy as np
    import pandas as pd

    for column in required:
        if column not in table.columns:
            raise _invalid(folder, f"{name} has no column {shown(column)}")
    for column in (c for c in numbers if c in table.columns):
        values = table[column]
        if not pd.api.types.is_numeric_dtype(values):
            text = (pd.to_numeric(values, errors="coerce").isna() & values.notna()).to_numpy()
            row = int(np.flatnonzero(text)[0]) if text.any() else 0
            raise _invalid(
                folder,
                f"{name}: column {column} holds text where numbers belong "
                f"(row {row + 1}: {shown(repr(values.iloc[row]))})",
            )
        numeric = values.to_numpy(dtype=float, na_value=np.nan)
        wrong = np.isinf(numeric) if column in may_be_empty else ~np.isfinite(numeric)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            what = "infinity" if column in may_be_empty else "NaN or infinity"
            raise _invalid(folder, f"{name}: column {column} holds {what} (row {row + 1})")
        if column in whole:
            low, high = whole[column]
            with np.errstate(invalid="ignore"):
                wrong = (numeric != np.floor(numeric)) | (numeric < low) | (numeric > high)
            wrong &= ~np.isnan(numeric)
            if wrong.any():
                row = int(np.flatnonzero(wrong)[0])
                value = float(numeric[row])
                number = f"{value:.0f}" if value.is_integer() and abs(value) < 1e15 else repr(value)
                raise _invalid(
                    folder,
                    f"{name}: column {column} holds {shown(number)} where whole numbers from "
                    f"{low:,} to {high:,} belong (row {row + 1})",
                )


def _row_keys(
    folder: Path,
    name: str,
    table: pd.DataFrame,
    arms: tuple[str, ...],
    sizes: tuple[int, ...],
    columns: tuple[str, ...],
) -> Any:
    """Each row's place in the (arm, replication[, month]) grid; every place exactly once."""
    import numpy as np

    order = {arm: i for i, arm in enumerate(arms)}
    codes = table["arm"].map(order)
    unknown = codes.isna().to_numpy()
    if unknown.any():
        stray = table["arm"].iloc[int(np.flatnonzero(unknown)[0])]
        raise _invalid(
            folder,
            f"{name}: arm {shown(repr(stray))} is not one of the manifest's arms "
            f"({shown(', '.join(arms))})",
        )
    key = codes.to_numpy(dtype=np.int64)
    offsets = {"replication": 0, "month": 1}
    for column, size in zip(columns, sizes[1:], strict=True):
        key = key * size + table[column].to_numpy(dtype=np.int64) - offsets[column]
    ranked = np.sort(key)
    again = np.flatnonzero(ranked[1:] == ranked[:-1])
    if again.size:
        place = int(ranked[again[0]])
        parts = []
        for column, size in zip(reversed(columns), reversed(sizes[1:]), strict=True):
            parts.append(f"{column} {place % size + offsets[column]}")
            place //= size
        where = ", ".join([f"arm {shown(arms[place])}", *reversed(parts)])
        raise _invalid(folder, f"{name}: the row of {where} appears more than once")
    expected = math.prod(sizes)
    if len(key) != expected:
        grid = " x ".join(
            f"{size:,} {word}"
            for size, word in zip(sizes, ("arms", "runs", "months"), strict=False)
        )
        raise _invalid(
            folder,
            f"{name} holds {len(key):,} rows where the manifest's {grid} need {expected:,}",
        )
    return key


@dataclass(frozen=True)
class _Added:
    """Columns a version added that are zero in every folder written before it."""

    version: tuple[int, ...]
    monthly_columns: tuple[str, ...]
    summary_columns: tuple[str, ...]


ADDED_IN_0_2 = _Added((0, 2), ("asset_sale", "closure_costs"), ("competitor_exit",))
"""Model v2's new columns: a closure's asset sale and costs, the count of rivals that left.

Before 0.2 no business sold its assets or paid closure costs in its books and no rival ever
left, so a folder written by 0.1 reads with these at zero.
"""


def _written_before(record: dict[str, Any], version: tuple[int, ...]) -> bool:
    """Whether the manifest says an older franchise-sim than ``version`` wrote the folder."""
    written = str(record.get("franchise_sim_version", ""))
    parts = []
    for part in written.split(".")[: len(version)]:
        if not part.isdigit():
            return False  # unknown: read as it is, the checks below say what is missing
        parts.append(int(part))
    return bool(parts) and tuple(parts) < version


def _with_zeros(table: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``table`` with every missing one of ``columns`` added, all zeros (a month: never)."""
    from franchise_sim.engine.results import is_month_counter

    missing = {
        name: math.nan if is_month_counter(name) else 0.0
        for name in columns
        if name not in table.columns
    }
    return table.assign(**missing) if missing else table


def _older_columns(record: dict[str, Any], kind: str) -> tuple[str, ...]:
    """The columns of ``kind`` (monthly or summary) the folder's version did not write yet."""
    # The relationships besides the franchise (0.3) need no entry: a folder is read with the
    # columns of those its scenario's arms hold (`relationships_in_use`), and no arm of a
    # scenario written before 0.3 holds one.
    added = (ADDED_IN_0_2,)
    return tuple(
        name
        for version in added
        if _written_before(record, version.version)
        for name in getattr(version, f"{kind}_columns")
    )


def _read_folder(folder: Path) -> tuple[SimulationResults, dict[str, Any]]:
    """The results in a folder and its manifest, after checking every file against the others."""
    import numpy as np
    import pandas as pd

    from franchise_sim.engine.batch import (
        counter_names,
        monthly_columns,
        relationships_in_use,
        summary_columns,
    )
    from franchise_sim.engine.outcomes import outcome_table
    from franchise_sim.engine.results import is_month_counter
    from franchise_sim.model.books import SHOCK_NAMES

    record = _read_manifest(folder)
    settings = _settings(folder, record)
    arms, runs, horizon = settings.arms, settings.runs, settings.horizon_months
    # The columns a run of the scenario keeps; a folder written with more (before runs kept
    # only the relationships in use, or by a run composed with every one) holds them too.
    used = relationships_in_use(settings.scenario)
    columns = monthly_columns(used)

    summary_file = OUTCOMES_FILE if settings.summary_only else SUMMARY_FILE
    summary = _read_table(
        folder,
        summary_file,
        pd.read_parquet
        if settings.summary_only
        else lambda path: pd.read_csv(path, keep_default_na=False, na_values=[""]),
    )
    summary = _with_zeros(summary, _older_columns(record, "summary"))
    outcomes, counters = summary_columns(used), counter_names(used)
    months = tuple(name for name in outcomes if name.endswith("_month"))  # NaN: never
    counts = tuple(name for name in counters if not is_month_counter(name))
    events = (*counters, "closure_reason", *SHOCK_NAMES)
    _check_columns(  # the outcomes are recomputed from the books: only these are needed
        folder,
        summary_file,
        summary,
        required=("arm", "replication", *events) + (outcomes if settings.summary_only else ()),
        numbers=("replication", *outcomes, *SHOCK_NAMES),
        whole={
            "replication": (0, runs - 1),
            **{name: (0, _LIMIT) for name in (*counts, *SHOCK_NAMES)},
            **{name: (1, horizon) for name in months},
        },
        may_be_empty=months,
    )
    keys = _row_keys(folder, summary_file, summary, arms, (len(arms), runs), ("replication",))
    summary = summary.iloc[np.argsort(keys)]
    if settings.summary_only:
        return _summary_only_results(folder, settings, summary, used), record

    monthly = _read_table(folder, MONTHLY_FILE, pd.read_parquet)
    monthly = _with_zeros(monthly, _older_columns(record, "monthly"))
    _check_columns(
        folder,
        MONTHLY_FILE,
        monthly,
        required=("arm", "replication", "month", *columns),
        numbers=("replication", "month", *columns),
        whole={"replication": (0, runs - 1), "month": (1, horizon)},
    )
    sizes = (len(arms), runs, horizon)
    keys = _row_keys(folder, MONTHLY_FILE, monthly, arms, sizes, ("replication", "month"))
    flat = np.empty((len(keys), len(columns)))
    flat[keys] = monthly[list(columns)].to_numpy(dtype=float)
    books = flat.reshape(len(arms), runs, horizon, len(columns))

    def per_run(name: str) -> Any:
        return _per_run(summary, name, (len(arms), runs))

    reasons = _closure_reasons(summary, (len(arms), runs))
    first_arm = summary.iloc[:runs]
    scenario = settings.scenario
    results = SimulationResults(
        scenario=scenario,
        seed=settings.seed,
        runs=runs,
        horizon_months=horizon,
        deterministic=settings.deterministic,
        arms=arms,
        monthly_columns=columns,
        kept_books=books,
        outcomes=outcome_table(
            scenario,
            arms,
            columns,
            books,
            {name: np.nan_to_num(per_run(name), nan=0.0) for name in counters},
            seed=settings.seed,
            deterministic=settings.deterministic,
        ),
        closure_reasons=reasons.astype(str),
        shock_counts={n: first_arm[n].to_numpy(dtype=np.int64) for n in SHOCK_NAMES},
        run_seconds=settings.run_seconds,
    )
    return results, record


def _per_run(summary: pd.DataFrame, name: str, shape: tuple[int, int]) -> Any:
    """One column of a summary in (arm, replication) order, as floats (NaN where empty)."""
    return summary[name].to_numpy(dtype=float, na_value=float("nan")).reshape(shape)


def _closure_reasons(summary: pd.DataFrame, shape: tuple[int, int]) -> Any:
    """Why each business closed, (arm, replication): "" where it stayed open."""
    import numpy as np

    why = summary["closure_reason"]
    reasons = np.where(why.isna().to_numpy(), "", why.astype(str).to_numpy())
    return reasons.reshape(shape).astype(str)


def _summary_only_results(
    folder: Path, settings: _Settings, summary: pd.DataFrame, used: Relationships
) -> SimulationResults:
    """A summary-only run's results: outcomes as saved, aggregates checked against them.

    ``used`` are the relationships whose counters the outcomes hold.
    """
    import numpy as np

    from franchise_sim.engine.batch import counter_names, monthly_columns, summary_columns
    from franchise_sim.engine.monthly_aggregates import N_BINS, STREAMED_FIGURES, MonthlyAggregates
    from franchise_sim.model.books import SHOCK_NAMES

    arms, runs, horizon = settings.arms, settings.runs, settings.horizon_months
    shape = (len(arms), runs)
    outcomes = {name: _per_run(summary, name, shape) for name in summary_columns(used)}
    for name in counter_names(used):
        outcomes[name] = np.nan_to_num(outcomes[name], nan=0.0)
    path = folder / AGGREGATES_FILE
    if not path.is_file():
        raise _invalid(folder, f"it holds no {AGGREGATES_FILE}")
    try:
        with np.load(path, allow_pickle=False) as stored:
            open_runs, histograms = stored["open_runs"], stored["histograms"]
    except Exception as exc:  # numpy and zipfile raise many kinds; each means "unreadable"
        raise _invalid(folder, f"{AGGREGATES_FILE} cannot be read ({shown(exc)})") from None
    cells = (len(arms), horizon)
    if (
        open_runs.shape != cells
        or histograms.shape != (len(STREAMED_FIGURES), *cells, N_BINS)
        or open_runs.dtype.kind not in "iu"
        or histograms.dtype.kind not in "iu"
    ):
        raise _invalid(
            folder,
            f"{AGGREGATES_FILE} does not hold whole counts for {len(arms)} arms x {horizon} months",
        )
    closed = outcomes["closed_month"][..., None]
    months = np.arange(1, horizon + 1)
    open_by_month = (np.isnan(closed) | (closed > months)).sum(axis=1)
    counted = histograms.sum(axis=-1)
    expected = [
        open_by_month if only else np.full(cells, runs) for only in STREAMED_FIGURES.values()
    ]
    if not (np.array_equal(open_runs, open_by_month) and np.array_equal(counted, expected)):
        raise _invalid(folder, f"{AGGREGATES_FILE} does not match the closures in {OUTCOMES_FILE}")
    aggregates = MonthlyAggregates(runs, open_runs.astype(np.int64), histograms.astype(np.int64))
    return SimulationResults(
        scenario=settings.scenario,
        seed=settings.seed,
        runs=runs,
        horizon_months=horizon,
        deterministic=settings.deterministic,
        arms=arms,
        monthly_columns=monthly_columns(used),
        kept_books=None,
        outcomes=outcomes,
        closure_reasons=_closure_reasons(summary, shape),
        shock_counts={n: summary.iloc[:runs][n].to_numpy(dtype=np.int64) for n in SHOCK_NAMES},
        run_seconds=settings.run_seconds,
        monthly_aggregates=aggregates,
    )
