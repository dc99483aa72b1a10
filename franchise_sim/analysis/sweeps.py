"""Parameter sweeps: the paired comparison at every point of a grid of one or two scenario changes.

Every point is simulated with the same seed and runs, so replication ``r`` meets the same market
and random events at every point (common random numbers) and the curves across points are smooth.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from franchise_sim.analysis.comparison import (
    BASELINE,
    choose_baseline,
    compare,
    number_text,
    period,
    signed_text,
)
from franchise_sim.analysis.statistics import Interval, mean_interval, median_interval
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import Progress, simulate
from franchise_sim.model.books import INSOLVENT
from franchise_sim.scenario.changes import (
    ArmField,
    changed_fields,
    reached_arms,
    target_paths,
    with_changes,
)
from franchise_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

MAX_PARAMETERS = 2
"""A sweep varies one parameter, or two over their full grid."""
FIXED_PATHS = ("run.seed", "run.runs", "run.horizon_months")
"""Paths a sweep cannot vary: the same seed, runs and horizon at every point make it paired."""
FRAME_COLUMNS = ("arm", "label", "metric", "estimate", "low", "high")
"""Columns of the tidy sweep frame after one column per parameter."""

Point = tuple[Any, ...]
"""One value per swept parameter, in the grid's order."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """How a sweep metric reads: its title in words and its unit."""

    title: str  # short enough for an axis label
    unit: Literal["share", "usd", "points"]  # shares 0 to 1, USD, or percentage points
    contrast: bool  # an arm against the baseline (only the other arms have it)


def metric_info(metric: str, baseline: str = BASELINE) -> MetricInfo:
    """The title and unit of a sweep metric, such as ``npv_mean`` or ``survival_month_60``.

    Args:
        metric: The metric's name (see ``metric_names``).
        baseline: The arm the contrasts are set against, named in their titles.

    Raises:
        KeyError: No sweep metric has that name.
    """
    fixed = {
        "npv_mean": MetricInfo("Owner's NPV, mean", "usd", False),
        "npv_median": MetricInfo("Owner's NPV, median", "usd", False),
        "break_even_share": MetricInfo("Reaching break-even", "share", False),
        "payback_share": MetricInfo("Owner paid back", "share", False),
        "insolvency_share": MetricInfo("Closed insolvent", "share", False),
        "npv_difference": MetricInfo(f"Owner's NPV minus the {baseline}'s", "usd", True),
        "probability_npv_better": MetricInfo(
            f"Runs with a higher NPV than the {baseline}", "share", True
        ),
    }
    if metric in fixed:
        return fixed[metric]
    survival = (("survival_month_", False), ("survival_difference_points_month_", True))
    for prefix, contrast in survival:
        month = metric.removeprefix(prefix)
        if month != metric and month.isdigit() and int(month) > 0:
            title = f"Open after {period(int(month))}"
            if contrast:
                return MetricInfo(f"{title}, minus the {baseline}", "points", True)
            return MetricInfo(title, "share", False)
    raise KeyError(f"{metric!r} is not a sweep metric")


def metric_names(horizon_months: int) -> tuple[str, ...]:
    """The metrics a sweep reports over ``horizon_months`` months, per-arm ones first.

    Survival is reported after 12 months and at the horizon (only the horizon when it is
    shorter than 12 months); the last three metrics are contrasts with the baseline arm.
    """
    return (
        *(f"survival_month_{m}" for m in _survival_months(horizon_months)),
        "npv_mean",
        "npv_median",
        "break_even_share",
        "payback_share",
        "insolvency_share",
        "npv_difference",
        f"survival_difference_points_month_{horizon_months}",
        "probability_npv_better",
    )


def _survival_months(horizon_months: int) -> list[int]:
    """Months whose survival a sweep reports: 12 and the horizon, or the horizon alone."""
    return sorted({m for m in (12, horizon_months) if m <= horizon_months})


