"""The model check on paper: one self-contained HTML page, a CSV of every value, its figures.

The page holds, for each scenario, the table of checks and then every check with what it
compares, its values against the published ones, its pass rule, the runs it used and its figure
(a base64 PNG). Nothing in it is fetched from elsewhere: no script, stylesheet, font, image or
link outside the file. `save_model_check` writes the page and ``model_check.csv`` into a folder
marked as a model check (``archive.StagedFolder``): written completely or not at all, and a
user's folder never replaced.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from html import escape
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from franchise_sim.analysis.model_check import (
    CHECK_NUMBERS,
    TABLE_HEADER,
    Chart,
    CheckResult,
    Measure,
    ModelCheck,
    check_rows,
    check_title,
)
from franchise_sim.outputs.figures import PALETTE, REFERENCE_COLOUR, literal_text, png_bytes
from franchise_sim.outputs.folders import StagedFolder

PAGE_FILE = "model_check.html"
TABLE_FILE = "model_check.csv"
CSV_COLUMNS = (
    "scenario",
    "check",
    "name",
    "arm",
    "measure",
    "simulated",
    "published",
    "unit",
    "judged",
    "result",
    "tolerance",
    "runs",
)
"""Columns of ``model_check.csv``: one row per value of every check."""

_PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1050px;padding:1.5rem;
color:#222;line-height:1.45}
h2{border-bottom:2px solid #ddd;margin-top:2.4rem}h3{margin-top:1.8rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#006d2c;font-weight:700}.FAIL{color:#b30000;font-weight:700}.info{color:#666}
.muted{color:#666;font-size:.88rem}img{max-width:100%;height:auto}
"""


def draw_chart(chart: Chart, ax: Axes | None = None) -> Axes:
    """Draw a check's chart on ``ax`` (a new figure's axes if not given) and return it."""
    if ax is None:
        ax = Figure(figsize=(7.5, 3.8), layout="constrained").add_subplot()
    colours = iter(PALETTE)
    for band in chart.bands:
        ax.fill_between(
            band.x, band.low, band.high, color="#999999", alpha=0.25, label=literal_text(band.label)
        )
    for line in chart.lines:
        label = literal_text(line.label) if line.label else None
        if line.style == "bars":
            colour = PALETTE[0]
            error = None
            if line.low and line.high:
                error = [
                    [y - lo for y, lo in zip(line.y, line.low, strict=True)],
                    [hi - y for y, hi in zip(line.y, line.high, strict=True)],
                ]
            ax.bar(line.x, line.y, width=0.6, color=colour, alpha=0.8, label=label)
            if error is not None:
                ax.errorbar(line.x, line.y, yerr=error, fmt="none", color="#222222", capsize=4)
        elif line.style == "points":
            ax.plot(line.x, line.y, "o", color=REFERENCE_COLOUR, markersize=2.5, label=label)
        elif line.style == "dashed":
            ax.plot(line.x, line.y, "--", marker="s", color=REFERENCE_COLOUR, label=label)
        elif line.style == "step":
            ax.step(line.x, line.y, where="post", color=next(colours), label=label)
        else:
            ax.plot(line.x, line.y, color=next(colours), linewidth=2.2, label=label)
    if chart.zero_line:
        ax.axhline(0.0, color="#222222", linewidth=0.8)
    if chart.divider is not None:
        x, note = chart.divider
        ax.axvline(x, color=REFERENCE_COLOUR, linestyle=":", linewidth=1.0)
        ax.annotate(
            literal_text(note),
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
            fontsize="small",
            color=REFERENCE_COLOUR,
        )
    if chart.x_ticks:
        ax.set_xticks([x for x, _ in chart.x_ticks], [literal_text(t) for _, t in chart.x_ticks])
    ax.set_title(literal_text(chart.title))
    ax.set_xlabel(literal_text(chart.x_label))
    ax.set_ylabel(literal_text(chart.y_label))
    ax.grid(alpha=0.3)
    if any(line.label for line in chart.lines) or chart.bands:
        ax.legend(loc="best", fontsize="small")
    return ax


def charts_png(charts: tuple[Chart, ...]) -> bytes:
    """A check's charts side by side, as PNG bytes."""
    figure = Figure(figsize=(7.5 if len(charts) == 1 else 10.0, 3.8), layout="constrained")
    for i, chart in enumerate(charts):
        draw_chart(chart, figure.add_subplot(1, len(charts), i + 1))
    return png_bytes(figure, dpi=110)


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "USD" and abs(value) >= 1:
        return f"{value:,.2f}"
    if unit == "USD":
        return f"{value:.1e}" if value else "0"
    if unit == "customers":
        return f"{value:,.6f}"
    return f"{value:.1f}"


