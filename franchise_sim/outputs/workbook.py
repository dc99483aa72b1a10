"""The results as an Excel workbook, for advisors and lenders who work in spreadsheets.

``write_workbook`` writes ``workbook.xlsx`` with four sheets: **Summary** (the headline
comparison of ``compare``, with what replays the run), **Monthly** (per arm and month, the
median and P10/P25/P75/P90 of the key monthly figures over the businesses still open),
**Runs** (the per-run outcomes of ``results.summary``, filterable) and **Assumptions** (every
scenario field per arm, overrides resolved, uncertain inputs with their distribution and
mean). Numbers are stored as numbers with Excel number formats. openpyxl is imported only here,
so commands that write no workbook do not load it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from franchise_sim.analysis.comparison import Comparison, compare, period
from franchise_sim.analysis.statistics import Interval, Spread
from franchise_sim.engine.results import SimulationResults
from franchise_sim.scenario.distributions import mean_of

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

    from franchise_sim.scenario.schema import Arm, Scenario

WORKBOOK_FILE = "workbook.xlsx"
SHEETS = ("Summary", "Monthly", "Runs", "Assumptions")
EXCEL_MAX_ROWS = 1_048_576
"""Rows of one Excel sheet, the header included."""

USD = "#,##0"
SIGNED_USD = "+#,##0;-#,##0;0"
SHARE = "0.0%"
SHARE_EXACT = "0.0##%"
"""Shares given as inputs (11.25%, 6.0%): the digits they were written with."""
POINTS = '+0.0" pts";-0.0" pts";0.0" pts"'
MONTH = "0"
NUMBER = "#,##0.####"

MONTHLY_FIGURES = (
    ("customers", USD),
    ("revenue", USD),
    ("operating_profit", USD),
    ("cash_flow_after_loan_payments", USD),
    ("cash", USD),
)
"""Monthly figures summarised on the Monthly sheet, with their number format."""
BAND_PERCENTILES = (10.0, 25.0, 75.0, 90.0)
"""Percentiles given beside each monthly median."""

RUNS_FORMATS = {
    "final_customers": USD,
    "final_cash": USD,
    "cumulative_owner_cash_flow": USD,
    "owner_money_in": USD,
    "terminal_value": USD,
    "npv": USD,
}
"""Number formats of the Runs sheet's money and count columns."""

_PERCENT_FIELDS = frozenset(
    {
        "loan_rate_per_year",
        "discount_rate_per_year",
        "personal_exit_rate_per_year",
        "failure_rate_per_year",
        "loyal_retention_per_year",
        "casual_retention_per_year",
        "local_taste_gap",
        "customization_limit",
        "living_share_of_draw",
    }
)
"""Fields that are shares although their names do not end in ``_rate`` or ``_share``."""


class WorkbookError(ValueError):
    """The results cannot be written as a workbook (too many rows for one Excel sheet)."""


def check_workbook_size(arms: int, runs: int) -> None:
    """Check that ``arms`` x ``runs`` per-run rows fit the Runs sheet.

    Raises:
        WorkbookError: They do not; the message says how many runs would fit.
    """
    if arms * runs >= EXCEL_MAX_ROWS:
        fit = (EXCEL_MAX_ROWS - 1) // arms
        raise WorkbookError(
            f"{arms} arms x {runs:,} runs do not fit one Excel sheet "
            f"({EXCEL_MAX_ROWS:,} rows); a workbook takes at most {fit:,} runs "
            "(summary.csv holds every run)"
        )