def sweep_points(
    scenario: Scenario, grid: Mapping[str, Iterable[Any]]
) -> list[tuple[Point, Scenario]]:
    """Every point of the grid with its changed, validated scenario, in grid order.

    Args:
        scenario: The scenario to change; it is not modified.
        grid: One or two dotted paths (as ``Scenario.with_changes`` takes them), each with the
            values to try. Two paths give their full grid, the second varying fastest.

    Returns:
        ``(values, scenario)`` for each point.

    Raises:
        ValueError: Not one or two parameters, a parameter with no values, two paths setting
            the same field of an arm (or one inside the other), or a path the sweep itself
            fixes (``run.seed``, ``run.runs``, ``run.horizon_months``: give them as arguments).
        ScenarioError: A path names no field, a shared path would miss an arm that sets its own
            value there (use ``arms.*.<path>``), or a value is invalid there.
    """
    values = _grid(grid)
    seen: dict[str, frozenset[ArmField]] = {}
    for path in values:
        fields = changed_fields(scenario, path)
        for full in target_paths(scenario, path):
            if ".".join(full) in FIXED_PATHS:
                name = full[-1]
                raise ValueError(
                    f"{path}: cannot be swept; every point uses the same "
                    f"{name.replace('_', ' ')} (give it as `{name}`, "
                    f"--{name.replace('_', '-')} on the command line)"
                )
        for other, theirs in seen.items():
            shared = _overlap(fields, theirs)
            if shared is not None:
                arm, inner = shared
                raise ValueError(
                    f"{other} and {path} name the same field "
                    f"({'.'.join(inner) or 'the whole arm'} of arm `{arm}`)"
                )
        seen[path] = fields
    points = itertools.product(*values.values())
    return [(p, with_changes(scenario, dict(zip(values, p, strict=True)))) for p in points]


def _overlap(first: frozenset[ArmField], second: frozenset[ArmField]) -> ArmField | None:
    """A field of an arm that both sets of fields change (one path inside the other counts)."""
    for arm, path in sorted(first):
        for other_arm, other in sorted(second):
            if arm == other_arm and path[: len(other)] == other[: len(path)]:
                return arm, path if len(path) >= len(other) else other
    return None


def _grid(grid: Mapping[str, Iterable[Any]]) -> dict[str, list[Any]]:
    """The grid with each parameter's values as a list, checked for shape."""
    if not 1 <= len(grid) <= MAX_PARAMETERS:
        named = f": {', '.join(grid)}" if grid else ""
        raise ValueError(f"a sweep varies one or two fields; {len(grid)} were given{named}")
    return {path: _values(path, given) for path, given in grid.items()}


