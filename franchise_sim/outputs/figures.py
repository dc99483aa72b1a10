"""The comparison in pictures: fan charts, survival against BLS, outcome distributions.

Every function takes results (and an optional matplotlib ``ax``), draws on it and returns it;
none calls ``show()``, touches pyplot's global state or changes rcParams, so they work headless
and inside other figures. Each arm keeps one colour in every figure (``arm_colours``).

Fan charts show the median and the 50% and 90% bands across replications. Customer and cash-flow
fans cover the businesses still open that month (closure is the survival chart's story); the
owner's cumulative cash flow covers every run, a closed business keeping what it paid and drew.
Bands need runs: a deterministic result (the plan on paper) is drawn as its one path, and fewer
than ``MIN_RUNS_FOR_BANDS`` runs as every run in a thin line with their median (``fan_style``).
The paired-difference panel likewise shows each run's difference as a point when runs are few.

Text that comes from the scenario (arm labels, its name) is shown literally: everything drawn
from it passes through ``literal_text``, so a ``$`` in a label never starts matplotlib mathtext.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from matplotlib import __version__ as mpl_version
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    Formatter,
    FuncFormatter,
    MaxNLocator,
    MultipleLocator,
    PercentFormatter,
)
from matplotlib.transforms import ScaledTranslation, blended_transform_factory
from numpy.typing import NDArray

from franchise_sim.analysis.comparison import BASELINE, choose_baseline
from franchise_sim.analysis.reference import BLS_SECTOR_NAMES, BLS_SOURCE, bls_survival
from franchise_sim.analysis.statistics import probability_better
from franchise_sim.engine.monthly_aggregates import (
    RELATIVE_ACCURACY,
    STREAMED_FIGURES,
    cash_flow_after_loan_payments,
    owner_equity,
    streamed_figure,
)
from franchise_sim.engine.outcomes import owner_cash_flow
from franchise_sim.engine.results import SimulationResults

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.collections import FillBetweenPolyCollection

    from franchise_sim.analysis.attribution import Attribution

Array = NDArray[np.float64]
Panel = Callable[[SimulationResults, Axes | None], Axes]
"""A figure drawn on one axes: results and an optional ``ax`` in, the axes drawn on out."""
FanStyle = Literal["path", "runs", "bands"]
"""How a fan chart shows its runs: the one deterministic path, every run, or bands."""

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Okabe-Ito colours, readable by colour-blind viewers; ``independent`` always takes the first."""

REFERENCE_COLOUR = "#444444"
FAN_BANDS = ((5.0, 95.0, 0.15), (25.0, 75.0, 0.35))
"""(low percentile, high percentile, opacity) of the 90% and 50% bands."""
MIN_RUNS_FOR_FAN = 10
"""Months where fewer businesses of an arm are still open show no fan (too few to summarise)."""
MIN_RUNS_FOR_BANDS = 20
"""Fewer paired runs than this draw every run (a 5% to 95% band of fewer runs is their extremes)."""
MIN_RUNS_FOR_MEDIAN = 3
"""With fewer runs than this the median is one of the runs (or their mean) and is not drawn."""
LABELLED_POINTS = 5
"""The paired-difference points carry their numbers when an arm has at most this many."""
LEGEND_WIDTH = 40
"""Characters per line of a legend entry in the dashboard; longer ones are wrapped."""
TEXT_WIDTH = 48
"""Characters per line of a note inside a dashboard panel; longer lines are wrapped."""
PANEL_LABEL_WIDTH = 52
"""Characters per line of an axis label of a dashboard panel; longer ones are wrapped."""
TITLE_WIDTH = 110
"""Characters per line of the dashboard's title; longer lines are wrapped."""
DPI = 150


def literal_text(text: str) -> str:
    r"""``text`` escaped so that matplotlib draws it as written, never as mathtext.

    Matplotlib reads text between two ``$`` as math: ``Jo's $5 car wash (median $98k)``
    comes out in italics and ``$\shops$`` raises an error at draw time. Every ``$`` escaped
    leaves no math in the string, and matplotlib draws each ``\$`` as a plain ``$``. Pass
    whole strings built from scenario text (labels, names) and the figure's own words alike.
    """
    return text.replace("$", r"\$")


def arm_colours(arms: Sequence[str]) -> dict[str, str]:
    """A fixed colour per arm: ``independent`` first, the others in scenario order."""
    ordered = [BASELINE, *[a for a in arms if a != BASELINE]] if BASELINE in arms else list(arms)
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(ordered)}


def fan_style(results: SimulationResults) -> FanStyle:
    """How the fan charts show these results.

    Returns:
        ``"path"`` for a deterministic result (one path per arm), ``"runs"`` for fewer than
        ``MIN_RUNS_FOR_BANDS`` runs (every run and, from ``MIN_RUNS_FOR_MEDIAN`` on, their
        median), ``"bands"`` otherwise (median with 50% and 90% bands).
    """
    if results.deterministic:
        return "path"
    if results.summary_only:  # no runs to draw: the bands of however many there are
        return "bands"
    return "runs" if results.runs < MIN_RUNS_FOR_BANDS else "bands"


def fan_note(results: SimulationResults, *, brief: bool = False) -> str:
    """What the lines and shading of the fan charts of ``results`` show, in a few words.

    Args:
        results: The results drawn.
        brief: Fewer words, for a second line of a small panel's title.
    """
    style = fan_style(results)
    with_median = results.runs >= MIN_RUNS_FOR_MEDIAN
    if style == "path":
        return "plan on paper" if brief else "plan on paper: every input at its mean, one path"
    if style == "runs" and results.runs == 1:
        return "the one run" if brief else "line: the one run"
    if style == "runs" and brief:
        return "every run and their median" if with_median else "every run"
    if style == "runs":
        median = "; thick: their median" if with_median else ""
        return f"thin lines: each of the {results.runs} runs{median}"
    if brief:
        return "median; 50% and 90% bands"
    if results.summary_only:
        within = f"to within {RELATIVE_ACCURACY:.1%}"  # the histograms' accuracy
        # on a line of its own: beside the rest, wider than a dashboard's panel
        return f"line: median; shading: middle 50% and 90% of runs\n({within})"
    return "line: median; shading: middle 50% and 90% of runs"


def _usd(value: float) -> str:
    """Compact dollars: -$25k, $1.2M (never "-$0")."""
    size = abs(value)
    unit, suffix, decimals = (1e6, "M", 1) if size >= 1e6 else (1e3, "k", 0)
    if size < 1e3:
        unit, suffix = 1.0, ""
    amount = round(size / unit, decimals)
    return f"{'-' if value < 0 and amount else ''}${amount:.{decimals}f}{suffix}"


def _usd_tick(value: float, _position: object = None) -> str:
    """Compact dollars for axis ticks, with the decimals that keep neighbouring ticks apart.

    Ticks are round numbers, so the fewest decimals (up to three) that write the tick exactly
    tell every tick from the next: $11.5k beside $12k, $0.01 beside $0.02.
    """
    size = abs(value)
    unit, suffix = (1e6, "M") if size >= 1e6 else (1e3, "k") if size >= 1e3 else (1.0, "")
    scaled = size / unit
    decimals = next(
        (d for d in range(3) if abs(round(scaled, d) - scaled) <= 1e-6 * max(1.0, scaled)), 3
    )
    amount = round(scaled, decimals)
    return f"{'-' if value < 0 and amount else ''}${amount:.{decimals}f}{suffix}"


