"""The comparison in pictures: fan charts, survival against BLS, outcome distributions.

Every function takes results (and an optional matplotlib ``ax``), draws on it and returns it;
none calls ``show()``, touches pyplot's global state or changes rcParams, so they work headless
and inside other figures. Each arm keeps one colour in every figure (``arm_colours``).

Fan charts show the median and the 50% and 90% bands across replications. Customer and cash-flow
fans cover the businesses still open that month (closure is the survival chart's story); the
owner's cumulative cash flow covers every run, a closed business keeping what it paid and drew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter, MultipleLocator, PercentFormatter
from matplotlib.transforms import ScaledTranslation
from numpy.typing import NDArray

from franchise_sim.comparison import BASELINE
from franchise_sim.outcomes import owner_cash_flow
from franchise_sim.reference import BLS_SECTOR_NAMES, BLS_SOURCE, bls_survival
from franchise_sim.results import SimulationResults
from franchise_sim.statistics import probability_better, survival_curve

if TYPE_CHECKING:
    import pandas as pd

Array = NDArray[np.float64]
Panel = Callable[[SimulationResults, Axes | None], Axes]
"""A figure drawn on one axes: results and an optional ``ax`` in, the axes drawn on out."""

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Okabe-Ito colours, readable by colour-blind viewers; ``independent`` always takes the first."""

REFERENCE_COLOUR = "#444444"
FAN_BANDS = ((5.0, 95.0, 0.15), (25.0, 75.0, 0.35))
"""(low percentile, high percentile, opacity) of the 90% and 50% bands."""
MIN_RUNS_FOR_FAN = 10
"""Months where fewer businesses of an arm are still open show no fan (too few to summarise)."""
DPI = 150


def arm_colours(arms: Sequence[str]) -> dict[str, str]:
    """A fixed colour per arm: ``independent`` first, the others in scenario order."""
    ordered = [BASELINE, *[a for a in arms if a != BASELINE]] if BASELINE in arms else list(arms)
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(ordered)}