def _values(path: str, given: Iterable[Any]) -> list[Any]:
    """The values of one parameter as a list of plain Python values."""
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise ValueError(f"{path}: give a list of values, not {given!r}")
    values = [v.item() if isinstance(v, np.generic) else v for v in given]
    if not values:
        raise ValueError(f"{path}: no values to sweep")
    return values


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    horizon_months: int | None = None,
    progress: Progress | None = None,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Simulate every point of a grid of scenario changes with common random numbers.

    Every point's scenario is built and validated before anything is simulated. Each point
    then runs ``simulate`` with the same seed, runs and horizon, so the differences between
    points come from the change, not from sampling noise.

    Shares (survival, break-even, payback, insolvency, P(NPV better)) carry the Student-t
    interval of the mean of their 0/1 values (``mean_interval``), the interval the headline
    comparison uses for survival differences; it is narrow but not wrong at shares near 0 or
    1 with hundreds of runs, and collapses to the point when every run agrees. The NPV mean
    has a t interval, the NPV median a distribution-free order-statistic interval, and the
    contrasts the paired intervals of ``compare``.

    Args:
        scenario: The scenario to start from.
        grid: One or two dotted paths, each with the values to try (see ``sweep_points``).
        runs: Paired replications per point; the scenario's ``run.runs`` if not given.
        seed: Master seed of every point; the scenario's ``run.seed`` if not given.
        workers: Processes per point; all cores if not given, in-process when 1.
        horizon_months: Months to simulate; the scenario's ``run.horizon_months`` if not given.
        progress: Optional callback told how many replications each finished batch held
            (points x runs in all).
        baseline: The arm the contrasts are set against; ``independent`` if not given.

    Returns:
        A tidy frame, one row per (point, arm, metric): one column per parameter (named by its
        path as given), then ``arm``, ``label``, ``metric``, ``estimate``, ``low`` and
        ``high`` (95% interval; NaN where there is none). Metrics are ``metric_names``; the
        contrasts appear only for arms other than the baseline. ``frame.attrs`` holds
        ``scenario``, ``baseline``, ``parameters``, ``grid``, ``reached`` (each parameter's
        arms, from ``scenario.changes.reached_arms``: an arm not listed has the same numbers
        at every value of it), ``points``, ``seed``, ``runs``, ``horizon_months``, ``arms``,
        ``labels`` and ``run_seconds``.

    Raises:
        ValueError: A malformed grid (see ``sweep_points``), or runs, horizon or workers
            below 1.
        ScenarioError: A path or a value is invalid.
        BaselineError: ``baseline`` is not an arm of the scenario.
    """
    import pandas as pd

    base = choose_baseline(scenario.arm_names, baseline)
    plain = _grid(grid)
    points = sweep_points(scenario, plain)
    runs = scenario.run.runs if runs is None else runs
    seed = scenario.run.seed if seed is None else seed
    horizon = scenario.run.horizon_months if horizon_months is None else horizon_months
    parameters = list(plain)
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    for point, changed in points:
        results = simulate(
            changed,
            runs=runs,
            seed=seed,
            workers=workers,
            horizon_months=horizon,
            progress=progress,
        )
        seconds += results.run_seconds
        where = dict(zip(parameters, point, strict=True))
        labels = results.labels
        for arm, metric, interval in point_metrics(results, base):
            rows.append(
                {
                    **where,
                    "arm": arm,
                    "label": labels[arm],
                    "metric": metric,
                    "estimate": interval.estimate,
                    "low": interval.low,
                    "high": interval.high,
                }
            )
    frame = pd.DataFrame(rows, columns=[*parameters, *FRAME_COLUMNS])
    frame.attrs.update(
        {
            "scenario": scenario.name,
            "baseline": base,
            "parameters": parameters,
            "grid": plain,
            "reached": {path: list(reached_arms(scenario, path)) for path in parameters},
            "points": len(points),
            "seed": seed,
            "runs": runs,
            "horizon_months": horizon,
            "arms": list(scenario.arm_names),
            "labels": {arm: scenario.arm(arm).label for arm in scenario.arm_names},
            "run_seconds": round(seconds, 3),
        }
    )
    return frame


def point_metrics(
    results: SimulationResults, baseline: str | None = None
) -> list[tuple[str, str, Interval]]:
    """The sweep metrics of one simulation: ``(arm, metric, interval)`` in frame order.

    Per arm, in ``results.arms`` order, the metrics of ``metric_names`` that are not
    contrasts; then, per arm other than the baseline (``independent`` if None), the three
    contrasts.
    """
    horizon = results.horizon_months
    out = results.outcomes
    rows: list[tuple[str, str, Interval]] = []
    for i, arm in enumerate(results.arms):
        shares = {
            "break_even_share": ~np.isnan(out["break_even_month"][i]),
            "payback_share": ~np.isnan(out["payback_month"][i]),
            "insolvency_share": results.closure_reasons[i] == INSOLVENT,
        }
        for month in _survival_months(horizon):
            rows.append((arm, f"survival_month_{month}", mean_interval(results.alive_at(month)[i])))
        rows.append((arm, "npv_mean", mean_interval(out["npv"][i])))
        rows.append((arm, "npv_median", median_interval(out["npv"][i])))
        for metric, indicator in shares.items():
            rows.append((arm, metric, mean_interval(indicator.astype(float))))
    comparison = compare(results, baseline)
    base = results.arm_index(comparison.baseline)
    for contrast in comparison.contrasts:
        i = results.arm_index(contrast.arm)
        better = mean_interval((out["npv"][i] > out["npv"][base]).astype(float))
        rows += [
            (contrast.arm, "npv_difference", contrast.npv),
            (
                contrast.arm,
                f"survival_difference_points_month_{horizon}",
                contrast.survival_points[horizon],
            ),
            (
                contrast.arm,
                "probability_npv_better",
                Interval(contrast.probability_npv_better, better.low, better.high),
            ),
        ]
    return rows


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """The parameter columns of a sweep frame."""
    return [c for c in frame.columns if c not in FRAME_COLUMNS]


def reached_by(frame: pd.DataFrame, parameter: str) -> tuple[str, ...]:
    """The arms a sweep's parameter changes, in the frame's arm order.

    An arm not among them has the same numbers at every value of the parameter (the
    independent, for a franchise term). A frame that does not record it (one read back from
    ``sweep.csv``) is taken to change every arm.

    Raises:
        KeyError: The frame has no such parameter.
    """
    if parameter not in parameter_columns(frame):
        raise KeyError(f"no parameter {parameter!r} in the sweep")
    arms = tuple(dict.fromkeys(frame["arm"]))
    reached = frame.attrs.get("reached", {}).get(parameter)
    return arms if reached is None else tuple(arm for arm in arms if arm in reached)


def sweep_table(
    frame: pd.DataFrame,
    metric: str,
    statistic: Literal["estimate", "low", "high"] = "estimate",
) -> pd.DataFrame:
    """One metric of a sweep as a wide table: one row per point, one column per arm.

    Args:
        frame: What ``sweep`` returned.
        metric: A metric in the frame, such as ``npv_median``.
        statistic: Which column to show.

    Returns:
        Rows indexed by the parameter values in sweep order, columns named by arm in the
        frame's order (only the arms that have the metric).

    Raises:
        KeyError: The frame has no such metric.
    """
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        known = ", ".join(dict.fromkeys(frame["metric"]))
        raise KeyError(f"no metric {metric!r} in the sweep; it has {known}")
    parameters = parameter_columns(frame)
    table = rows.pivot(index=parameters, columns="arm", values=statistic)
    order = rows[parameters].drop_duplicates()
    index = order[parameters[0]] if len(parameters) == 1 else order.set_index(parameters).index
    return table.reindex(index=index, columns=list(dict.fromkeys(rows["arm"])))


def sweep_text(frame: pd.DataFrame) -> str:
    """A sweep as a plain-text table for a terminal: one row per point.

    Each row shows every arm's share open at the horizon and median NPV, and for each arm
    other than the independent its paired NPV difference (mean, 95% interval) and the share
    of paired runs in which its NPV is higher.
    """
    attrs = frame.attrs
    horizon = int(attrs["horizon_months"])
    parameters = parameter_columns(frame)
    survival = sweep_table(frame, f"survival_month_{horizon}")
    median = sweep_table(frame, "npv_median")
    columns: list[tuple[str, str, list[str]]] = [
        ("", path, [_value_text(v) for v in survival.index.get_level_values(i)])
        for i, path in enumerate(parameters)
    ]
    open_title = f"Open after {period(horizon)}"
    columns += [(open_title, str(arm), [f"{x:.1%}" for x in survival[arm]]) for arm in survival]
    columns += [
        ("Median NPV, USD", str(arm), [number_text(x) for x in median[arm]]) for arm in median
    ]
    if "npv_difference" in set(frame["metric"]):
        est, low, high = (
            sweep_table(frame, "npv_difference", s) for s in ("estimate", "low", "high")
        )
        better = sweep_table(frame, "probability_npv_better")
        for arm in est:
            cells = [
                f"{signed_text(e)} ({signed_text(lo)} to {signed_text(hi)})"
                for e, lo, hi in zip(est[arm], low[arm], high[arm], strict=True)
            ]
            group = f"{arm} minus {attrs.get('baseline', BASELINE)}"
            columns.append((group, "NPV difference (95% CI)", cells))
            columns.append((group, "P(NPV higher)", [f"{p:.0%}" for p in better[arm]]))
    runs = int(attrs["runs"])
    labels = attrs.get("labels", {})
    lines = [
        f"{attrs.get('scenario', 'Sweep')}: {int(attrs['points'])} points x {runs:,} paired "
        f"run{'s' if runs != 1 else ''} x {horizon} months (seed {attrs['seed']}), "
        "the same random numbers at every point",
        "Arms: " + "; ".join(f"{arm} = {label}" for arm, label in labels.items()),
        "Changes: " + "; ".join(_reach_text(frame, path) for path in parameters),
        "",
        *_layout(columns, left=len(parameters)),
        "",
        "NPV difference: paired mean over the same market and events; P(NPV higher): share of "
        "paired runs.",
    ]
    return "\n".join(lines)


def _layout(columns: list[tuple[str, str, list[str]]], *, left: int) -> list[str]:
    """Columns as text: a group line, a header line, then the cells; the first ``left`` left."""
    gap = "  "
    widths = [max(len(head), *(len(c) for c in cells)) for _, head, cells in columns]
    spans: list[tuple[str, int, int]] = []  # group, first column, last column
    for i, (group, _, _) in enumerate(columns):
        if spans and spans[-1][0] == group:
            spans[-1] = (group, spans[-1][1], i)
        else:
            spans.append((group, i, i))
    for group, first, last in spans:  # a group title wider than its columns widens the last
        span = sum(widths[first : last + 1]) + len(gap) * (last - first)
        widths[last] += max(0, len(group) - span)
    top = []
    for group, first, last in spans:
        span = sum(widths[first : last + 1]) + len(gap) * (last - first)
        top.append(f"{group:>{span}}")

    def line(cells: list[str]) -> str:
        return gap.join(
            f"{c:<{w}}" if i < left else f"{c:>{w}}"
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rows = [line(list(cells)) for cells in zip(*(c for _, _, c in columns), strict=True)]
    return [gap.join(top).rstrip(), line([head for _, head, _ in columns]), *rows]


def _reach_text(frame: pd.DataFrame, parameter: str) -> str:
    """Which arms a parameter changes, in words: ``royalty_rate changes franchise only``."""
    arms = list(dict.fromkeys(frame["arm"]))
    reached = reached_by(frame, parameter)
    if len(reached) == len(arms):
        return f"{parameter} changes every arm"
    missed = ", ".join(arm for arm in arms if arm not in reached)
    return f"{parameter} changes {', '.join(reached) or 'no arm'} only, not {missed}"


def _value_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) and abs(value) < 1e6 else str(value)


def default_charts(horizon_months: int) -> tuple[str, ...]:
    """The metrics charted when none are chosen: the NPV mean and survival at the horizon."""
    return ("npv_mean", f"survival_month_{horizon_months}")


def crossing(
    frame: pd.DataFrame, metric: str = "npv_difference", *, arm: str, level: float = 0.0
) -> Interval | None:
    """Where a metric of one arm crosses ``level`` along the swept parameter.

    "Where does the franchise stop paying off?" is the royalty at which its paired NPV
    difference from the independent crosses zero. The crossing is found by linear
    interpolation between the first two neighbouring points on either side of ``level``; its
    interval is where the 95% band's two edges cross the same level.

    Args:
        frame: What ``sweep`` returned for one numeric parameter (with two, filter the frame to
            one value of the second first).
        metric: The metric to follow.
        arm: The arm to follow, such as ``franchise``.
        level: The level to cross.

    Returns:
        The parameter value at the crossing, with the interval from the band's edges (NaN for an
        edge that does not cross within the sweep); None when the estimate never crosses.

    Raises:
        KeyError: The frame has no such metric for that arm.
        ValueError: The frame varies two parameters, or the parameter is not numeric.
    """
    parameters = [p for p in parameter_columns(frame) if frame[p].nunique() > 1]
    if len(parameters) != 1:
        raise ValueError(
            "crossing follows one parameter; filter the frame to one value of the other"
        )
    rows = frame[(frame["metric"] == metric) & (frame["arm"] == arm)]
    if rows.empty:
        raise KeyError(f"no metric {metric!r} for arm {arm!r} in the sweep")
    rows = rows.sort_values(parameters[0])
    try:
        x = rows[parameters[0]].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{parameters[0]} is not numeric; no crossing to find") from None
    estimate, *edges = (
        _first_crossing(x, rows[column].to_numpy(dtype=float), level)
        for column in ("estimate", "low", "high")
    )
    if estimate is None:
        return None
    below = [e for e in edges if e is not None and e <= estimate]
    above = [e for e in edges if e is not None and e > estimate]
    return Interval(estimate, min(below, default=math.nan), max(above, default=math.nan))


def _first_crossing(x: NDArray[np.float64], y: NDArray[np.float64], level: float) -> float | None:
    """The first ``x`` at which the piecewise-linear ``y`` reaches ``level``, or None."""
    side = np.sign(y - level)
    for i in range(len(x) - 1):
        if side[i] == 0:
            return float(x[i])
        if side[i] * side[i + 1] < 0:
            return float(x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return float(x[-1]) if len(x) and side[-1] == 0 else None