def _signed_usd_short(value: float) -> str:
    """A compact difference with its sign: +$103k, -$5k, $0."""
    text = _usd(value)
    return text if text.startswith("-") or text == "$0" else f"+{text}"


def _runs(count: int, kind: str = "") -> str:
    """``5 runs``, ``1 run``, ``5 paired runs``."""
    return " ".join(filter(None, (f"{count:,}", kind, "run" if count == 1 else "runs")))


def _percent(value: float, _position: object = None) -> str:
    """Shares as whole percents for axis ticks."""
    return f"{value:.0%}"


def _money_axis(ax: Axes, which: Literal["x", "y"]) -> None:
    """Dollar ticks on one axis, few enough that their labels never run into each other."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(_usd_tick))
    axis.set_major_locator(MaxNLocator(nbins=6 if which == "x" else "auto"))


def _keep_span(ax: Axes, which: Literal["x", "y"], least: float) -> None:
    """Widen an axis whose data span less than ``least`` (one value, or all equal) around them.

    Matplotlib widens a single value by a few percent of itself, which around zero gives an
    axis from -0.05 to 0.05 with ticks reading "$0, $0, -$0".
    """
    low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
    if high - low >= least:
        return
    middle = 0.5 * (low + high)
    half = max(least, 0.1 * abs(middle)) / 2
    (ax.set_xlim if which == "x" else ax.set_ylim)(middle - half, middle + half)


def _new_axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the axes of a new figure (not registered with pyplot)."""
    if ax is not None:
        return ax
    return Figure(figsize=(7.0, 4.2), layout="constrained").add_subplot()


def _month_axis(ax: Axes, horizon: int) -> None:
    """Months from opening on the x axis, with a tick and a year label every 12 months."""
    ax.set_xlim(0, horizon)
    step = 12 if horizon > 24 else 6 if horizon > 6 else 1
    ax.xaxis.set_major_locator(MultipleLocator(step))

    def label(month: float, _position: object = None) -> str:
        m = round(month)
        return f"{m}\nyear {m // 12}" if m and m % 12 == 0 else f"{m}"

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlabel("Months since opening")


def _line_width(index: int, arms: int, overlapping: bool) -> float:
    """Line width of the ``index``-th arm, wider for earlier arms when lines may overlap.

    With one run per arm the lines often lie on each other; each drawn wider than the next
    keeps every colour visible.
    """
    return 2.0 + (1.6 * (arms - 1 - index) if overlapping else 0.0)


def percentiles_by_month(
    values: Array, mask: NDArray[np.bool_], percentiles: Sequence[float]
) -> Array:
    """Percentiles across runs of each month, over the runs where ``mask`` holds.

    ``numpy.nanpercentile``'s numbers (linear interpolation between order statistics), with
    every month sorted at once rather than one by one: the order statistics, the positions
    between them and the interpolation are numpy's, operation for operation. Only a zero's
    sign may differ, where a month holds both 0.0 and -0.0 (a sort and numpy's partition may
    put them in either order).

    Args:
        values: Array (replication, month).
        mask: Which (replication, month) values count.
        percentiles: Percentiles to compute, 0 to 100.

    Returns:
        Array (percentile, month); NaN in months with fewer than ``MIN_RUNS_FOR_FAN`` runs.
    """
    counted = mask.sum(axis=0)
    months = np.flatnonzero(counted >= MIN_RUNS_FOR_FAN)
    out = np.full((len(percentiles), values.shape[1]), np.nan)
    if not months.size:
        return out
    ordered = np.sort(np.where(mask[:, months], values[:, months], np.nan), axis=0)  # NaN last
    n = counted[months]
    position = (n - 1) * (np.asarray(percentiles, dtype=float) / 100.0)[:, None]
    below = np.floor(position)
    gamma = position - below
    column = np.arange(months.size)
    low = ordered[np.minimum(below, n - 1).astype(np.intp), column]  # at the top: the last
    high = ordered[np.minimum(below + 1.0, n - 1).astype(np.intp), column]  # value, step 0
    step = high - low
    out[:, months] = np.where(gamma >= 0.5, high - step * (1.0 - gamma), low + step * gamma)
    return out


def _median_by_month(values: Array, mask: NDArray[np.bool_]) -> Array:
    """Median across runs of each month over the runs where ``mask`` holds (NaN where none)."""
    counts = mask.sum(axis=0)
    kept = np.where(mask | (counts == 0), np.where(mask, values, 0.0), np.nan)
    return np.asarray(np.where(counts > 0, np.nanmedian(kept, axis=0), np.nan), dtype=float)


REFRESH_IN_PLACE = tuple(int(part) for part in mpl_version.split(".")[:2]) >= (3, 11)
"""Whether this matplotlib can refresh a chart in place exactly as a new one is drawn.

Matplotlib 3.11 fits an axes to its artists' data again (``relim``) from fill-between bands as
it does when they are added; before it the bands would be left out, so charts are drawn anew.
"""


def can_refresh(results: SimulationResults) -> bool:
    """Whether the fan and survival charts of ``results`` can be refreshed in place.

    Charts in the bands style (``fan_style``), with this matplotlib (``REFRESH_IN_PLACE``):
    every run drawn, the one path or a single run's labels are drawn anew each time.
    """
    return REFRESH_IN_PLACE and fan_style(results) == "bands" and results.runs > 1


def _refreshed_line(ax: Axes, gid: str) -> Line2D:
    """The one line of ``ax`` called ``gid``, to be given new data."""
    found = [line for line in ax.lines if line.get_gid() == gid]
    if len(found) != 1:
        raise ValueError(f"the axes hold {len(found)} lines {gid!r} to refresh, not one")
    return found[0]


def _refreshed_band(ax: Axes, gid: str) -> FillBetweenPolyCollection:
    """The one fill-between band of ``ax`` called ``gid``, to be given new data."""
    from matplotlib.collections import FillBetweenPolyCollection

    found = [
        band
        for band in ax.collections
        if band.get_gid() == gid and isinstance(band, FillBetweenPolyCollection)
    ]
    if len(found) != 1:
        raise ValueError(f"the axes hold {len(found)} bands {gid!r} to refresh, not one")
    return found[0]


def _refit(ax: Axes) -> None:
    """Fit ``ax`` to its artists' new data, as adding them to a new axes does.

    The limits are then set, widened or floored by the chart's own steps, as for a new chart.
    """
    ax.relim()
    ax.set_autoscale_on(True)
    ax.autoscale_view()


