"""What the explorer shows: the three-panel picture and the headline numbers (no widgets)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from franchise_sim.analysis.comparison import (
    Comparison,
    compare,
    number_text,
    period,
    signed_text,
)
from franchise_sim.engine.results import SimulationResults
from franchise_sim.outputs import figures
from franchise_sim.outputs.kept_text import TextKeepingCanvas

PICTURE_SIZE = (12.0, 3.6)
"""Inches of the three-panel picture."""

PICTURE_DPI = 100
"""Resolution of the picture's PNG: 1,200 by 360 pixels."""

STEADY_SHARE = 0.6
"""A redrawn panel keeps its value axis while the new bands fit in it and span at least this
share of it (`steady_limits`)."""

STEADY_EDGE = 0.01
"""How far inside a kept value axis the new bands must stay, as a share of the axis."""

# --- what the explorer shows (no widgets) ------------------------------------------------------


def picture(results: SimulationResults, figure: Figure | None = None) -> Figure:
    """The explorer's figure: customer fan, cash-flow fan and survival side by side.

    Lighter than the report's figures: fixed margins instead of a layout engine, titles at a
    fixed height (no axis text above a panel could push them up: the customer counts are
    written out in full, never with an offset), and one legend (the survival panel's, which
    names the arms and the BLS curve of the scenario's sector).

    Args:
        results: The results to draw.
        figure: A picture of earlier results to draw these into, in place: its bands, lines
            and limits take the new values and nothing else is made anew (``Picture`` says
            when that is possible). The customer and cash-flow axes stay as they were while
            the new bands fit them well (`steady_limits`), so that a slider moves the curves,
            not the axes. A new figure if not given.

    Returns:
        The figure drawn (not registered with pyplot): ``figure`` when given.

    Raises:
        ValueError: ``figure`` cannot take these results in place (``Picture.fits``).
    """
    refresh = figure is not None
    if figure is None:
        figure = Figure(figsize=PICTURE_SIZE)
        TextKeepingCanvas(figure)  # redrawn in place, its unchanged texts are not laid out anew
        figure.subplots_adjust(left=0.055, right=0.98, bottom=0.2, top=0.84, wspace=0.3)
        figure.subplots(1, 3)
    left, middle, right = figure.axes
    shown_before = [ax.get_ylim() for ax in (left, middle)]
    figures.customers(results, left, refresh=refresh)
    figures.cash_flow(results, middle, refresh=refresh)
    figures.survival(results, right, refresh=refresh)
    if refresh:
        for ax, before in zip((left, middle), shown_before, strict=True):
            _keep_steady(ax, before)
    shown = figures.fan_note(results, brief=True)
    titles = (  # at y 1: given, matplotlib does not look for texts above the panel
        f"Active customers, open businesses\n({shown})",
        f"Monthly cash flow after loan payments,\nbefore owner's pay ({shown})",
        "Share of businesses still open",
    )
    for ax, title in zip((left, middle, right), titles, strict=True):
        ax.set_title(title, fontsize=10, y=1.0)
    if refresh:  # the other sizes and the legend are as first drawn
        return figure
    left.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    for ax in (left, middle, right):
        ax.xaxis.label.set_fontsize(9)
        ax.yaxis.label.set_fontsize(9)
        ax.tick_params(labelsize=8)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    handles, labels = right.get_legend_handles_labels()
    labels = ["BLS survival of the sector" if t.startswith("BLS") else t for t in labels]
    right.legend(handles, labels, loc="best", fontsize=7.5)
    return figure


def steady_limits(
    shown: tuple[float, float], data: tuple[float, float], fitted: tuple[float, float]
) -> tuple[float, float]:
    """The value axis a redrawn panel shows: the one shown, while the new bands fit it well.

    Args:
        shown: The axis's limits as last drawn.
        data: The lowest and highest values of the new bands and lines.
        fitted: The limits fitted to them (as a new picture's: the data and a margin).

    Returns:
        ``shown`` where the data lie within it, clear of each edge by `STEADY_EDGE` of it
        unless the fit puts that edge at the same place (the customer axis's floor at zero),
        and ``fitted`` spans at least `STEADY_SHARE` of it, so that small changes move the
        curves against the same axis and ticks; else ``fitted``.
    """
    low, high = shown
    edge = STEADY_EDGE * (high - low)
    fits = (fitted[0] == low or low + edge <= data[0]) and (
        fitted[1] == high or data[1] <= high - edge
    )
    if fits and fitted[1] - fitted[0] >= STEADY_SHARE * (high - low):
        return shown
    return fitted


def _keep_steady(ax: Axes, shown: tuple[float, float]) -> None:
    """Put back the value axis ``ax`` showed before its refit, where `steady_limits` says so."""
    fitted = ax.get_ylim()
    data = ax.dataLim.intervaly
    kept = steady_limits(shown, (float(data[0]), float(data[1])), fitted)
    if kept != fitted:
        ax.set_ylim(kept)