def _usd(value: float, _position: object = None) -> str:
    """Compact dollars for axis ticks: -$25k, $1.2M."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        return f"{sign}${size / 1e6:.1f}M"
    if size >= 1e3:
        return f"{sign}${size / 1e3:.0f}k"
    return f"{sign}${size:.0f}"


def _percent(value: float, _position: object = None) -> str:
    """Shares as whole percents for axis ticks."""
    return f"{value:.0%}"


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


def percentiles_by_month(
    values: Array, mask: NDArray[np.bool_], percentiles: Sequence[float]
) -> Array:
    """Percentiles across runs of each month, over the runs where ``mask`` holds.

    Args:
        values: Array (replication, month).
        mask: Which (replication, month) values count.
        percentiles: Percentiles to compute, 0 to 100.

    Returns:
        Array (percentile, month); NaN in months with fewer than ``MIN_RUNS_FOR_FAN`` runs.
    """
    enough = mask.sum(axis=0) >= MIN_RUNS_FOR_FAN
    kept = np.where(mask & enough, values, np.nan)
    with np.errstate(all="ignore"):
        out = np.nanpercentile(np.where(enough, kept, 0.0), list(percentiles), axis=0)
    return np.asarray(np.where(enough, out, np.nan), dtype=float)


def fan_chart(
    results: SimulationResults,
    values: Array,
    *,
    ax: Axes | None = None,
    open_only: bool = True,
    ylabel: str = "",
    title: str = "",
    money: bool = False,
) -> Axes:
    """Median line and 50%/90% bands per arm of a monthly array shaped (arm, run, month).

    Args:
        results: The results the array comes from (arms, labels, horizon, survival).
        values: Array (arm, replication, month).
        ax: Axes to draw on; a new figure's if not given.
        open_only: Summarise only the businesses still open each month.
        ylabel: Label of the y axis, with its unit.
        title: Title of the axes.
        money: Format the y axis in dollars.

    Returns:
        The axes drawn on.
    """
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    alive = results.series("alive") > 0.5
    mask = alive if open_only else np.ones_like(alive)
    months = np.arange(1, results.horizon_months + 1)
    for i, arm in enumerate(results.arms):
        colour = colours[arm]
        wanted = [q for low, high, _ in FAN_BANDS for q in (low, high)] + [50.0]
        lines = dict(zip(wanted, percentiles_by_month(values[i], mask[i], wanted), strict=True))
        for low, high, alpha in FAN_BANDS:
            ax.fill_between(months, lines[low], lines[high], color=colour, alpha=alpha, linewidth=0)
        label = f"{results.labels[arm]} median"
        ax.plot(months, lines[50.0], color=colour, linewidth=2, label=label)
    _month_axis(ax, results.horizon_months)
    if money:
        ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small", title="lines: median; bands: 50%, 90%")
    return ax


def customers(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """Customer base by month: median and 50%/90% bands of the businesses still open."""
    ax = fan_chart(
        results,
        results.series("customers"),
        ax=ax,
        ylabel="Active customers",
        title="Customer base (businesses still open)",
    )
    ax.set_ylim(bottom=0.0)
    return ax


def monthly_cash_flow(results: SimulationResults) -> Array:
    """Cash the business makes for its owner each month: operating profit less debt service."""
    return (
        results.series("operating_profit")
        - results.series("interest")
        - results.series("principal")
    )


def cash_flow(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """Monthly cash flow after debt service and before the owner's draw, zero marked."""
    ax = fan_chart(
        results,
        monthly_cash_flow(results),
        ax=ax,
        ylabel="USD per month",
        title="Monthly cash flow after loan payments, before owner's draw (open businesses)",
        money=True,
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    return ax


def owner_cumulative_cash_flow(results: SimulationResults) -> Array:
    """The owner's running total of draws less equity and savings put in, (arm, run, month)."""
    equity = np.array([results.scenario.arm(a).equity_usd() for a in results.arms])
    equity = np.repeat(equity[:, None], results.runs, axis=1)
    return owner_cash_flow(results.series("owner_draw"), results.series("owner_injection"), equity)


def owner_cash(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """The owner's cumulative cash flow over every run (closed businesses included), zero marked."""
    ax = fan_chart(
        results,
        owner_cumulative_cash_flow(results),
        ax=ax,
        open_only=False,
        ylabel="USD, cumulative",
        title="Owner's cash: draws less equity and savings put in (all runs)",
        money=True,
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.annotate(
        "owner has the money put in back",
        xy=(0.01, 0.0),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize="x-small",
        color="black",
    )
    return ax


def survival(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """Share of businesses still open by month per arm, with the scenario's BLS sector curve."""
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    curve = survival_curve(results.series("alive"))
    months = np.arange(0, results.horizon_months + 1)
    for i, arm in enumerate(results.arms):
        shares = np.concatenate([[1.0], curve[i]])
        label = results.labels[arm]
        ax.step(months, shares, where="post", color=colours[arm], linewidth=2, label=label)
    sector = results.scenario.bls_sector
    bls = {y: s for y, s in bls_survival(sector).items() if 12 * y <= results.horizon_months}
    ax.plot(
        [12 * y for y in bls],
        list(bls.values()),
        linestyle="--",
        marker="o",
        color=REFERENCE_COLOUR,
        label=f"BLS, {BLS_SECTOR_NAMES[sector]}, born 2013 (yearly)",
        gid="bls-reference",
    )
    _month_axis(ax, results.horizon_months)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylabel("Businesses still open")
    ax.set_title("Survival")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return ax


_METRIC_NAMES = {
    "npv": "Owner's NPV",
    "final_cash": "Business cash at the horizon or closure",
    "cumulative_owner_cash_flow": "Owner's cumulative cash flow",
    "break_even_month": "Break-even month",
    "payback_month": "Payback month",
    "final_customers": "Customers at the horizon",
}


def _ecdf(
    ax: Axes, values: Array, colour: str, label: str, total: int, until: float | None = None
) -> None:
    """Step ECDF over ``total`` runs; NaN values (never reached) leave it short of 100%.

    With ``until`` the last step is drawn on to that x, so a plateau below 100% shows.
    """
    finite = np.sort(values[~np.isnan(values)])
    if finite.size == 0:
        ax.plot([], [], color=colour, label=label)
        return
    shares = np.arange(1, finite.size + 1) / total
    tail_x = [until] if until is not None and until > finite[-1] else []
    ax.step(
        np.concatenate([[finite[0]], finite, tail_x]),
        np.concatenate([[0.0], shares, shares[-1:] if tail_x else []]),
        where="post",
        color=colour,
        linewidth=2,
        label=label,
    )


def _median_marker(ax: Axes, values: Array, colour: str) -> None:
    finite = values[~np.isnan(values)]
    if finite.size:
        ax.axvline(float(np.median(finite)), color=colour, linestyle=":", linewidth=1.5)


def distribution(
    results: SimulationResults,
    metric: str,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """ECDF of a per-run money outcome (e.g. ``npv``, ``final_cash``) by arm, medians dotted."""
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    for i, arm in enumerate(results.arms):
        values = results.outcomes[metric][i]
        median = float(np.nanmedian(values))
        _ecdf(
            ax, values, colours[arm], f"{results.labels[arm]} (median {_usd(median)})", values.size
        )
        _median_marker(ax, values, colours[arm])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(_usd))
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(f"{_METRIC_NAMES.get(metric, metric)} (USD)")
    ax.set_ylabel("Share of runs at or below")
    ax.set_title(title or _METRIC_NAMES.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
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
) -> Axes:
    """Histogram of an arm minus the independent arm over paired runs, P(better) printed.

    Args:
        results: Simulation results with the ``independent`` arm and at least one other.
        ax: Axes to draw on; a new figure's if not given.
        metric: Per-run outcome to difference (a money outcome such as ``npv``).
        arm: The arm compared; the first arm that is not ``independent`` if not given.

    Returns:
        The axes drawn on.
    """
    ax = _new_axes(ax)
    arm = arm or next(a for a in results.arms if a != BASELINE)
    colours = arm_colours(results.arms)
    treated = results.outcomes[metric][results.arm_index(arm)]
    baseline = results.outcomes[metric][results.arm_index(BASELINE)]
    diff = treated - baseline
    finite = diff[~np.isnan(diff)]
    bins = max(10, min(60, int(np.sqrt(finite.size)) * 2)) if finite.size > 1 else 10
    ax.hist(finite, bins=bins, color=colours[arm], alpha=0.75, edgecolor="white")
    ax.axvline(0.0, color="black", linewidth=1)
    if finite.size:
        ax.axvline(float(np.mean(finite)), color="black", linestyle="--", linewidth=1, label="mean")
        ax.axvline(
            float(np.median(finite)), color="black", linestyle=":", linewidth=1, label="median"
        )
    better = probability_better(treated, baseline)
    ax.text(
        0.02,
        0.95,
        f"{results.labels[arm]} does better\nin {better:.0%} of paired runs",
        transform=ax.transAxes,
        va="top",
        fontsize="small",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
        gid="probability-better",
    )
    name = _METRIC_NAMES.get(metric, metric)
    ax.xaxis.set_major_formatter(FuncFormatter(_usd))
    ax.set_xlabel(f"{name}: {results.labels[arm]} minus {results.labels[BASELINE]} (USD)")
    ax.set_ylabel("Paired runs")
    ax.set_title(f"{name}, paired difference (same market and events)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def milestone(
    results: SimulationResults,
    metric: str = "break_even_month",
    ax: Axes | None = None,
) -> Axes:
    """ECDF of the month a milestone is reached by arm; the share never reaching it is printed."""
    ax = _new_axes(ax)
    colours = arm_colours(results.arms)
    lines = []
    for i, arm in enumerate(results.arms):
        values = results.outcomes[metric][i]
        never = float(np.mean(np.isnan(values)))
        horizon = float(results.horizon_months)
        _ecdf(ax, values, colours[arm], results.labels[arm], values.size, until=horizon)
        lines.append(f"{results.labels[arm]}: {never:.0%} never")
    ax.text(
        0.98,
        0.04,
        f"Not within {results.horizon_months} months\n" + "\n".join(lines),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
        gid="never-reached",
    )
    _month_axis(ax, results.horizon_months)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylabel("Share of runs reached by then")
    ax.set_title(_METRIC_NAMES.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def break_even(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the break-even month by arm (runs that never break even shown as such)."""
    return milestone(results, "break_even_month", ax)


def payback(results: SimulationResults, ax: Axes | None = None) -> Axes:
    """ECDF of the month the owner has the money put in back, by arm."""
    return milestone(results, "payback_month", ax)


DASHBOARD_PANELS: tuple[Panel, ...] = (
    customers,
    owner_cash,
    survival,
    npv,
    paired_difference,
    break_even,
)


def dashboard(results: SimulationResults, figure: Figure | None = None) -> Figure:
    """The key panels on one A4 landscape page: customers, owner's cash, survival, NPV, break-even.

    Args:
        results: The results to show.
        figure: Figure to draw in; a new A4 landscape one if not given.

    Returns:
        The figure, with six panels and a title naming the scenario and the run.
    """
    figure = figure or Figure(figsize=(11.69, 8.27), layout="constrained")
    grid = figure.subplots(2, 3)
    for draw, ax in zip(DASHBOARD_PANELS, grid.flat, strict=True):
        draw(results, ax)
        _compact(ax)
    kind = (
        "plan on paper (deterministic)"
        if results.deterministic
        else f"{results.runs:,} paired runs"
    )
    figure.suptitle(
        f"{results.scenario.name}: {' vs '.join(results.labels.values())}\n"
        f"{kind}, {results.horizon_months} months, seed {results.seed}",
        fontsize=11,
    )
    return figure


def _compact(ax: Axes) -> None:
    """Smaller type for a panel of a one-page dashboard."""
    ax.title.set_fontsize(9)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.tick_params(labelsize=7)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontsize(6.5)
        legend.get_title().set_fontsize(6.5)
    for text in ax.texts:
        text.set_fontsize(6.5)


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """One figure the command line writes: its file name, caption and how it is drawn."""

    name: str
    caption: str
    draw: Callable[[SimulationResults], Figure]


def _whole(draw: Panel) -> Callable[[SimulationResults], Figure]:
    """A one-panel figure of ``draw`` on a new page."""

    def figure(results: SimulationResults) -> Figure:
        page = Figure(figsize=(8.0, 4.8), layout="constrained")
        draw(results, page.add_subplot())
        return page

    return figure


def paired_differences(results: SimulationResults) -> Figure:
    """One paired NPV-difference panel per arm compared with the independent, side by side."""
    others = [arm for arm in results.arms if arm != BASELINE]
    page = Figure(figsize=(8.0 * len(others), 4.8), layout="constrained")
    for arm, ax in zip(others, np.atleast_1d(page.subplots(1, len(others))), strict=True):
        paired_difference(results, ax, arm=arm)
    return page


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("dashboard", "The key panels on one page.", dashboard),
    FigureSpec(
        "customers",
        "Active customers by month, businesses still open: median line, 50% and 90% bands.",
        _whole(customers),
    ),
    FigureSpec(
        "cash_flow",
        "Monthly cash flow after loan payments and before the owner's draw, businesses still open.",
        _whole(cash_flow),
    ),
    FigureSpec(
        "owner_cash",
        "The owner's cumulative cash flow (draws less equity and savings put in), every run.",
        _whole(owner_cash),
    ),
    FigureSpec(
        "survival",
        f"Share of businesses still open by month, against BLS survival ({BLS_SOURCE}).",
        _whole(survival),
    ),
    FigureSpec(
        "final_cash", "Business cash at the horizon or at closure, by arm.", _whole(final_cash)
    ),
    FigureSpec(
        "npv", "The owner's net present value by arm; dotted lines mark medians.", _whole(npv)
    ),
    FigureSpec(
        "npv_difference",
        "Owner's NPV of each franchise arm minus the independent, run by run over the same "
        "market and events.",
        paired_differences,
    ),
    FigureSpec(
        "break_even",
        "Month operating profit turns non-negative for good; runs that never do stay below 100%.",
        _whole(break_even),
    ),
    FigureSpec(
        "payback",
        "Month the owner has the money put in back; runs that never do stay below 100%.",
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


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (rendered with the Agg canvas, no display needed)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def render(results: SimulationResults, names: Iterable[str] = FIGURE_NAMES) -> dict[str, bytes]:
    """Draw the named figures and return each as PNG bytes, by name.

    Raises:
        KeyError: A name is not a figure.
    """
    return {name: png_bytes(figure_spec(name).draw(results)) for name in names}


SWEEP_LINE_STYLES = ("-", "--", ":", "-.")
"""Line styles telling apart the values of a sweep's second parameter."""
SWEEP_LEGEND_PAIR_CHARS = 45
"""Longest label a two-column sweep legend takes: two of them fit across a 7-inch figure."""


def sweep_chart(frame: pd.DataFrame, metric: str = "npv_mean", ax: Axes | None = None) -> Axes:
    """One metric of a parameter sweep against its first parameter: a line per arm, 95% bands.

    With two parameters each arm gets one line per value of the second, told apart by line
    style and lightness, and the legend sits beside the axes, clear of the lines. An arm a
    parameter does not change (``franchise_sim.sweeps.reached_by``) is drawn once and its
    label says so (``Independent shop: not changed by royalty rate``). Shares are shown in
    percent and money in USD; contrasts with the independent arm get a zero line (the share
    of runs with a higher NPV a 50% line).

    Args:
        frame: What ``franchise_sim.sweeps.sweep`` returned.
        metric: A metric of the frame (see ``franchise_sim.sweeps.metric_names``).
        ax: Axes to draw on; a new figure's (not registered with pyplot) if not given. To see
            the chart in Jupyter without an ``ax``, use ``franchise_sim.sweeps.plot_sweep``.

    Returns:
        The axes drawn on.

    Raises:
        KeyError: The frame has no such metric.
    """
    from franchise_sim.sweeps import metric_info, parameter_columns, reached_by

    rows = frame[frame["metric"] == metric]
    if rows.empty:
        raise KeyError(f"no metric {metric!r} in the sweep")
    info = metric_info(metric)
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
            label = str(line["label"].iloc[0])
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