def fan_chart(
    results: SimulationResults,
    values: Array | str,
    *,
    ax: Axes | None = None,
    open_only: bool = True,
    ylabel: str = "",
    title: str = "",
    money: bool = False,
    zero_line: bool = False,
    zero_label: str = "",
    refresh: bool = False,
) -> Axes:
    """A monthly array shaped (arm, run, month) per arm, in the way ``fan_style`` says.

    With enough runs: the median line and 50%/90% bands. With few runs: every run as a thin
    line (while its business is open, for ``open_only``) and their median. Deterministic: the
    one path per arm. The legend's title says which.

    Args:
        results: The results the array comes from (arms, labels, horizon, survival).
        values: Array (arm, replication, month), or the name of one of
            ``monthly_aggregates.STREAMED_FIGURES``, which summary-only results hold as
            histograms (then ``open_only`` is the figure's own).
        ax: Axes to draw on; a new figure's if not given.
        open_only: Summarise only the businesses still open each month.
        ylabel: Label of the y axis, with its unit.
        title: Title of the axes.
        money: Format the y axis in dollars.
        zero_line: Mark zero on the y axis.
        zero_label: Legend entry of the zero line, if it needs one.
        refresh: ``ax`` holds this chart, drawn with the same arguments for earlier results
            of the same arms and horizon in the bands style: give its bands and medians the
            new results' values in place (no artist is added, the legend stays) and fit the
            axes to them as a new chart would be fitted (see ``can_refresh``).

    Returns:
        The axes drawn on.

    Raises:
        ValueError: ``refresh`` where the chart cannot be refreshed (see ``can_refresh``).
    """
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    months = np.arange(1, results.horizon_months + 1)
    style = fan_style(results)
    if refresh and not can_refresh(results):
        raise ValueError(f"a fan chart of {style} is drawn anew, not refreshed in place")
    wanted = [q for low, high, _ in FAN_BANDS for q in (low, high)] + [50.0]
    aggregates = results.monthly_aggregates
    paths: tuple[Array, NDArray[np.bool_]] | None = None  # every run's values and where shown
    if isinstance(values, str) and aggregates is not None:
        enough = aggregates.counted(values) >= MIN_RUNS_FOR_FAN
        bands = np.where(enough, aggregates.percentiles(values, wanted), np.nan)
    else:
        if isinstance(values, str):
            open_only = STREAMED_FIGURES[values]
            values = streamed_figure(
                values,
                results.scenario,
                results.arms,
                results.monthly_columns,
                results.trajectories,
            )
        alive = results.series("alive") > 0.5
        paths = values, alive if open_only else np.ones_like(alive)
        bands = np.stack(
            [percentiles_by_month(values[i], paths[1][i], wanted) for i in range(len(alive))],
            axis=1,
        )
    for i, arm in enumerate(results.arms):
        colour, label = colours[arm], results.labels[arm]
        if style == "path" and paths is not None:
            shown, mask = paths
            ax.plot(
                months,
                np.where(mask[i, 0], shown[i, 0], np.nan),
                color=colour,
                linewidth=2,
                label=literal_text(label),
                gid=f"path-{arm}",
            )
            continue
        if style == "runs" and paths is not None:
            shown, mask = paths
            with_median = results.runs >= MIN_RUNS_FOR_MEDIAN
            for run in range(results.runs):
                ax.plot(
                    months,
                    np.where(mask[i, run], shown[i, run], np.nan),
                    color=colour,
                    linewidth=0.9 if with_median else 1.5,
                    alpha=0.45 if with_median else 0.9,
                    label="_run" if with_median or run else literal_text(label),
                    gid=f"run-{arm}",
                )
            if with_median:
                ax.plot(
                    months,
                    _median_by_month(shown[i], mask[i]),
                    color=colour,
                    linewidth=2,
                    label=literal_text(f"{label} median"),
                    gid=f"median-{arm}",
                )
            continue
        per_month = bands[:, i]
        lines = dict(zip(wanted, per_month, strict=True))
        for low, high, alpha in FAN_BANDS:
            gid = f"band-{arm}-{low:g}-{high:g}"
            if refresh:
                _refreshed_band(ax, gid).set_data(months, lines[low], lines[high])
                continue
            ax.fill_between(
                months, lines[low], lines[high], color=colour, alpha=alpha, linewidth=0, gid=gid
            )
        if refresh:
            _refreshed_line(ax, f"median-{arm}").set_ydata(lines[50.0])
            continue
        ax.plot(
            months,
            lines[50.0],
            color=colour,
            linewidth=2,
            label=literal_text(f"{label} median"),
            gid=f"median-{arm}",
        )
    if refresh:
        _refit(ax)
    _month_axis(ax, results.horizon_months)
    if zero_line and not refresh:
        ax.axhline(0.0, color="black", linewidth=0.8, label=zero_label or "_zero", gid="zero")
    if money:
        _money_axis(ax, "y")
    _keep_span(ax, "y", 1_000.0 if money else 10.0)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if not refresh:  # the same entries and title: the legend drawn first stays
        ax.legend(loc="best", fontsize="small", title=fan_note(results))
    return ax


def customers(results: SimulationResults, ax: Axes | None = None, *, refresh: bool = False) -> Axes:
    """Customer base by month of the businesses still open (see ``fan_chart``, ``refresh``)."""
    ax = fan_chart(
        results,
        "customers",
        ax=ax,
        ylabel="Active customers",
        title="Customer base (businesses still open)",
        refresh=refresh,
    )
    ax.set_ylim(bottom=0.0)
    return ax


def monthly_cash_flow(results: SimulationResults) -> Array:
    """Cash the business makes for its owner each month: operating profit less debt service."""
    return cash_flow_after_loan_payments(
        results.series("operating_profit"), results.series("interest"), results.series("principal")
    )


def cash_flow(results: SimulationResults, ax: Axes | None = None, *, refresh: bool = False) -> Axes:
    """Monthly cash flow after debt service and before the owner's draw, zero marked.

    ``refresh``: see ``fan_chart``.
    """
    return fan_chart(
        results,
        "cash_flow_after_loan_payments",
        ax=ax,
        ylabel="USD per month",
        title="Monthly cash flow after loan payments, before the owner's pay (open businesses)",
        money=True,
        zero_line=True,
        refresh=refresh,
    )


def owner_cumulative_cash_flow(results: SimulationResults) -> Array:
    """The owner's running total of draws less equity and savings put in, (arm, run, month)."""
    equity = owner_equity(results.scenario, results.arms, results.runs)
    return owner_cash_flow(results.series("owner_draw"), results.series("owner_injection"), equity)