def write_workbook(
    results: SimulationResults,
    folder: str | Path,
    record: Mapping[str, Any] | None = None,
    *,
    baseline: str | None = None,
) -> Path:
    """Write ``workbook.xlsx`` into ``folder`` and return its path.

    Args:
        results: What ``simulate`` (or ``load_results``) returned.
        folder: The results folder (or its staging folder) to write into.
        record: The manifest written beside it (``archive.manifest``), for the replay
            command; built from ``results`` if not given.
        baseline: The arm the summary's paired differences are set against; the manifest's
            (``record["baseline"]``), else ``independent``, if not given.

    Raises:
        WorkbookError: The runs do not fit one Excel sheet.
        BaselineError: ``baseline`` is not an arm of the results.
    """
    import pandas as pd

    check_workbook_size(len(results.arms), results.runs)
    if record is None:
        from franchise_sim.outputs.manifest import manifest

        record = manifest(results, baseline=baseline)
    path = Path(folder) / WORKBOOK_FILE
    comparison = compare(results, baseline if baseline is not None else record.get("baseline"))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        _summary_sheet(writer, comparison, results, record)
        monthly = monthly_bands(results)
        monthly.to_excel(writer, sheet_name="Monthly", index=False)
        sheet = writer.sheets["Monthly"]
        formats = {"open_share": SHARE, "open_runs": USD}
        for figure, number_format in MONTHLY_FIGURES:
            formats |= {c: number_format for c in monthly.columns if c.startswith(f"{figure}_")}
        _format_table(sheet, list(monthly.columns), formats, frozen="C2")
        summary = results.summary
        summary.to_excel(writer, sheet_name="Runs", index=False)
        _format_table(writer.sheets["Runs"], list(summary.columns), RUNS_FORMATS, frozen="C2")
        assumptions = assumptions_table(results)
        frame = assumptions.drop(columns="number_format")
        frame.to_excel(writer, sheet_name="Assumptions", index=False)
        sheet = writer.sheets["Assumptions"]
        _format_table(sheet, list(frame.columns), {}, frozen="C2")
        numeric = [
            i + 1 for i, c in enumerate(frame.columns) if c in ("value", "mean", "p5", "p95")
        ]
        for row, number_format in enumerate(assumptions["number_format"], start=2):
            for column in numeric:
                sheet.cell(row=row, column=column).number_format = number_format
    return path