def _measures(check: CheckResult, measures: tuple[Measure, ...], caption: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.label)}</td><td class='num'>{_number(m.simulated, check.unit)}</td>"
        f"<td class='num'>{_number(m.published, check.unit)}</td></tr>"
        for m in measures
    )
    return (
        f"<table><caption class='muted'>{escape(caption)}</caption><thead><tr><th></th>"
        f"<th>simulated</th><th>published or closed form</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _check_section(check: CheckResult, title: str, image: bytes, anchor: str) -> str:
    number = CHECK_NUMBERS.get(check.key, "")
    unfitted = (
        _measures(check, check.unfitted, f"Not fitted, shown for information ({check.unit})")
        if check.unfitted
        else ""
    )
    encoded = base64.b64encode(image).decode("ascii")
    caption = "; ".join(chart.title for chart in check.charts)
    return f"""<section class="check" id="{anchor}">
<h3>{escape(number)} {escape(title)}: <span class="{check.verdict}">{check.verdict}</span></h3>
<p>{escape(check.compared)}</p>
{_measures(check, check.measures, f"Judged ({check.unit})")}
{unfitted}
<p><strong>Pass rule:</strong> {escape(check.tolerance)}. <strong>Runs:</strong>
{escape(check.runs_note)}. <strong>Source:</strong> {escape(check.source)}.</p>
<figure><img alt="{escape(caption)}" src="data:image/png;base64,{encoded}">
<figcaption class="muted">{escape(caption)}</figcaption></figure>
</section>"""


def _summary_table(rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in TABLE_HEADER)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{cell}'>{escape(cell)}</td>" if i == 4 else f"<td>{escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def model_check_html(check: ModelCheck, images: dict[tuple[int, int], bytes]) -> str:
    """The whole page.

    Args:
        check: The model check.
        images: PNG bytes of each check's chart by (scenario index, check index); see
            `render_charts`.

    Returns:
        The HTML text, every figure embedded.
    """
    sections = []
    for s, scenario in enumerate(check.scenarios):
        parts = [
            _check_section(
                result, check_title(result, scenario.scenario), images[s, c], f"s{s}-c{c}"
            )
            for c, result in enumerate(scenario.checks)
        ]
        verdict = (
            "every check passes"
            if scenario.passed
            else f"{sum(not c.passed for c in scenario.checks)} of {len(scenario.checks)} "
            "checks fail"
        )
        sections.append(
            f"""<section class="scenario" id="scenario-{s}">
<h2>{escape(scenario.scenario.name)}</h2>
<p class="muted">{escape(scenario.source or "built in Python")}; seed {scenario.seed};
{scenario.runs:,} paired runs per simulation; {verdict}.</p>
{_summary_table(check_rows(scenario))}
{"".join(parts)}
</section>"""
        )
    overall = (
        "Every check passes."
        if check.passed
        else f"{check.failures} check(s) fail: the model does not yet do what these published "
        "figures say; each section shows by how much."
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>franchise-sim model check</title><style>{_PAGE_STYLE}</style></head>
<body>
<h1>Model check</h1>
<p>The model's behaviour measured against published figures and closed forms: survival by
year against the Bureau of Labor Statistics, when closures happen, the Bass curve, the loan
schedule, the franchise survival gap the studies report, and the directions of effect a
franchise's risks should have. franchise-sim {escape(check.version)},
{check.runs:,} paired runs per simulation.</p>
<p><strong>{escape(overall)}</strong></p>
{"".join(sections)}
</body></html>
"""


def render_charts(check: ModelCheck) -> dict[tuple[int, int], bytes]:
    """Every check's chart as PNG bytes, by (scenario index, check index)."""
    return {
        (s, c): charts_png(result.charts)
        for s, scenario in enumerate(check.scenarios)
        for c, result in enumerate(scenario.checks)
    }


def model_check_csv(check: ModelCheck) -> str:
    """Every value of every check as CSV text, one row per value (`CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for scenario in check.scenarios:
        for result in scenario.checks:
            for judged, measures in ((True, result.measures), (False, result.unfitted)):
                for m in measures:
                    writer.writerow(
                        (
                            scenario.scenario.name,
                            CHECK_NUMBERS.get(result.key, result.key),
                            result.name,
                            result.arm or "",
                            m.label,
                            repr(float(m.simulated)),
                            "" if math.isnan(m.published) else repr(float(m.published)),
                            result.unit,
                            judged,
                            result.verdict if judged else "info",
                            result.tolerance,
                            result.runs,
                        )
                    )
    return buffer.getvalue()


def save_model_check(check: ModelCheck, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``model_check.html`` and ``model_check.csv`` into a model-check folder.

    Args:
        check: The model check.
        out_dir: The folder to write.
        force: Replace ``out_dir`` if it holds an earlier model check. Without it the earlier
            one is kept and this one is written beside it (``out_dir-2``, ...). A folder
            franchise-sim did not write, or one of another kind, is never written.

    Returns:
        The folder written.

    Raises:
        OutputFolderError: The folder may not be written or cannot be.
    """
    images = render_charts(check)
    page = model_check_html(check, images)
    table = model_check_csv(check)
    staged = StagedFolder(out_dir, kind="model-check", force=force)
    with staged as staging:
        (staging / PAGE_FILE).write_text(page, encoding="utf-8")
        (staging / TABLE_FILE).write_text(table, encoding="utf-8")
    return staged.destination