def owner_cash(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """The owner's cumulative cash flow over every run (closed businesses included), zero marked."""
    return fan_chart(
        results,
        "owner_cumulative_cash_flow",
        ax=ax,
        open_only=False,
        ylabel="USD, running total (cumulative)",
        title="Owner's money: pay taken out less money put in "
        + ("(plan on paper)" if fan_style(results) == "path" else "(all runs)"),
        money=True,
        zero_line=True,
        zero_label="above zero: the owner has got back all they put in (payback)",
    )


def _bls_label(sector: str) -> str:
    """The legend entry of the BLS survival curve of ``sector``, on two short lines."""
    return f"BLS: US businesses opened in 2013,\n{BLS_SECTOR_NAMES[sector]} (yearly)"


def survival(results: SimulationResults, ax: Axes | None = None, *, refresh: bool = False) -> Axes:
    """Share of businesses still open by month per arm, with the scenario's BLS sector curve.

    ``refresh``: ``ax`` holds this chart of earlier results of the same arms, horizon and
    sector, with more than one run: give its curves the new shares in place (the legend stays;
    see ``can_refresh``).

    Raises:
        ValueError: ``refresh`` where the chart cannot be refreshed (see ``can_refresh``).
    """
    ax = _new_axes(ax)
    if refresh and not can_refresh(results):
        raise ValueError("a survival chart of one run is drawn anew, not refreshed in place")
    colours = arm_colours(results.arms)
    curve = results.survival_curve()
    months = np.arange(0, results.horizon_months + 1)
    single = results.runs == 1
    for i, arm in enumerate(results.arms):
        shares = np.concatenate([[1.0], curve[i]])
        label = results.labels[arm]
        if single:
            closed = results.outcomes["closed_month"][i, 0]
            label += (
                f": open all {results.horizon_months} months"
                if np.isnan(closed)
                else f": closes in month {closed:.0f}"
            )
        if refresh:
            _refreshed_line(ax, f"survival-{arm}").set_ydata(shares)
            continue
        ax.step(
            months,
            shares,
            where="post",
            color=colours[arm],
            linewidth=_line_width(i, len(results.arms), overlapping=single),
            label=literal_text(label),
            gid=f"survival-{arm}",
        )
    sector = results.scenario.bls_sector
    bls = {y: s for y, s in bls_survival(sector).items() if 12 * y <= results.horizon_months}
    if refresh:
        _refreshed_line(ax, "bls-reference").set_data([12 * y for y in bls], list(bls.values()))
        _refit(ax)
    else:
        ax.plot(
            [12 * y for y in bls],
            list(bls.values()),
            linestyle="--",
            marker="o",
            color=REFERENCE_COLOUR,
            label=_bls_label(sector),
            gid="bls-reference",
        )
    _month_axis(ax, results.horizon_months)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylabel("Businesses still open")
    ax.set_title("Survival" if not single else "Survival (one run: open or closed)")
    ax.grid(alpha=0.3)
    if not refresh:  # the same entries: the legend drawn first stays
        ax.legend(loc="best", fontsize="small")
    return ax


_METRIC_NAMES = {
    "npv": "Owner's NPV",
    "final_cash": "Cash in the business at the end or at closing",
    "cumulative_owner_cash_flow": "Owner's cumulative cash flow",
    "break_even_month": "Break-even: profitable for good",
    "first_profitable_month": "First profitable month",
    "payback_month": "Payback month",
    "final_customers": "Customers at the end",
}

_METRIC_AXIS_NAMES = {
    "npv": "Owner's NPV: today's value of all money in and out",
}
"""Longer names for an x axis, where the title's short name needs a word of explanation."""


def _ecdf(
    ax: Axes,
    values: Array,
    colour: str,
    label: str,
    total: int,
    until: float | None = None,
    linewidth: float = 2.0,
) -> None:
    """Step ECDF over ``total`` runs; NaN values (never reached) leave it short of 100%.

    With ``until`` the last step is drawn on to that x, so a plateau below 100% shows (and a
    milestone no run reaches is a line at 0% from 0 to ``until``). A single run also gets a
    marker where its step reaches the top.
    """
    finite = np.sort(values[~np.isnan(values)])
    if finite.size == 0:
        xs = [0.0, until] if until is not None else []
        ax.plot(xs, [0.0] * len(xs), color=colour, label=label, linewidth=linewidth)
        return
    shares = np.arange(1, finite.size + 1) / total
    tail_x = [until] if until is not None and until > finite[-1] else []
    ax.step(
        np.concatenate([[finite[0]], finite, tail_x]),
        np.concatenate([[0.0], shares, shares[-1:] if tail_x else []]),
        where="post",
        color=colour,
        linewidth=linewidth,
        label=label,
    )
    if total == 1:
        ax.plot(finite, shares, marker="o", color=colour, linestyle="none", label="_value")


def _median_marker(ax: Axes, values: Array, colour: str) -> None:
    finite = values[~np.isnan(values)]
    if finite.size:
        ax.axvline(float(np.median(finite)), color=colour, linestyle=":", linewidth=1.5)


def _label_offsets(values: Sequence[float]) -> list[tuple[float, float]]:
    """Each sorted value with a vertical text offset (points) so close labels do not collide.

    Labels go above the point, then below, then further above and below: each takes the first
    of those rows whose last label lies at least a tenth of the values' span to its left.
    """
    rows = (7.0, -12.0, 17.0, -22.0, 27.0, -32.0)
    span = (max(values) - min(values)) if values else 0.0
    gap = 0.1 * span
    last: dict[float, float] = {}
    placed: list[tuple[float, float]] = []
    for value in values:
        row = next((r for r in rows if r not in last or value - last[r] >= gap), rows[0])
        if span == 0.0:  # all at one place: stack them
            row = rows[min(len(placed), len(rows) - 1)]
        last[row] = value
        placed.append((float(value), row))
    return placed


def _one_run_note(results: SimulationResults) -> str:
    """Words for a title when there is a single run: the plan on paper or one random run.

    Short, so that the longest title ("Break-even: profitable for good") still fits
    its dashboard panel; the legend says what the plan on paper is.
    """
    return "plan on paper" if results.deterministic else "one run"


def distribution(
    results: SimulationResults,
    metric: str,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """ECDF of a per-run money outcome (e.g. ``npv``, ``final_cash``) by arm, medians dotted.

    A single run (the plan on paper) shows each arm's value as a point with its number.
    """
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    single = results.runs == 1
    for i, arm in enumerate(results.arms):
        values = results.outcomes[metric][i]
        finite = values[~np.isnan(values)]
        middle = _usd(float(np.median(finite))) if finite.size else "n/a"
        label = results.labels[arm] + (f": {middle}" if single else f" (median {middle})")
        width = _line_width(i, len(results.arms), overlapping=single)
        _ecdf(ax, values, colours[arm], literal_text(label), values.size, linewidth=width)
        if not single:
            _median_marker(ax, values, colours[arm])
    ax.axvline(0.0, color="black", linewidth=0.8)
    _money_axis(ax, "x")
    _keep_span(ax, "x", 1_000.0)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylim(0.0, 1.05)
    name = _METRIC_NAMES.get(metric, metric)
    ax.set_xlabel(f"{_METRIC_AXIS_NAMES.get(metric, name)} (USD)")
    ax.set_ylabel("Share of runs at or below this value")
    title = title or name
    ax.set_title(f"{title} ({_one_run_note(results)})" if single else title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if not single else "best", fontsize="small")
    return ax


def final_cash(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the business's cash at the horizon (at closure for closed ones), by arm."""
    return distribution(results, "final_cash", ax)


def npv(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the owner's net present value by arm, medians dotted."""
    return distribution(results, "npv", ax)


def paired_difference(
    results: SimulationResults,
    ax: Axes | None = None,
    *,
    metric: str = "npv",
    arm: str | None = None,
    baseline: str | None = None,
) -> Axes:
    """An arm minus the baseline arm over paired runs, and how often it does better.

    With ``MIN_RUNS_FOR_BANDS`` runs or more: a histogram of the differences (grouped bars in
    each arm's colour when several arms are compared), mean dashed. With fewer runs, or the
    one deterministic path, each run's difference is a point (with its number when an arm has
    at most ``LABELLED_POINTS``), one row per compared arm.

    Args:
        results: Simulation results with at least two arms.
        ax: Axes to draw on; a new figure's if not given.
        metric: Per-run outcome to difference (a money outcome such as ``npv``).
        arm: The arm compared; every arm but the baseline if not given.
        baseline: The arm it is set against; ``independent`` if not given.

    Returns:
        The axes drawn on.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    base = choose_baseline(results.arms, baseline)
    ax = _new_axes(ax)
    compared = [arm] if arm else [a for a in results.arms if a != base]
    reference = results.outcomes[metric][results.arm_index(base)]
    differences = {a: results.outcomes[metric][results.arm_index(a)] - reference for a in compared}
    name = _METRIC_NAMES.get(metric, metric)
    base_label = results.labels[base]
    few = results.deterministic or results.runs < MIN_RUNS_FOR_BANDS
    if few:
        _difference_points(ax, results, differences)
        kind = "deterministic: one path" if results.deterministic else _runs(results.runs)
        ax.set_title(literal_text(f"{name}, paired difference ({kind})"))
    else:
        _difference_histogram(ax, results, metric, differences, base)
        ax.set_title(literal_text(f"{name}, paired difference (same market and events)"))
    ax.axvline(0.0, color="black", linewidth=1)
    if few:  # a histogram's legend gives the odds
        ax.text(
            0.02,
            0.03,
            literal_text(_better_note(results, metric, compared, base)),
            transform=ax.transAxes,
            va="bottom",
            fontsize="small",
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
            gid="probability-better",
        )
    _money_axis(ax, "x")
    _keep_span(ax, "x", 1_000.0)
    who = results.labels[compared[0]] if len(compared) == 1 else "each arm"
    ax.set_xlabel(literal_text(_wrapped(f"{name}: {who} minus {base_label} (USD)", 90)))
    ax.grid(alpha=0.3)
    return ax


def _difference_histogram(
    ax: Axes,
    results: SimulationResults,
    metric: str,
    differences: dict[str, Array],
    baseline: str = BASELINE,
) -> None:
    """Histogram bars of the paired differences per arm, sharing bins, with the mean dashed.

    Each arm's legend entry names it with the share of paired runs in which it does better
    than the baseline; several arms' bars stand side by side in each bin.
    """
    colours = arm_colours(results.arms)
    finite = {a: d[~np.isnan(d)] for a, d in differences.items()}
    pooled = np.concatenate(list(finite.values()))
    count = max(10, min(60, int(np.sqrt(pooled.size / len(finite))) * 2))
    edges = np.histogram_bin_edges(pooled, bins=count) if pooled.size else np.linspace(-1, 1, 11)
    single = len(finite) == 1
    widths = np.diff(edges) / len(finite)
    tallest = 1
    for j, (compared, values) in enumerate(finite.items()):
        counts, _ = np.histogram(values, bins=edges)
        tallest = max(tallest, int(counts.max()))
        share = _better_share(results, metric, compared, baseline)
        bars = ax.bar(
            edges[:-1] + j * widths,
            counts,
            width=widths,
            align="edge",
            color=colours[compared],
            alpha=0.75 if single else 0.85,
            edgecolor="white",
            linewidth=0.5,
            label=literal_text(f"{results.labels[compared]}: does better in {share:.0%} of runs"),
        )
        for patch in bars:
            patch.set_gid(f"difference-{compared}")
        if values.size:
            ax.axvline(
                float(np.mean(values)),
                color="black" if single else colours[compared],
                linestyle="--",
                linewidth=1.2,
                label="mean" if single else "_mean",
            )
            if single:
                median = float(np.median(values))
                ax.axvline(median, color="black", linestyle=":", linewidth=1, label="median")
    if not single:
        ax.plot([], [], color="black", linestyle="--", linewidth=1.2, label="dashed: each mean")
    ax.set_ylim(0.0, tallest * (1.35 + 0.2 * len(finite)))  # headroom for the legend
    ax.legend(loc="upper right", fontsize="small")
    ax.set_ylabel("Number of paired runs")


def _difference_points(ax: Axes, results: SimulationResults, differences: dict[str, Array]) -> None:
    """Each run's paired difference as a point, one row per arm, numbers written when few."""
    colours = arm_colours(results.arms)
    rows = len(differences)
    label_axes = blended_transform_factory(ax.transAxes, ax.transData)
    for j, (compared, values) in enumerate(differences.items()):
        y = rows - 1 - j
        finite = values[~np.isnan(values)]
        ax.plot(
            finite,
            np.full(finite.size, float(y)),
            marker="o",
            markersize=7,
            linestyle="none",
            color=colours[compared],
            alpha=0.85,
            label=literal_text(results.labels[compared]),
            gid=f"difference-points-{compared}",
        )
        if finite.size <= LABELLED_POINTS:
            for value, offset in _label_offsets(sorted(finite)):
                ax.annotate(
                    _signed_usd_short(value),
                    xy=(value, float(y)),
                    xytext=(0, offset),
                    textcoords="offset points",
                    ha="center",
                    fontsize="x-small",
                    color=colours[compared],
                    gid=f"difference-value-{compared}",
                )
        if finite.size >= MIN_RUNS_FOR_MEDIAN:
            mean = float(np.mean(finite))
            ax.plot([mean, mean], [y - 0.3, y + 0.3], color="black", linestyle="--", linewidth=1)
        ax.text(
            0.01,
            y + 0.32,
            literal_text(results.labels[compared]),
            transform=label_axes,
            fontsize="small",
            color=colours[compared],
            gid=f"difference-row-{compared}",
        )
    ax.set_ylim(-1.4, rows - 0.25)
    ax.set_yticks([])
    values = np.concatenate([d[~np.isnan(d)] for d in differences.values()] + [np.zeros(1)])
    low, high = float(values.min()), float(values.max())
    margin = 0.12 * max(high - low, 1_000.0)
    ax.set_xlim(low - margin, high + margin)


def _better_share(
    results: SimulationResults, metric: str, arm: str, baseline: str = BASELINE
) -> float:
    """Share of paired runs in which ``arm`` does better than ``baseline``."""
    reference = results.outcomes[metric][results.arm_index(baseline)]
    return probability_better(results.outcomes[metric][results.arm_index(arm)], reference)


def _better_note(
    results: SimulationResults, metric: str, compared: Sequence[str], base: str = BASELINE
) -> str:
    """The few-run note: by how much each arm leads the baseline, or how often it does better.

    The plan on paper gives each arm's one difference; a few runs give a count of runs (a
    percentage of five runs would claim a precision it does not have).
    """
    baseline = results.outcomes[metric][results.arm_index(base)]
    base_label = results.labels[base]
    lines = ["Plan on paper (deterministic: one path):"] if results.deterministic else []
    for arm in compared:
        treated = results.outcomes[metric][results.arm_index(arm)]
        label = results.labels[arm]
        if results.deterministic:
            gap = float(treated[0] - baseline[0])
            word = "ahead of" if gap > 0 else "behind" if gap < 0 else "level with"
            amount = f"{_usd(abs(gap))} " if _usd(abs(gap)) != "$0" else ""
            lines.append(f"{label}: {amount}{word} {base_label}")
        else:
            wins = int(np.sum(treated > baseline))
            lines.append(f"{label} does better in {wins} of {_runs(results.runs, 'paired')}")
    if not results.deterministic and results.runs >= MIN_RUNS_FOR_MEDIAN:
        lines.append("dashed tick: the mean")
    return "\n".join(lines)


def milestone(
    results: SimulationResults,
    metric: str = "break_even_month",
    ax: Axes | None = None,
) -> Axes:
    """ECDF of the month a milestone is reached by arm; the share never reaching it is printed."""
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    single = results.runs == 1
    lines = []
    for i, arm in enumerate(results.arms):
        values = results.outcomes[metric][i]
        never = float(np.mean(np.isnan(values)))
        horizon = float(results.horizon_months)
        label = results.labels[arm]
        if single:
            label += ": never" if np.isnan(values[0]) else f": month {values[0]:.0f}"
        width = _line_width(i, len(results.arms), overlapping=single)
        _ecdf(ax, values, colours[arm], literal_text(label), values.size, horizon, linewidth=width)
        lines.append(f"{results.labels[arm]}: {never:.0%} of runs")
    ax.text(
        0.98,
        0.04,
        literal_text(f"Never within {results.horizon_months} months:\n" + "\n".join(lines)),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
        gid="never-reached",
    )
    _month_axis(ax, results.horizon_months)
    ax.set_ylim(0.0, 1.05)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylabel("Share of runs that got there by then")
    title = _METRIC_NAMES.get(metric, metric)
    ax.set_title(f"{title} ({_one_run_note(results)})" if single else title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best" if single else "upper left", fontsize="small")
    return ax


def break_even(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the break-even month by arm (runs that never break even shown as such)."""
    return milestone(results, "break_even_month", ax)


def payback(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the month the owner has got back all the money they put in, by arm."""
    return milestone(results, "payback_month", ax)


DASHBOARD_PANELS: tuple[Panel, ...] = (
    customers,
    owner_cash,
    survival,
    npv,
    paired_difference,
    break_even,
)
"""The dashboard's panels of two arms, in order; with more arms ``paired_difference`` is
drawn once per arm compared with the baseline."""

DASHBOARD_PAGE = (11.69, 8.27)
"""Inches of the dashboard of two arms (A4 landscape: three columns, two rows of panels)."""


def dashboard_layout(arms: int) -> tuple[int, int]:
    """Rows and columns of the dashboard of ``arms`` arms.

    Four fixed panels, break-even and one paired-difference panel per arm compared with the
    baseline: two rows up to eight panels (three columns for two arms, four for three or four
    arms), then three rows.
    """
    panels = len(DASHBOARD_PANELS) - 1 + max(1, arms - 1)
    rows = 2 if panels <= 8 else 3
    return rows, -(-panels // rows)


def dashboard(
    results: SimulationResults, figure: Figure | None = None, *, baseline: str | None = None
) -> Figure:
    """The key panels on one page: customers, owner's cash, survival, NPV, differences, break-even.

    There is one paired-difference panel for every arm compared with the baseline, each on
    the scale of its own differences (a narrow one would be a sliver on a shared one); the
    page grows by a column, then a row, with the arms
    (``dashboard_layout``). Two arms fill an A4 landscape page.

    Args:
        results: The results to show.
        figure: Figure to draw in; a new one sized for the panels if not given.
        baseline: The arm the paired differences are set against; ``independent`` if not given.

    Returns:
        The figure, with its panels and a title naming the scenario and the run.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    base = choose_baseline(results.arms, baseline)
    others = [a for a in results.arms if a != base]
    rows, columns = dashboard_layout(len(results.arms))
    width, height = DASHBOARD_PAGE
    figure = figure or Figure(
        figsize=(width * columns / 3, height * rows / 2), layout="constrained"
    )
    fixed = [draw for draw in DASHBOARD_PANELS if draw is not paired_difference]
    k = 0

    def panel() -> Axes:
        nonlocal k
        k += 1
        return figure.add_subplot(rows, columns, k)

    def edge(ax: Axes) -> None:
        """Wrap a long x label of the last column: the layout leaves no room beyond the page."""
        if k % columns == 0:
            ax.set_xlabel(_wrapped(ax.get_xlabel(), PANEL_LABEL_WIDTH))

    for draw in fixed[:4]:
        ax = panel()
        draw(results, ax)
        edge(ax)
        _compact(ax)
    for arm in others:
        ax = panel()
        paired_difference(results, ax, arm=arm, baseline=base)
        ax.set_xlabel(_wrapped(ax.get_xlabel(), PANEL_LABEL_WIDTH))  # both arms' labels
        if len(others) > 1:  # side by side, a panel's title must fit its own width
            ax.set_title(_wrapped(ax.get_title(), PANEL_LABEL_WIDTH))
        _compact(ax)
    for draw in fixed[4:]:
        ax = panel()
        draw(results, ax)
        edge(ax)
        _compact(ax)
    if results.deterministic:
        kind = "plan on paper (deterministic: every input at its mean, one path)"
    elif results.runs < MIN_RUNS_FOR_BANDS:
        kind = f"{results.runs:,} paired runs (too few for bands: every run drawn)"
    else:
        kind = f"{results.runs:,} paired runs"
    against = f"; differences against {results.labels[base]}" if len(others) > 1 else ""
    figure.suptitle(
        literal_text(
            _wrapped(
                f"{results.scenario.name}: {' vs '.join(results.labels.values())}\n"
                f"{kind}, {results.horizon_months} months, seed {results.seed}{against}",
                int(TITLE_WIDTH * columns / 3),
            )
        ),
        fontsize=11,
    )
    return figure


def _wrapped(text: str, width: int = LEGEND_WIDTH) -> str:
    """``text`` broken at spaces into lines of at most ``width`` characters."""
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
        for line in text.split("\n")
    )


def _compact(ax: Axes) -> None:
    """Smaller type for a panel of a one-page dashboard, long legend entries wrapped."""
    ax.title.set_fontsize(9)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.tick_params(labelsize=7)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(_wrapped(text.get_text()))
            text.set_fontsize(6.5)
        legend.get_title().set_fontsize(6.5)
    for text in ax.texts:
        text.set_text(_wrapped(text.get_text(), TEXT_WIDTH))
        text.set_fontsize(6.5)


class DrawFigure(Protocol):
    """How a figure is drawn: from results, with the arm the paired differences are set against."""

    def __call__(self, results: SimulationResults, *, baseline: str | None = None) -> Figure:
        """The figure of ``results``; ``baseline`` None for ``independent``."""
        ...


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """One figure the command line writes: its file name, caption and how it is drawn."""

    name: str
    caption: str
    draw: DrawFigure


def _whole(draw: Panel) -> DrawFigure:
    """A one-panel figure of ``draw`` on a new page (the same for any baseline)."""

    def figure(results: SimulationResults, *, baseline: str | None = None) -> Figure:
        page = Figure(figsize=(8.0, 4.8), layout="constrained")
        draw(results, page.add_subplot())
        return page

    return figure


def paired_differences(results: SimulationResults, *, baseline: str | None = None) -> Figure:
    """One paired NPV-difference panel per arm compared with the baseline, each on its own scale.

    One panel is a page 8 inches wide; two stand side by side; more fill rows of two.

    Args:
        results: The results to show.
        baseline: The arm every other is set against; ``independent`` if not given.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    base = choose_baseline(results.arms, baseline)
    others = [arm for arm in results.arms if arm != base]
    columns = min(2, len(others))
    rows = -(-len(others) // columns)
    page = Figure(figsize=(8.0 * columns, 4.8 * rows), layout="constrained")
    axes = [page.add_subplot(rows, columns, k + 1) for k in range(len(others))]
    for arm, ax in zip(others, axes, strict=True):
        paired_difference(results, ax, arm=arm, baseline=base)
    return page


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("dashboard", "The key panels on one page.", dashboard),
    FigureSpec(
        "customers",
        "Active customers by month, businesses still open: median line, 50% and 90% bands "
        "(every run, or the one path of a deterministic run, when runs are few).",
        _whole(customers),
    ),
    FigureSpec(
        "cash_flow",
        "Monthly cash flow after loan payments and before the owner's pay, businesses still open.",
        _whole(cash_flow),
    ),
    FigureSpec(
        "owner_cash",
        "The owner's running total of pay taken out minus money put in (equity and savings), "
        "every run; above zero the owner has got back all they put in.",
        _whole(owner_cash),
    ),
    FigureSpec(
        "survival",
        f"Share of businesses still open by month, against BLS survival ({BLS_SOURCE}).",
        _whole(survival),
    ),
    FigureSpec(
        "final_cash",
        "Cash in the business at the end of the period or at closing, by arm.",
        _whole(final_cash),
    ),
    FigureSpec(
        "npv",
        "The owner's net present value (today's value of all money in and out) by arm; dotted "
        "lines mark medians.",
        _whole(npv),
    ),
    FigureSpec(
        "npv_difference",
        "Owner's NPV of each arm minus the baseline (the independent unless another is chosen), "
        "run by run over the same market and events (each run a point when runs are few).",
        paired_differences,
    ),
    FigureSpec(
        "break_even",
        "Month operating profit turns non-negative for good; runs that never do stay below 100%.",
        _whole(break_even),
    ),
    FigureSpec(
        "payback",
        "Month the owner has got back all the money they put in (the running total of pay "
        "taken out minus money put in reaches zero); runs that never do stay below 100%.",
        _whole(payback),
    ),
)
"""Every figure the command line writes, by name (the PNG is ``<name>.png``)."""

FIGURE_NAMES = tuple(spec.name for spec in FIGURES)


def figure_spec(name: str) -> FigureSpec:
    """The figure called ``name``.

    Raises:
        KeyError: No figure has that name.
    """
    for spec in FIGURES:
        if spec.name == name:
            return spec
    raise KeyError(f"no figure {name!r}; figures are {', '.join(FIGURE_NAMES)}")


UP_COLOUR = PALETTE[2]
"""A waterfall step that raises the outcome."""
DOWN_COLOUR = PALETTE[1]
"""A waterfall step that lowers it."""
END_COLOUR = "#7f7f7f"
"""The start (independent) and end (franchise) bars of a waterfall."""


def attribution_waterfall(
    attribution: Attribution,
    ax: Axes | None = None,
    *,
    measure: Literal["npv", "survival"] = "npv",
) -> Axes:
    """Waterfall from the independent's outcome to the arm's, one bar per step.

    The first bar is the independent's mean (NPV in USD, or survival at the attribution's
    month in percent), each next one floats from the running total by the step's paired mean
    change (up green, down orange, with its value printed), and the last is the franchise
    arm's. The order the mechanisms were switched on in is in the title.

    Args:
        attribution: What ``attribution.attribute`` returned.
        ax: Axes to draw on; a new figure's if not given.
        measure: ``npv`` or ``survival``.

    Returns:
        The axes drawn on.
    """
    ax = _new_axes(ax)
    npv = measure == "npv"
    start = attribution.start_npv if npv else attribution.start_survival
    end = attribution.end_npv if npv else attribution.end_survival
    values = [getattr(step, measure).estimate for step in attribution.steps]
    names = ["Independent", *(step.label for step in attribution.steps), attribution.arm_label]

    def shown(value: float, signed: bool) -> str:
        if npv:
            return _signed_usd_short(value) if signed else _usd(value)
        return (f"{value:+.1f} pts" if signed else f"{value:.1f}%").replace("-", "\u2212")

    ax.bar(0, start, color=END_COLOUR, gid="attribution-start")
    ax.text(0, start, literal_text(shown(start, False)), ha="center", va="bottom", fontsize=8)
    level = start
    for i, value in enumerate(values, start=1):
        colour = UP_COLOUR if value >= 0 else DOWN_COLOUR
        ax.bar(i, value, bottom=level, color=colour, gid="attribution-step")
        top = level + max(value, 0.0)
        ax.text(i, top, literal_text(shown(value, True)), ha="center", va="bottom", fontsize=8)
        ax.plot([i - 0.4, i + 1.4], [level + value] * 2, color="#999999", linewidth=0.6)
        level += value
    last = len(values) + 1
    ax.bar(last, end, color=END_COLOUR, gid="attribution-end")
    ax.text(last, end, literal_text(shown(end, False)), ha="center", va="bottom", fontsize=8)
    levels = [0.0, start, end, *np.cumsum([start, *values])]
    low, high = min(levels), max(levels)
    pad = 0.12 * (high - low) if high > low else 1.0
    ax.set_ylim(low - (pad if low < 0 else 0.0), high + pad)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(last + 1))
    ax.set_xticklabels(
        [literal_text(_wrapped(name, 14)) for name in names], rotation=45, ha="right", fontsize=8
    )
    if npv:
        _money_axis(ax, "y")
        ax.set_ylabel("Owner's mean NPV (USD)")
    else:
        ax.set_ylabel(f"Open at month {attribution.survival_month} (%)")
    order = ", ".join(step.label.lower() for step in attribution.steps)
    what = "owner's NPV" if npv else f"survival at month {attribution.survival_month}"
    ax.set_title(
        literal_text(
            _wrapped(
                f"Where the difference in {what} comes from ({attribution.runs:,} paired runs); "
                f"added in this order: {order}",
                75,
            )
        ),
        fontsize=9,
    )
    ax.grid(axis="y", alpha=0.3)
    return ax


def attribution_figure(attribution: Attribution) -> Figure:
    """The NPV and survival waterfalls of an attribution side by side."""
    page = Figure(figsize=(13.0, 5.2), layout="constrained")
    left, right = page.subplots(1, 2)
    attribution_waterfall(attribution, left, measure="npv")
    attribution_waterfall(attribution, right, measure="survival")
    page.suptitle(
        literal_text(f"{attribution.scenario}: {attribution.arm_label} against the independent")
    )
    return page


PNG_COMPRESS_LEVEL = 1
"""zlib's level for the PNGs: flat colours and lines compress almost as well at 1 as at Pillow's
default 6 (110 KB against 108 KB for the explorer's picture) in 15 ms less per picture."""


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (rendered with the Agg canvas, no display needed).

    A figure rendered before keeps its Agg canvas, and with it the renderer and the sizes of
    the texts measured: a figure drawn again (the explorer's) does not pay for them twice.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        dpi=dpi,
        metadata={"Software": None},
        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
    )
    return buffer.getvalue()


def render(
    results: SimulationResults,
    names: Iterable[str] = FIGURE_NAMES,
    *,
    baseline: str | None = None,
) -> dict[str, bytes]:
    """Draw the named figures and return each as PNG bytes, by name.

    Args:
        results: The results to show.
        names: The figures to draw (``FIGURE_NAMES``).
        baseline: The arm the paired differences are set against; ``independent`` if not given.

    Raises:
        KeyError: A name is not a figure.
        BaselineError: ``baseline`` is not an arm of the results.
    """
    base = choose_baseline(results.arms, baseline)
    return {name: png_bytes(figure_spec(name).draw(results, baseline=base)) for name in names}


SWEEP_LINE_STYLES = ("-", "--", ":", "-.")
"""Line styles telling apart the values of a sweep's second parameter."""
SWEEP_LEGEND_PAIR_CHARS = 45
"""Longest label a two-column sweep legend takes: two of them fit across a 7-inch figure."""


def sweep_chart(frame: pd.DataFrame, metric: str = "npv_mean", ax: Axes | None = None) -> Axes:
    """One metric of a parameter sweep against its first parameter: a line per arm, 95% bands.

    With two parameters each arm gets one line per value of the second, told apart by line
    style and lightness, and the legend sits beside the axes, clear of the lines. An arm a
    parameter does not change (``franchise_sim.analysis.sweeps.reached_by``) is drawn once and its
    label says so (``Independent shop: not changed by royalty rate``). Shares are shown in
    percent and money in USD; contrasts with the independent arm get a zero line (the share
    of runs with a higher NPV a 50% line).

    Args:
        frame: What ``franchise_sim.analysis.sweeps.sweep`` returned.
        metric: A metric of the frame (see ``franchise_sim.analysis.sweeps.metric_names``).
        ax: Axes to draw on; a new figure's (not registered with pyplot) if not given. To see
            the chart in Jupyter without an ``ax``, use ``franchise_sim.plot_sweep``.

    Returns:
        The axes drawn on.

    Raises:
        KeyError: The frame has no such metric.
    """
    from franchise_sim.analysis.sweeps import metric_info, parameter_columns, reached_by

    rows = frame[frame["metric"] == metric]
    if rows.empty:
        raise KeyError(f"no metric {metric!r} in the sweep")
    info = metric_info(metric, frame.attrs.get("baseline", BASELINE))
    ax = _new_axes(ax)
    parameters = parameter_columns(frame)
    first, *rest = parameters
    reached = {path: reached_by(frame, path) for path in parameters}
    colours = arm_colours(list(dict.fromkeys(frame["arm"])))
    xs = list(dict.fromkeys(rows[first]))
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    position = {x: float(x) if numeric else float(k) for k, x in enumerate(xs)}
    seconds = list(dict.fromkeys(rows[rest[0]])) if rest else [None]
    for arm in dict.fromkeys(rows["arm"]):
        # An arm the second field does not reach (the independent, when it is a franchise
        # term) has the same line at every value of it: draw that line once.
        varied = bool(rest) and arm in reached[rest[0]]
        missed = [_parameter_words(path) for path in parameters if arm not in reached[path]]
        for j, second in enumerate(seconds if varied else seconds[:1]):
            line = rows[rows["arm"] == arm]
            label = literal_text(str(line["label"].iloc[0]))
            if rest:
                line = line[line[rest[0]] == second]
            if varied:
                label += f", {_parameter_words(rest[0])} {_parameter_value(rest[0], second)}"
            if missed:
                label += ": not changed by " + " or ".join(missed)
            line = line.assign(_x=line[first].map(position)).sort_values("_x")
            x = line["_x"].to_numpy(dtype=float)
            colour = _lighter(colours[arm], 0.5 * j / max(1, len(seconds) - 1))
            style = SWEEP_LINE_STYLES[j % len(SWEEP_LINE_STYLES)]
            ax.plot(
                x,
                line["estimate"].to_numpy(dtype=float),
                color=colour,
                linestyle=style,
                marker="o",
                linewidth=2,
                label=label,
                gid=f"sweep-line-{arm}",
            )
            low, high = line["low"].to_numpy(dtype=float), line["high"].to_numpy(dtype=float)
            if np.isfinite(low).any() and np.isfinite(high).any():
                ax.fill_between(
                    x, low, high, color=colour, alpha=0.15, linewidth=0, gid=f"sweep-band-{arm}"
                )
    if info.contrast:
        level = 0.5 if info.unit == "share" else 0.0
        ax.axhline(level, color="black", linewidth=0.8, gid="sweep-reference")
    if numeric:
        if len(xs) <= 12:
            ax.set_xticks(sorted(position.values()))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _parameter_value(first, v)))
    else:
        ax.set_xticks(list(position.values()), [str(x) for x in xs])
    formats: dict[str, Formatter] = {
        "share": PercentFormatter(xmax=1.0, decimals=None),  # 57.5%, where 58% would mislead
        "usd": FuncFormatter(_signed_usd if info.contrast else _usd_full),
        "points": FuncFormatter(lambda v, _p=None: f"{v:+.4g} pts" if v else "0 pts"),
    }
    ax.yaxis.set_major_formatter(formats[info.unit])
    unit = {"share": "", "usd": " (USD)", "points": " (points)"}[info.unit]
    words = _parameter_words(first)
    ax.set_xlabel(f"{words[:1].upper()}{words[1:]} ({first})")
    ax.set_ylabel(info.title + unit)
    ax.set_title(f"{info.title}, by {words}")
    ax.grid(alpha=0.3)
    title = "bands: 95% confidence intervals"
    if rest:  # a line per value of the second field: below the axes, where it hides nothing
        labels = ax.get_legend_handles_labels()[1]
        columns = 2 if len(labels) > 3 and max(map(len, labels)) <= SWEEP_LEGEND_PAIR_CHARS else 1
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=ax.transAxes
            + ScaledTranslation(0.0, -_below_x_label(), ax.figure.dpi_scale_trans),
            borderaxespad=0.0,
            ncols=columns,
            fontsize="small",
            title=title,
            title_fontsize="small",
        )
    else:
        ax.legend(loc="best", fontsize="small", title=title)
    return ax


def _below_x_label() -> float:
    """Inches from the bottom of the axes to below its tick labels and x label."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    ticks = FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points()
    label = FontProperties(size=rcParams["axes.labelsize"]).get_size_in_points()
    points = (
        float(rcParams["xtick.major.size"])
        + float(rcParams["xtick.major.pad"])
        + float(rcParams["axes.labelpad"])
        + 1.4 * (ticks + label)  # a line of text is about 1.2 to 1.4 times its size
    )
    return points / 72.0


def _parameter_words(path: str) -> str:
    """The last step of a dotted path in words: ``royalty rate`` for ``...royalty_rate``."""
    return path.rsplit(".", 1)[-1].removesuffix("_usd").replace("_", " ")


def _parameter_value(path: str, value: object) -> str:
    """A swept value as its field reads: dollars for ``_usd`` fields, percent for rates."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if path.endswith("_usd"):
            return _usd_full(value)
        if path.endswith(("_rate", "_share")) and 0 <= value <= 1:
            return f"{100 * value:.4g}%"
        return f"{value:,.6g}"
    return str(value)


def _lighter(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white: 0 keeps it, 1 gives white."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _usd_full(value: float, _position: object = None) -> str:
    """Whole dollars with thousands separators for axis ticks: -$25,000."""
    return f"{'-' if value < 0 else ''}${abs(value):,.0f}"


def _signed_usd(value: float, _position: object = None) -> str:
    """Whole dollars with a sign for differences: +$5,000, -$12,500."""
    return f"{'-' if value < 0 else '+' if value > 0 else ''}${abs(value):,.0f}"