def monthly_bands(results: SimulationResults) -> pd.DataFrame:
    """Per arm and month: the share still open and percentiles of the key monthly figures.

    The percentiles are over the runs whose business is still open at the end of that month
    (empty when none is). Cash flow after loan payments is operating profit less interest and
    principal, before the owner's draw.

    Returns:
        One row per (arm, month): ``arm``, ``month``, ``open_share``, ``open_runs``, then for
        each figure ``<figure>_p10``, ``_p25``, ``_median``, ``_p75``, ``_p90``.
    """
    import pandas as pd

    from franchise_sim.engine.monthly_aggregates import streamed_figure

    n_arms, horizon = len(results.arms), results.horizon_months
    aggregates = results.monthly_aggregates
    open_runs = (
        aggregates.open_runs
        if aggregates is not None
        else (results.series("alive") > 0.5).sum(axis=1)
    )
    columns: dict[str, Any] = {
        "arm": np.repeat(np.array(results.arms, dtype=object), horizon),
        "month": np.tile(np.arange(1, horizon + 1), n_arms),
        "open_share": results.survival_curve().reshape(-1),
        "open_runs": open_runs.reshape(-1),
    }
    for name, _ in MONTHLY_FIGURES:
        if aggregates is not None:  # from the histograms: within 0.5% (monthly_aggregates)
            low1, low2, median, high1, high2 = aggregates.percentiles(
                name, (*BAND_PERCENTILES[:2], 50.0, *BAND_PERCENTILES[2:])
            )
        else:
            alive = results.series("alive") > 0.5
            values = streamed_figure(
                name, results.scenario, results.arms, results.monthly_columns, results.trajectories
            )
            kept = np.where(alive, values, np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # months where none is open
                low1, low2, high1, high2 = np.nanpercentile(kept, BAND_PERCENTILES, axis=1)
                median = np.nanmedian(kept, axis=1)
        for stat, band in (
            ("p10", low1),
            ("p25", low2),
            ("median", median),
            ("p75", high1),
            ("p90", high2),
        ):
            columns[f"{name}_{stat}"] = np.asarray(band, dtype=float).reshape(-1)
    table = pd.DataFrame(columns)
    table["arm"] = table["arm"].astype(str)
    return table


@dataclass(frozen=True, slots=True)
class _Field:
    """One leaf of a scenario: its dotted path, value and the schema's description."""

    path: str
    value: Any
    description: str


def assumptions_table(results: SimulationResults) -> pd.DataFrame:
    """Every field of the scenario per arm, with each arm's overrides resolved.

    Fields shared by every arm (run settings, market, events) are repeated per arm, so one
    arm's rows hold all it runs on. The run settings are the ones this run used (``--runs``,
    ``--seed`` and ``--horizon-months`` replace the file's, marked ``this run``). A franchise
    arm takes its quality and learning curve from its template, so of the ``concept`` section
    it lists only ``adaptation_months``. The investment, equity and loan the arm works out are
    added as ``computed`` rows.

    Returns:
        One row per (field, arm): ``path``, ``arm``, ``value`` (a number, text, true/false,
        or an uncertain input written out), ``distribution``, ``mean``, ``p5`` and ``p95``
        (for uncertain inputs: 90% of runs draw between them), ``source`` (``shared``, an
        arm's override or its franchise terms), ``description`` and ``number_format``.
    """
    import pandas as pd

    scenario = results.scenario
    used = {
        "run.runs": results.runs,
        "run.seed": results.seed,
        "run.horizon_months": results.horizon_months,
    }
    rows: list[dict[str, Any]] = []
    order: dict[str, int] = {}
    for rank, name in enumerate(results.arms):
        for leaf in _arm_fields(scenario, scenario.arm(name)):
            order.setdefault(leaf.path, len(order))
            source = _source(scenario, name, leaf.path)
            if leaf.path in used and used[leaf.path] != leaf.value:
                leaf, source = replace(leaf, value=used[leaf.path]), "this run"
            rows.append(_assumption_row(leaf, name, source) | {"_rank": rank})
    table = pd.DataFrame(rows)
    table["_order"] = table["path"].map(order)
    table = table.sort_values(["_order", "_rank"], kind="stable").drop(columns=["_order", "_rank"])
    return table.reset_index(drop=True)


def _arm_fields(scenario: Scenario, arm: Arm) -> Iterator[_Field]:
    """The leaves an arm runs on, the shared sections first, then its own."""
    yield _Field("name", scenario.name, "Short title of the decision.")
    yield _Field("bls_sector", scenario.bls_sector, _description(scenario, "bls_sector"))
    yield _Field("label", arm.label, "Name of the arm shown in tables and plots.")
    for section in ("run", "market"):
        yield from _leaves(getattr(scenario, section), section)
    for section in ("customers", "operations", "concept", "investment", "financing", "owner"):
        model: BaseModel = getattr(arm, section)
        for leaf in _leaves(model, section):
            if (
                arm.is_franchise
                and section == "concept"
                and leaf.path != "concept.adaptation_months"
            ):
                continue  # a franchise arm takes these from its template
            yield leaf
    if arm.franchise is not None:
        yield from _leaves(arm.franchise, "franchise")
    yield from _leaves(scenario.events, "events")
    computed = (
        (
            "total_investment_usd",
            arm.total_investment_usd(),
            "Everything spent before opening, the franchise fee included, plus working capital.",
        ),
        (
            "equity_usd",
            arm.equity_usd(),
            "Owner's equity actually put in (never more than the investment needs).",
        ),
        ("loan_usd", arm.loan_usd(), "The loan that finances what the equity does not cover."),
    )
    for name, value, text in computed:
        yield _Field(f"computed.{name}", value, text)


def _leaves(model: BaseModel, prefix: str) -> Iterator[_Field]:
    """Every value of a section, nested sections walked, seasonality one row per month."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}.{name}"
        if value is None:
            continue
        if isinstance(value, BaseModel) and not _is_distribution(value):
            yield from _leaves(value, path)
        elif isinstance(value, tuple):
            for i, item in enumerate(value, start=1):
                yield _Field(f"{path}[{i}]", item, _description(model, name))
        else:
            yield _Field(path, value, _description(model, name))


def _description(model: BaseModel, name: str) -> str:
    return type(model).model_fields[name].description or ""


def _is_distribution(value: BaseModel) -> bool:
    return "dist" in type(value).model_fields


def _assumption_row(leaf: _Field, arm: str, source: str) -> dict[str, Any]:
    """One row of the Assumptions sheet."""
    value = leaf.value
    row: dict[str, Any] = {
        "path": leaf.path,
        "arm": arm,
        "value": value,
        "distribution": None,
        "mean": None,
        "p5": None,
        "p95": None,
        "source": source,
        "description": leaf.description,
        "number_format": _field_format(leaf.path),
    }
    if isinstance(value, BaseModel) and _is_distribution(value):
        params = value.model_dump(exclude={"dist"})
        if value.dist == "fixed":  # type: ignore[attr-defined]
            row["value"] = float(params["value"])
            return row
        p5, p95 = (float(x) for x in value.ppf(np.array([0.05, 0.95])))  # type: ignore[attr-defined]
        shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
        row |= {
            "value": f"{value.dist}({shown})",  # type: ignore[attr-defined]
            "distribution": value.dist,  # type: ignore[attr-defined]
            "mean": mean_of(value),  # type: ignore[arg-type]
            "p5": p5,
            "p95": p95,
        }
    elif isinstance(value, int) and not isinstance(value, bool):
        row["value"] = value
    return row


def _source(scenario: Scenario, arm: str, path: str) -> str:
    """Where an arm's value comes from: the shared sections, its override or its terms."""
    section, _, rest = path.partition(".")
    if section == "franchise" or path == "label":
        return f"arms.{arm}"
    if section == "computed":
        return "computed"
    override = getattr(scenario.arms[arm], section, None) if section != "run" else None
    if isinstance(override, BaseModel):
        field = rest.split(".")[0].split("[")[0]
        if field in override.model_dump(exclude_none=True):
            return f"arms.{arm} override"
    return "shared"


def _field_format(path: str) -> str:
    """The Excel number format of a field, from the units in its name."""
    name = path.rsplit(".", 1)[-1].split("[")[0]
    if "usd" in name or name == "households":
        return USD
    if (
        name.endswith(("_rate", "_share", "_drop", "_taken"))
        or "_share_" in name
        or name in _PERCENT_FIELDS
    ):
        return SHARE_EXACT
    if name.endswith("_months") or name.endswith("_month"):
        return NUMBER
    return "General"


@dataclass(frozen=True, slots=True)
class _Line:
    """One row of the Summary sheet: a label, its cells and their number format."""

    label: str
    cells: tuple[float | str | None, ...]
    number_format: str = "General"


def _summary_sheet(
    writer: pd.ExcelWriter,
    comparison: Comparison,
    results: SimulationResults,
    record: Mapping[str, Any],
) -> None:
    """The headline comparison, the paired differences of every pair and what replays the run.

    The pairs with the baseline come first, then (three arms or more) every other pair.
    """
    labels = _unique_labels(comparison)
    pct = f"{comparison.discount_rate_per_year:.0%}"
    levels: list[_Line] = []
    for month in comparison.arms[0].survival:
        cells = tuple(a.survival[month] for a in comparison.arms)
        levels.append(_Line(f"Open after {period(month)}", cells, SHARE))
    spreads = (
        (f"NPV to the owner at {pct}, USD", "npv", USD),
        (f"Customers at month {comparison.horizon_months} if open", "final_customers", USD),
        ("Break-even month", "break_even_month", MONTH),
        ("Final cash, USD", "final_cash", USD),
    )
    for title, metric, number_format in spreads:
        values: list[Spread] = [getattr(a, metric) for a in comparison.arms]
        for stat, name in (("median", "median"), ("p10", "P10"), ("p90", "P90")):
            cells = tuple(getattr(s, stat) for s in values)
            levels.append(_Line(f"{title}: {name}", cells, number_format))
        if metric == "break_even_month":
            cells = tuple(a.break_even_share for a in comparison.arms)
            levels.append(_Line("Share reaching break-even", cells, SHARE))
    blocks: list[tuple[list[str], list[_Line]]] = [(["Measure", *labels], levels)]
    names = {a.arm: label for a, label in zip(comparison.arms, labels, strict=True)}
    for contrast in comparison.pairs:
        lines = [
            _interval_line(f"Open after {period(m)}, points", gap, POINTS)
            for m, gap in contrast.survival_points.items()
        ]
        lines += [
            _interval_line("NPV to the owner, USD", contrast.npv, SIGNED_USD),
            _interval_line(
                "Customers at horizon (a closed business counts 0)",
                contrast.final_customers,
                SIGNED_USD,
            ),
            _interval_line("Final cash, USD", contrast.final_cash, SIGNED_USD),
        ]
        if not comparison.deterministic:
            better = (contrast.probability_npv_better,)
            lines.append(_Line("Share of runs where its NPV is higher", better, SHARE))
        head = f"{names[contrast.arm]} minus {names[contrast.baseline]}: paired mean"
        blocks.append(([head, "Estimate", "95% low", "95% high"], lines))
    kind = "plan on paper (inputs at their means)" if comparison.deterministic else "Monte Carlo"
    about = [
        _Line("Scenario", (comparison.scenario_name,)),
        _Line("Scenario file", (record.get("scenario_file") or "",)),
        _Line("Seed", (comparison.seed,), MONTH),
        _Line("Runs (paired, per arm)", (comparison.runs,), USD),
        _Line("Horizon, months", (comparison.horizon_months,), MONTH),
        _Line("Kind of run", (kind,)),
        _Line("Discount rate a year", (comparison.discount_rate_per_year,), SHARE),
        _Line("Replay", (str(record.get("replay", "")),)),
        _Line("franchise-sim version", (str(record.get("franchise_sim_version", "")),)),
        _Line("Arms", (", ".join(f"{a} = {names[a]}" for a in results.arms),)),
        _Line("Baseline (the others minus it)", (f"{comparison.baseline}",)),
        _Line(
            "Other sheets",
            (
                "Monthly: per arm and month, percentiles over the businesses still open "
                "(cash flow after loan payments is before the owner's draw); Runs: one row per "
                "arm and run; Assumptions: every input per arm.",
            ),
        ),
    ]
    blocks.append((["About this run", ""], about))
    _write_blocks(writer, blocks)


def _interval_line(label: str, interval: Interval, number_format: str) -> _Line:
    return _Line(label, (interval.estimate, interval.low, interval.high), number_format)


def _unique_labels(comparison: Comparison) -> list[str]:
    """Arm labels for column heads; an arm's name is added where two labels are the same."""
    labels = [a.label for a in comparison.arms]
    return [
        label if labels.count(label) == 1 else f"{label} ({a.arm})"
        for a, label in zip(comparison.arms, labels, strict=True)
    ]


def _write_blocks(writer: pd.ExcelWriter, blocks: list[tuple[list[str], list[_Line]]]) -> None:
    """Write the Summary's tables one under another, a blank row between them.

    Column widths come from the labels and the heads of the tables; a head wraps, and the long
    texts of the last block run on into the empty cells to their right.
    """
    import pandas as pd
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    start = 0
    for head, lines in blocks:
        width = len(head) - 1
        frame = pd.DataFrame(
            [[line.label, *_cells(line.cells, width)] for line in lines], columns=head
        )
        frame.to_excel(writer, sheet_name="Summary", index=False, startrow=start)
        sheet = writer.sheets["Summary"]
        for column in range(1, width + 2):
            sheet.cell(row=start + 1, column=column).alignment = Alignment(
                wrap_text=True, horizontal="left" if column == 1 else "center", vertical="top"
            )
        for offset, line in enumerate(lines, start=start + 2):
            for column in range(2, width + 2):
                sheet.cell(row=offset, column=column).number_format = line.number_format
        start += len(lines) + 2
    sheet.freeze_panes = "B2"
    labels = [line.label for _, lines in blocks for line in lines]
    sheet.column_dimensions["A"].width = min(60, max(map(len, labels)) + 2)
    tables = [head for head, _ in blocks[:-1]]
    for column in range(2, max(map(len, tables)) + 1):
        heads = [head[column - 1] for head in tables if len(head) >= column]
        width = min(32, max(14, *(len(h) + 2 for h in heads)))
        sheet.column_dimensions[get_column_letter(column)].width = width


def _cells(values: tuple[float | str | None, ...], width: int) -> list[Any]:
    """A row's cells padded to ``width``, NaN left empty."""
    cells: list[Any] = [
        (None if math.isnan(v) else v + 0.0) if isinstance(v, float) else v for v in values
    ]  # NaN empty, -0.0 as 0
    return cells + [None] * (width - len(cells))


def _format_table(
    sheet: Worksheet, columns: list[str], formats: Mapping[str, str], *, frozen: str
) -> None:
    """Number formats by column, the header row (and key columns) frozen, a filter, widths."""
    for index, name in enumerate(columns, start=1):
        number_format = formats.get(name)
        if number_format is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = number_format
    sheet.freeze_panes = frozen
    sheet.auto_filter.ref = sheet.dimensions
    _fit_columns(sheet, most=50)


def _fit_columns(sheet: Worksheet, *, most: int) -> None:
    """Column widths from the longest text in each column (header included), capped."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows(max_row=min(sheet.max_row, 200)):
        for cell in row:
            if cell.value is None:
                continue
            value = cell.value
            text = f"{value:,.0f}" if isinstance(value, float) and abs(value) >= 1 else str(value)
            widths[cell.column] = max(widths.get(cell.column, 0), len(text))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(most, max(8, width + 2))