class Picture:
    """The explorer's picture, kept from one update to the next and redrawn in place.

    Each update gives the kept figure's bands, lines and limits the new values instead of
    drawing a new figure: its axes, ticks and texts are made once, and it is rendered on the
    same canvas. The picture is the one ``picture`` draws anew for the same results with the
    value axes it keeps (`steady_limits`). A figure is drawn anew when the results do not fit
    it (``fits``).

    Attributes:
        figure: The figure on screen; None before the first ``draw``.
    """

    def __init__(self) -> None:
        self.figure: Figure | None = None
        self._shape: tuple[object, ...] | None = None

    def fits(self, results: SimulationResults) -> bool:
        """Whether ``results`` can be drawn into the kept figure in place.

        They can when the figure shows results of the same arms, labels, horizon, runs and
        sector, and the charts can be refreshed (``figures.can_refresh``: bands, not every
        run or the plan on paper).
        """
        return (
            self.figure is not None
            and self._shape == _shape(results)
            and figures.can_refresh(results)
        )

    def draw(self, results: SimulationResults) -> bytes:
        """Draw ``results`` (in place when they fit) and return the picture as PNG bytes."""
        kept = self.figure if self.fits(results) else None
        self.figure, self._shape = None, None  # until drawn whole: never refreshed half-drawn
        figure = picture(results, kept)
        png = figures.png_bytes(figure, dpi=PICTURE_DPI)
        self.figure, self._shape = figure, _shape(results)
        return png


def _shape(results: SimulationResults) -> tuple[object, ...]:
    """What the artists and texts of a picture depend on, beside the values drawn."""
    return (
        results.arms,
        tuple(results.labels[arm] for arm in results.arms),
        results.horizon_months,
        results.runs,
        results.deterministic,
        results.summary_only,
        results.scenario.bls_sector,
    )


def headline(
    results: SimulationResults,
    comparison: Comparison | None = None,
    seconds: float | None = None,
) -> str:
    """The headline numbers as an HTML table: survival, median NPV, paired NPV difference.

    Args:
        results: The results summarised.
        comparison: Their comparison, if already computed.
        seconds: Time the update took, shown under the table if given.

    Returns:
        HTML: share open after one year and at the horizon per arm, the owner's median NPV,
        each other arm's paired NPV difference with the comparison's baseline (mean and 95%
        CI) and the share of runs where its NPV is higher; then the runs, horizon and seed.
    """
    comparison = comparison or compare(results)
    colours = figures.arm_colours(results.arms)
    months = sorted({m for m in (12, results.horizon_months) if m <= results.horizon_months})
    contrasts = {c.arm: c for c in comparison.contrasts}
    cell = 'style="text-align:right;padding:1px 10px"'
    first = 'style="text-align:left;padding:1px 10px 1px 0"'
    head = "".join(
        f'<th {cell}><span style="color:{colours[a.arm]}">&#9632;</span> {html.escape(a.label)}'
        "</th>"
        for a in comparison.arms
    )
    rows = [f"<tr><th {first}></th>{head}</tr>"]

    def row(name: str, cells: Iterable[str]) -> None:
        tds = "".join(f"<td {cell}>{c}</td>" for c in cells)
        rows.append(f"<tr><td {first}>{html.escape(name)}</td>{tds}</tr>")

    for month in months:
        row(f"Open after {period(month)}", [f"{a.survival[month]:.1%}" for a in comparison.arms])
    rate = f"{comparison.discount_rate_per_year:.0%}"
    row(f"Owner's NPV at {rate}, USD: median", [number_text(a.npv.median) for a in comparison.arms])
    blank = "&ndash;"
    row(
        f"NPV minus {results.labels[comparison.baseline].lower()}: paired mean (95% CI)",
        [
            blank
            if a.arm not in contrasts
            else f"{signed_text(contrasts[a.arm].npv.estimate)} "
            f"({signed_text(contrasts[a.arm].npv.low)} to "
            f"{signed_text(contrasts[a.arm].npv.high)})"
            for a in comparison.arms
        ],
    )
    row(
        "Runs where its NPV is higher",
        [
            blank if a.arm not in contrasts else f"{contrasts[a.arm].probability_npv_better:.0%}"
            for a in comparison.arms
        ],
    )
    note = f"{results.runs:,} paired runs x {results.horizon_months} months, seed {results.seed}"
    if seconds is not None:
        note += f"; updated in {seconds:.1f} s"
    return (
        f'<table style="border-collapse:collapse;font-size:13px">{"".join(rows)}</table>'
        f'<div style="color:#666;font-size:12px">{html.escape(note)}</div>'
    )
