"""The headline comparison of the arms: survival, NPV, customers, paired differences, a verdict.

``compare`` turns results into a frozen ``Comparison``; ``Comparison.to_text`` renders the table
the command line prints, ``Comparison.to_frame`` gives the same figures as a tidy table, and
``verdict`` says in plain words which path is likely better for the owner and how sure that is.
The table's rows (``headline_rows``, ``difference_rows``) and the verdict read the same numbers,
so the command line, the report and a notebook show one set of figures.

Every other arm is set against one baseline arm, ``independent`` unless ``compare(results,
baseline=...)`` names another (``choose_baseline``); ``Comparison.pairs`` holds every pair of
arms besides, for comparisons of three strategies or more.

The table leads with what the draw policy does not set (survival, the owner's NPV and cash flow,
customers, milestones). The business's cash at the horizon comes last: it mostly shows the
policy itself, since the owner draws everything above the ceiling and the target draw only out
of cash above the floor.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from franchise_sim.analysis.statistics import (
    Interval,
    Spread,
    median_interval,
    paired_difference,
    probability_better,
    proportion_interval,
    runs_to_resolve,
    spread,
)
from franchise_sim.engine.results import SimulationResults

if TYPE_CHECKING:
    import pandas as pd

BASELINE = "independent"
"""The arm every other arm is compared with unless another is chosen (``baseline=``)."""

HUGE_RUNS = 1_000_000
"""Above this many runs a difference is called too small to matter."""


class BaselineError(KeyError):
    """The arm asked for as the baseline is not an arm of the results.

    Attributes:
        baseline: The name asked for.
        arms: The arms there are.
    """

    def __init__(self, baseline: str, arms: Sequence[str]) -> None:
        """Say which name was asked for among which arms."""
        super().__init__(baseline)
        self.baseline = baseline
        self.arms = tuple(arms)

    def __str__(self) -> str:
        """``no arm 'x' to compare with; the arms are independent, franchise``."""
        return f"no arm {self.baseline!r} to compare with; the arms are {', '.join(self.arms)}"


def choose_baseline(arms: Sequence[str], baseline: str | None = None) -> str:
    """The arm the others are compared with: ``baseline`` checked, or the default.

    Args:
        arms: The arms there are.
        baseline: The arm asked for; None for the default, ``independent`` (or the first arm
            when there is none of that name).

    Returns:
        The baseline's name.

    Raises:
        BaselineError: ``baseline`` is not one of ``arms``; the message names the arms there are.
    """
    if baseline is None:
        return BASELINE if BASELINE in arms else arms[0]
    if baseline not in arms:
        raise BaselineError(baseline, arms)
    return baseline


@dataclass(frozen=True, slots=True)
class ArmSummary:
    """Headline figures of one arm."""

    arm: str
    label: str
    survival: dict[int, float]  # month -> share open at its end
    survival_at_horizon: Interval  # share open at the horizon, Wilson 95% interval
    npv: Spread
    npv_median: Interval  # the median NPV with its order-statistic 95% interval
    npv_loss_share: float  # share of runs with NPV below 0
    owner_cash_flow: Spread  # the owner's cumulative cash flow at the horizon
    final_customers: Spread  # of the businesses still open at the horizon
    first_profitable_month: Spread
    first_profitable_share: float
    break_even_month: Spread
    break_even_share: float
    payback_month: Spread
    payback_share: float
    final_cash: Spread  # cash in the business at the horizon or closure: set by the draw policy
    cash_floor_usd: float
    cash_ceiling_usd: float


@dataclass(frozen=True, slots=True)
class Contrast:
    """One arm against another (the baseline, or any pair's first) over paired replications.

    Every difference is ``arm`` minus ``baseline``, run by run.
    """

    arm: str
    baseline: str
    survival_points: dict[int, Interval]  # month -> difference in points open at its end
    npv: Interval  # mean of the paired differences
    npv_median_difference: Interval  # median of the paired differences, order-statistic interval
    probability_npv_better: float
    owner_cash_flow: Interval
    final_customers: Interval  # a closed business counts 0
    final_customers_both_open: Interval  # over the runs where both are open at the horizon
    final_cash: Interval


@dataclass(frozen=True, slots=True)
class Wording:
    """How a verdict writes a number of a kind (see ``format_value``) and an arm's label."""

    value: Callable[[float, str], str]
    name: Callable[[str], str]


def format_value(x: float, kind: str) -> str:
    """One number as the table shows it; ``n/a`` for NaN.

    Args:
        x: The number.
        kind: ``usd`` ($12,500), ``signed_usd`` (+$12,500), ``count`` (1,053), ``signed_count``
            (+99), ``month`` (13), ``share`` (40%), ``share1`` (50.4%), ``points`` (+1.4 pts)
            or ``policy`` ($5,000, as ``usd``).

    Returns:
        The text, with an ASCII minus sign.
    """
    if math.isnan(x):
        return "n/a"
    if kind == "share":
        return f"{x:.0%}"
    if kind == "share1":
        return f"{x:.1%}"
    if kind == "points":
        return f"{_no_negative_zero(x, 1):+.1f} pts"
    whole = _no_negative_zero(x, 0)
    if kind in ("usd", "policy"):
        return f"${whole:,.0f}" if whole >= 0 else f"-${-whole:,.0f}"
    if kind == "signed_usd":
        return f"+${whole:,.0f}" if whole >= 0 else f"-${-whole:,.0f}"
    if kind == "signed_count":
        return f"{whole:+,.0f}"
    return f"{whole:,.0f}"


def _no_negative_zero(x: float, digits: int) -> float:
    """``x`` rounded, with -0 made 0 so that it never shows as ``-0``."""
    return round(x, digits) + 0.0


PLAIN = Wording(value=format_value, name=str)
"""Plain text: labels as they are, numbers as ``format_value`` writes them."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Which path is likely better for the owner, by how much and how sure: the numbers and words.

    Every number is the very object the headline table shows (``ArmSummary`` and ``Contrast``
    fields). Differences are this arm minus the baseline over paired runs.

    Attributes:
        arm: The arm compared with the baseline.
        label: Its label.
        baseline: The arm it is compared with.
        baseline_label: The baseline's label.
        runs: Paired runs the numbers rest on.
        horizon_months: The month survival is read at.
        deterministic: Whether this is the plan on paper (no intervals then).
        npv_median: This arm's median NPV with its order-statistic 95% interval.
        baseline_npv_median: The baseline's.
        npv_loss_share: Share of this arm's runs with NPV below 0.
        baseline_npv_loss_share: The baseline's.
        survival: This arm's share open at the horizon, with its 95% interval.
        baseline_survival: The baseline's.
        npv_mean_difference: Mean of the paired NPV differences, Student-t 95% interval.
        npv_median_difference: Median of the paired NPV differences, order-statistic interval.
        probability_npv_better: Share of paired runs in which this arm's NPV is higher.
        survival_difference_points: Paired difference in points open at the horizon.
        first_year_difference_points: The same after 12 months (None for a shorter horizon).
        npv_runs_to_resolve: About how many runs would resolve the sign of the mean NPV
            difference, ``(1.96 sd / |mean|)^2`` rounded up; None when its interval excludes 0
            (or cannot be computed); infinite for a mean of exactly 0.
        survival_runs_to_resolve: The same for the survival difference at the horizon.
    """

    arm: str
    label: str
    baseline: str
    baseline_label: str
    runs: int
    horizon_months: int
    deterministic: bool
    npv_median: Interval
    baseline_npv_median: Interval
    npv_loss_share: float
    baseline_npv_loss_share: float
    survival: Interval
    baseline_survival: Interval
    npv_mean_difference: Interval
    npv_median_difference: Interval
    probability_npv_better: float
    survival_difference_points: Interval
    first_year_difference_points: Interval | None
    npv_runs_to_resolve: float | None
    survival_runs_to_resolve: float | None

    @property
    def both_lose_money(self) -> bool:
        """Whether a typical owner loses money on either path (median NPV below 0 for both)."""
        return _loses(self.npv_median.estimate, self.npv_loss_share) and _loses(
            self.baseline_npv_median.estimate, self.baseline_npv_loss_share
        )

    @property
    def mean_and_typical_disagree(self) -> bool:
        """Whether the mean NPV difference and the typical paired run point different ways."""
        typical = np.sign(self.probability_npv_better - 0.5)
        mean = np.sign(self.npv_mean_difference.estimate)
        return bool(typical != 0 and mean != 0 and typical != mean)

    @property
    def sentence(self) -> str:
        """The verdict's first sentence: which path is likely better for the owner's NPV."""
        return self.sentences()[0]

    @property
    def text(self) -> str:
        """The whole verdict as plain text."""
        return " ".join(self.sentences())

    def sentences(self, wording: Wording = PLAIN) -> tuple[str, ...]:
        """The verdict, sentence by sentence, with numbers and labels written by ``wording``."""
        if self.deterministic:
            return _plan_sentences(self, wording)
        return _verdict_sentences(self, wording)


def _loses(median: float, loss_share: float) -> bool:
    return median < 0 or loss_share > 0.5


def _excludes_zero(i: Interval) -> bool:
    return not (math.isnan(i.low) or math.isnan(i.high)) and (i.low > 0 or i.high < 0)


def _verdict_sentences(v: Verdict, w: Wording) -> tuple[str, ...]:
    a, b = w.name(v.label), w.name(v.baseline_label)

    def usd(x: float) -> str:
        return w.value(x, "usd")

    def signed(x: float) -> str:
        return w.value(x, "signed_usd")

    def interval(i: Interval, kind: str) -> str:
        return f"95% interval {w.value(i.low, kind)} to {w.value(i.high, kind)}"

    p = v.probability_npv_better
    mean, med = v.npv_mean_difference, v.npv_median_difference
    mine, theirs = v.npv_median.estimate, v.baseline_npv_median.estimate
    out: list[str] = []
    if v.both_lose_money:
        out.append(
            f"Both paths lose money for a typical owner: the median NPV is {usd(mine)} for {a} "
            f"and {usd(theirs)} for {b}, and the NPV is below zero in "
            f"{v.npv_loss_share:.0%} and {v.baseline_npv_loss_share:.0%} of their runs."
        )
    typical = np.sign(p - 0.5)
    if v.mean_and_typical_disagree:
        lower = "lower" if mine < theirs else "higher"
        level = (
            f"{a}'s median NPV is {lower} ({usd(mine)} against {usd(theirs)}) and it"
            if (mine < theirs) == (typical < 0)
            else a
        )
        if typical < 0:
            out.append(
                f"Owner's NPV: {level} does better in only {p:.0%} of paired runs, but its mean "
                f"is higher by {usd(mean.estimate)} because of a few large wins: a typical owner "
                f"does better with {b}; {a} is a long shot with a fatter upside."
            )
        else:
            out.append(
                f"Owner's NPV: {level} does better in {p:.0%} of paired runs, but its mean is "
                f"lower by {usd(-mean.estimate)} because of a few large losses: a typical owner "
                f"does better with {a}, but it carries a fatter downside than {b}."
            )
    elif typical == 0 or mean.estimate == 0:
        out.append(
            f"Owner's NPV: no clear winner; {a} does better in {p:.0%} of paired runs against {b}."
        )
    else:
        better, worse = (a, b) if typical > 0 else (b, a)
        sure = "is likely better" if _excludes_zero(mean) else "leans ahead, but not clearly"
        share = f"it does better in {p:.0%}" if typical > 0 else f"{a} does better in only {p:.0%}"
        out.append(
            f"Owner's NPV: {better} {sure} than {worse}: {share} of paired runs, and the median "
            f"NPV is {usd(mine)} for {a} against {usd(theirs)} for {b}."
        )
    if math.isnan(mean.low):
        out.append("Too few runs to say how sure: run more.")
    else:
        out.append(
            f"By how much ({a} minus {b}, run by run): {signed(mean.estimate)} on average "
            f"({interval(mean, 'signed_usd')}"
            + _resolution(mean, v.npv_runs_to_resolve, v.runs)
            + f") and {signed(med.estimate)} at the median"
            + (f" ({interval(med, 'signed_usd')})" if not math.isnan(med.low) else "")
            + "."
        )
    out.append(
        f"Each on its own: the median NPV is {usd(mine)} for {a}"
        + (f" ({interval(v.npv_median, 'usd')})" if not math.isnan(v.npv_median.low) else "")
        + f" and {usd(theirs)} for {b}"
        + (
            f" ({interval(v.baseline_npv_median, 'usd')})"
            if not math.isnan(v.baseline_npv_median.low)
            else ""
        )
        + f"; the owner loses money (NPV below 0) in {v.npv_loss_share:.0%} and "
        f"{v.baseline_npv_loss_share:.0%} of runs."
    )
    losers = [
        name
        for name, median, share in (
            (a, mine, v.npv_loss_share),
            (b, theirs, v.baseline_npv_loss_share),
        )
        if _loses(median, share)
    ]
    if len(losers) == 1:
        out[-1] = out[-1][:-1] + f": {losers[0]} loses money for a typical owner."
    out.append(_survival_verdict(v, w))
    return tuple(out)


def _resolution(i: Interval, runs_needed: float | None, runs: int) -> str:
    """How the interval of a difference stands with respect to 0, inside its parentheses."""
    if _excludes_zero(i):
        return ", which excludes 0"
    text = f": its sign is not resolved at {runs:,} runs"
    if runs_needed is None or math.isnan(runs_needed):
        return text
    if runs_needed > HUGE_RUNS:
        return text + f"; more than {HUGE_RUNS:,} runs: the difference is too small to matter"
    if runs_needed <= runs:
        return text + ", though it is on the edge"
    return text + f"; about {_round_up(runs_needed):,} runs would resolve it"


def _round_up(n: float) -> int:
    """``n`` rounded up to two significant figures (4,213 -> 4,300)."""
    step = 10 ** max(0, len(str(math.ceil(n))) - 2)
    return int(math.ceil(n / step) * step)


def _survival_verdict(v: Verdict, w: Wording) -> str:
    a, b = w.name(v.label), w.name(v.baseline_label)
    gap, mine, theirs = v.survival_difference_points, v.survival, v.baseline_survival

    def level(i: Interval) -> str:
        if math.isnan(i.low):
            return w.value(i.estimate, "share1")
        return (
            f"{w.value(i.estimate, 'share1')} (95% interval {w.value(i.low, 'share1')} to "
            f"{w.value(i.high, 'share1')})"
        )

    after = period(v.horizon_months)
    if _excludes_zero(gap):
        more, less = (a, b) if gap.estimate > 0 else (b, a)
        head = f"Survival: {more} is more likely to be open after {after} than {less}"
    else:
        head = f"Survival after {after} shows no clear difference"
    text = f"{head}: {level(mine)} of {a} runs against {level(theirs)} of {b} runs"
    if not math.isnan(gap.low):
        text += (
            f", a gap of {w.value(gap.estimate, 'points')} (95% interval "
            f"{w.value(gap.low, 'points')} to {w.value(gap.high, 'points')}"
            + _resolution(gap, v.survival_runs_to_resolve, v.runs)
            + ")"
        )
    year = v.first_year_difference_points
    if (
        year is not None
        and _excludes_zero(year)
        and np.sign(year.estimate) != np.sign(gap.estimate if _excludes_zero(gap) else 0.0)
    ):
        ahead = a if year.estimate > 0 else b
        text += (
            f"; after 1 year the gap is {w.value(year.estimate, 'points')} (95% interval "
            f"{w.value(year.low, 'points')} to {w.value(year.high, 'points')}), in {ahead}'s "
            "favour"
        )
    return text + "."


def _plan_sentences(v: Verdict, w: Wording) -> tuple[str, ...]:
    a, b = w.name(v.label), w.name(v.baseline_label)
    mine, theirs = v.npv_median.estimate, v.baseline_npv_median.estimate
    better = a if mine > theirs else b
    npv = (
        f"On paper (every input at its mean, no random events) {better} is better for the "
        f"owner: an NPV of {w.value(mine, 'usd')} for {a} against {w.value(theirs, 'usd')} "
        f"for {b} ({w.value(mine - theirs, 'signed_usd')})."
        if mine != theirs
        else f"On paper (every input at its mean, no random events) {a} and {b} give the "
        f"owner the same NPV, {w.value(mine, 'usd')}."
    )

    def state(share: float) -> str:
        return "still open" if share > 0.5 else "closed"

    after = period(v.horizon_months)
    survival = (
        f"After {after} {a} is {state(v.survival.estimate)} and {b} is "
        f"{state(v.baseline_survival.estimate)}."
    )
    return (
        npv,
        survival,
        "The plan on paper says nothing about the odds: run it with random runs to see how "
        "likely each outcome is.",
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the headline table: a name and one cell per arm.

    A cell is ``(value,)`` or ``(low, high)`` (a range shown as ``low to high``), written as
    ``format_value`` writes ``kind``.
    """

    name: str
    kind: str
    cells: tuple[tuple[float, ...], ...]
    detail: bool = False  # a sub-row of the row above


@dataclass(frozen=True, slots=True)
class DifferenceRow:
    """One row of an arm's paired differences: an interval, or a share with no interval."""

    name: str
    kind: str
    value: Interval | float


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything the headline table shows, and the verdict it supports."""

    scenario_name: str
    runs: int
    horizon_months: int
    seed: int
    deterministic: bool
    discount_rate_per_year: float
    baseline: str  # the arm every other arm is set against
    arms: tuple[ArmSummary, ...]
    contrasts: tuple[Contrast, ...]  # each other arm minus the baseline, in arm order
    verdicts: tuple[Verdict, ...]  # each other arm against the baseline
    pairs: tuple[Contrast, ...] = ()  # every pair: the contrasts, then later arms minus earlier

    def verdict(self, arm: str | None = None) -> Verdict:
        """The verdict of ``arm`` (the first arm compared with the baseline if None)."""
        for v in self.verdicts:
            if arm is None or v.arm == arm:
                return v
        raise KeyError(
            f"no verdict for arm {arm!r}: compared arms are "
            f"{', '.join(v.arm for v in self.verdicts)}"
        )

    @property
    def question(self) -> str:
        """The decision, from the arm labels: ``A or B: which is the better start?``."""
        labels = [a.label for a in self.arms if a.arm != self.baseline]
        labels += [a.label for a in self.arms if a.arm == self.baseline]
        options = (
            " or ".join(labels)
            if len(labels) < 3
            else (", ".join(labels[:-1]) + " or " + labels[-1])
        )
        return f"{options}: which is the better start?"

    def headline_rows(self) -> tuple[Row, ...]:
        """The headline table, row by row: policy-free measures first, final cash last."""
        arms = self.arms
        h = self.horizon_months
        rows = [
            Row(f"Open after {period(m)}", "share1", tuple((a.survival[m],) for a in arms))
            for m in arms[0].survival
        ]
        if not self.deterministic:
            rows.append(
                Row(
                    "95% interval",
                    "share1",
                    tuple((a.survival_at_horizon.low, a.survival_at_horizon.high) for a in arms),
                    detail=True,
                )
            )
        pct = f"{self.discount_rate_per_year:.0%}"

        def spread_rows(title: str, metric: str, kind: str, spread_too: bool = True) -> None:
            spreads: list[Spread] = [getattr(a, metric) for a in arms]
            rows.append(Row(f"{title}: median", kind, tuple((s.median,) for s in spreads)))
            if spread_too and not self.deterministic:
                rows.append(
                    Row("P10 to P90", kind, tuple((s.p10, s.p90) for s in spreads), detail=True)
                )

        spread_rows(f"Owner's NPV at {pct} a year", "npv", "usd")
        if not self.deterministic:
            rows.insert(
                len(rows) - 1,
                Row(
                    "95% interval of the median",
                    "usd",
                    tuple((a.npv_median.low, a.npv_median.high) for a in arms),
                    detail=True,
                ),
            )
            rows.append(
                Row(
                    "runs losing money (NPV below 0)",
                    "share",
                    tuple((a.npv_loss_share,) for a in arms),
                    detail=True,
                )
            )
        spread_rows("Owner's cumulative cash flow", "owner_cash_flow", "usd")
        spread_rows(f"Customers at month {h}, if open", "final_customers", "count")
        spread_rows("First profitable month", "first_profitable_month", "month", False)
        rows.append(
            Row(
                "share reaching it", "share", tuple((a.first_profitable_share,) for a in arms), True
            )
        )
        spread_rows("Break-even month", "break_even_month", "month")
        rows.append(
            Row("share reaching it", "share", tuple((a.break_even_share,) for a in arms), True)
        )
        spread_rows("Payback month", "payback_month", "month", False)
        rows.append(
            Row("share reaching it", "share", tuple((a.payback_share,) for a in arms), True)
        )
        spread_rows(f"Business cash at month {h}", "final_cash", "usd")
        rows.append(
            Row(
                "set by the draw policy (floor to ceiling)",
                "policy",
                tuple((a.cash_floor_usd, a.cash_ceiling_usd) for a in arms),
                detail=True,
            )
        )
        return tuple(rows)

    def difference_rows(self, contrast: Contrast) -> tuple[DifferenceRow, ...]:
        """The paired differences of one arm from the baseline, row by row."""
        h = self.horizon_months
        rows = [
            DifferenceRow(f"Open after {period(m)}", "points", gap)
            for m, gap in contrast.survival_points.items()
        ]
        rows.append(DifferenceRow("Owner's NPV: mean", "signed_usd", contrast.npv))
        if not self.deterministic:
            rows += [
                DifferenceRow(
                    "Owner's NPV: median of the differences",
                    "signed_usd",
                    contrast.npv_median_difference,
                ),
                DifferenceRow(
                    "Runs where its NPV is higher", "share", contrast.probability_npv_better
                ),
            ]
        rows += [
            DifferenceRow("Owner's cumulative cash flow", "signed_usd", contrast.owner_cash_flow),
            DifferenceRow(
                f"Customers at month {h}, both open",
                "signed_count",
                contrast.final_customers_both_open,
            ),
            DifferenceRow(
                f"Customers at month {h}, closed ones as 0",
                "signed_count",
                contrast.final_customers,
            ),
            DifferenceRow(
                f"Business cash at month {h} (draw policy)",
                "signed_usd",
                contrast.final_cash,
            ),
        ]
        return tuple(rows)

    def pair_rows(self, pair: Contrast) -> tuple[DifferenceRow, ...]:
        """The few paired differences the table of every pair shows for one pair, in order.

        The owner's NPV (the median of the run-by-run differences, or the one difference of
        the plan on paper), the share of runs in which its NPV is higher, and the difference in
        points open at the horizon.
        """
        after = f"Open after {period(self.horizon_months)}"
        if self.deterministic:
            return (
                DifferenceRow("Owner's NPV", "signed_usd", pair.npv),
                DifferenceRow(after, "points", pair.survival_points[self.horizon_months]),
            )
        return (
            DifferenceRow(
                "Owner's NPV: median of the differences", "signed_usd", pair.npv_median_difference
            ),
            DifferenceRow("Runs where its NPV is higher", "share", pair.probability_npv_better),
            DifferenceRow(after, "points", pair.survival_points[self.horizon_months]),
        )

    def pairs_frame(self) -> pd.DataFrame:
        """Tidy table of every pair: one row per (arm, baseline, metric, statistic).

        Each difference is ``arm`` minus ``baseline``, run by run; the pairs with the
        comparison's baseline repeat its contrasts.
        """
        import pandas as pd

        rows: list[dict[str, object]] = []
        for pair in self.pairs:
            for metric, value in _pair_values(pair):
                for stat, number in value.items():
                    rows.append({"baseline": pair.baseline} | _row(pair.arm, metric, stat, number))
        return pd.DataFrame(rows, columns=["arm", "baseline", "metric", "statistic", "value"])

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (arm, metric, statistic).

        The ``difference_*`` rows are each arm minus ``baseline``; ``pairs_frame`` names the
        two arms of every pair.
        """
        import pandas as pd

        rows: list[dict[str, object]] = []
        for a in self.arms:
            for month, share in a.survival.items():
                rows.append(_row(a.arm, f"survival_month_{month}", "share", share))
            for stat in ("low", "high"):
                rows.append(
                    _row(
                        a.arm,
                        f"survival_month_{self.horizon_months}",
                        stat,
                        getattr(a.survival_at_horizon, stat),
                    )
                )
            for metric in (
                "npv",
                "owner_cash_flow",
                "final_customers",
                "first_profitable_month",
                "break_even_month",
                "payback_month",
                "final_cash",
            ):
                s: Spread = getattr(a, metric)
                for stat in ("median", "p10", "p90"):
                    rows.append(_row(a.arm, metric, stat, getattr(s, stat)))
            rows.append(_row(a.arm, "npv", "median_low", a.npv_median.low))
            rows.append(_row(a.arm, "npv", "median_high", a.npv_median.high))
            rows.append(_row(a.arm, "npv", "share_below_zero", a.npv_loss_share))
            for metric in ("first_profitable_month", "break_even_month", "payback_month"):
                share = getattr(a, metric.removesuffix("_month") + "_share")
                rows.append(_row(a.arm, metric, "share_reaching", share))
        for c in self.contrasts:
            for month, gap in c.survival_points.items():
                for stat in ("estimate", "low", "high"):
                    rows.append(
                        _row(c.arm, f"difference_survival_month_{month}", stat, getattr(gap, stat))
                    )
            for metric in (
                "npv",
                "npv_median_difference",
                "owner_cash_flow",
                "final_customers",
                "final_customers_both_open",
                "final_cash",
            ):
                i: Interval = getattr(c, metric)
                name = (
                    "median_difference_npv"
                    if metric == "npv_median_difference"
                    else (f"difference_{metric}")
                )
                for stat in ("estimate", "low", "high"):
                    rows.append(_row(c.arm, name, stat, getattr(i, stat)))
            rows.append(
                _row(c.arm, "difference_npv", "probability_better", c.probability_npv_better)
            )
        return pd.DataFrame(rows)

    def to_text(self, width: int = 100) -> str:
        """The comparison as plain text for a terminal: the tables, then the verdict in words.

        Args:
            width: Column at which the verdict's sentences wrap.
        """
        if self.deterministic:
            title = (
                f"{self.scenario_name}: the plan on paper over {self.horizon_months} months "
                "(every input at its mean, no random events, expected flows)"
            )
        else:
            runs = f"{self.runs:,} paired run{'s' if self.runs != 1 else ''}"
            title = (
                f"{self.scenario_name}: {runs} x {self.horizon_months} months (seed {self.seed})"
            )
        headline = self.headline_rows()
        names = [("  " if r.detail else "") + r.name for r in headline]
        cells = [[_cell(c, r.kind) for c in r.cells] for r in headline]
        first = max(len(n) for n in names) + 2
        column = max(
            24, *(len(a.label) + 2 for a in self.arms), *(len(c) + 2 for r in cells for c in r)
        )
        lines = [title, self.question, ""]
        lines.append(" " * first + "".join(f"{a.label:>{column}}" for a in self.arms))
        for name, row in zip(names, cells, strict=True):
            lines.append(f"{name:{first}}" + "".join(f"{c:>{column}}" for c in row))
        for note in definitions(self.horizon_months):
            lines += textwrap.wrap(
                note, width, initial_indent="* ", subsequent_indent="  ", break_on_hyphens=False
            )
        labels = {a.arm: a.label for a in self.arms}
        for c in self.contrasts:
            heading = f"{labels[c.arm]} minus {labels[c.baseline]}"
            lines += ["", heading if self.deterministic else heading + ": paired, 95% intervals"]
            diffs = self.difference_rows(c)
            name_width = max(len(d.name) for d in diffs) + 4
            for d in diffs:
                if isinstance(d.value, Interval):
                    line = (
                        f"  {d.name:{name_width - 2}}{format_value(d.value.estimate, d.kind):>14}"
                    )
                    if not self.deterministic:
                        line += (
                            f"   ({format_value(d.value.low, d.kind)} to "
                            f"{format_value(d.value.high, d.kind)})"
                        )
                else:
                    line = f"  {d.name:{name_width - 2}}{format_value(d.value, d.kind):>14}"
                lines.append(line.rstrip())
        if len(self.pairs) > len(self.contrasts):
            lines += ["", *self._pairs_text()]
        for v in self.verdicts:
            lines += ["", f"Verdict, {v.label} against {v.baseline_label}:"]
            for sentence in v.sentences():
                lines += textwrap.wrap(
                    sentence,
                    width,
                    initial_indent="  ",
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
        return "\n".join(lines)

    def _pairs_text(self) -> list[str]:
        """The table of every pair as lines of text: a row per pair, a column per difference."""
        labels = {a.arm: a.label for a in self.arms}
        names = [f"{labels[p.arm]} minus {labels[p.baseline]}" for p in self.pairs]
        table = [
            [_difference_cell(d, self.deterministic) for d in self.pair_rows(p)] for p in self.pairs
        ]
        heads = [d.name for d in self.pair_rows(self.pairs[0])]
        first = max(len(n) for n in names) + 4
        widths = [max(len(h), *(len(row[k]) for row in table)) + 3 for k, h in enumerate(heads)]
        title = "Every pair" + ("" if self.deterministic else ": paired, 95% intervals")
        lines = [
            title,
            " " * first + "".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)),
        ]
        for name, row in zip(names, table, strict=True):
            cells = "".join(f"{c:>{w}}" for c, w in zip(row, widths, strict=True))
            lines.append(f"  {name:{first - 2}}{cells}".rstrip())
        return lines


def _difference_cell(row: DifferenceRow, deterministic: bool) -> str:
    """One difference as text: the estimate, with its 95% interval in brackets when it has one."""
    if not isinstance(row.value, Interval):
        return format_value(row.value, row.kind)
    text = format_value(row.value.estimate, row.kind)
    if deterministic or math.isnan(row.value.low):
        return text
    return (
        f"{text} ({format_value(row.value.low, row.kind)} to "
        f"{format_value(row.value.high, row.kind)})"
    )


def _pair_values(pair: Contrast) -> Iterator[tuple[str, dict[str, float]]]:
    """The figures of one pair by metric name, each as its statistics (estimate, low, high)."""

    def interval(i: Interval) -> dict[str, float]:
        return {"estimate": i.estimate, "low": i.low, "high": i.high}

    for month, gap in pair.survival_points.items():
        yield f"difference_survival_month_{month}", interval(gap)
    yield "difference_npv", interval(pair.npv) | {"probability_better": pair.probability_npv_better}
    yield "median_difference_npv", interval(pair.npv_median_difference)
    yield "difference_owner_cash_flow", interval(pair.owner_cash_flow)
    yield "difference_final_customers", interval(pair.final_customers)
    yield "difference_final_customers_both_open", interval(pair.final_customers_both_open)
    yield "difference_final_cash", interval(pair.final_cash)


def definitions(horizon_months: int) -> tuple[str, ...]:
    """What the headline table's milestones and business cash mean, a sentence or two each."""
    return (
        "First profitable month: the first month with an operating profit (sales less running "
        "costs and franchise fees, before loan payments and the owner's draw) above zero.",
        "Break-even month: the first month from which operating profit stays at or above zero "
        "to the end (profitable for good). A later loss month, in a recession or after a "
        "breakdown, moves it past that loss, so it can come after the first profitable month "
        "and even after payback.",
        "Payback month: the first month by which the owner's draws have returned the equity and "
        "savings they put in.",
        f"Business cash at month {horizon_months} (at closure for a business that closed) "
        "mostly shows the draw policy: the owner takes the target draw only out of cash above "
        "the floor, none in a month whose cash flow after loan payments is negative, and is "
        "paid whatever cash still stands above the ceiling; savings cover a shortfall only up "
        "to zero.",
    )


def _cell(cell: tuple[float, ...], kind: str) -> str:
    return " to ".join(format_value(x, kind) for x in cell)


def compare(results: SimulationResults, baseline: str | None = None) -> Comparison:
    """Headline figures of each arm, paired differences against the baseline, every pair, verdicts.

    Args:
        results: The results compared.
        baseline: The arm every other arm is set against; ``independent`` if None (see
            ``choose_baseline``).

    Returns:
        The comparison; its ``contrasts`` and ``verdicts`` hold each other arm against the
        baseline, its ``pairs`` every pair of arms.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    base_arm = choose_baseline(results.arms, baseline)
    horizon = results.horizon_months
    months = sorted({m for m in (12, 36, 60) if m <= horizon} | {horizon})
    alive = {m: results.alive_at(m) for m in months}  # from the closure months when no books
    out = results.outcomes
    arms: list[ArmSummary] = []
    for i, arm in enumerate(results.arms):
        owner = results.scenario.arm(arm).owner

        def reached(name: str, i: int = i) -> float:
            return float(np.mean(~np.isnan(out[name][i])))

        arms.append(
            ArmSummary(
                arm=arm,
                label=results.labels[arm],
                survival={m: float(alive[m][i].mean()) for m in months},
                survival_at_horizon=proportion_interval(alive[horizon][i]),
                npv=spread(out["npv"][i]),
                npv_median=median_interval(out["npv"][i]),
                npv_loss_share=float(np.mean(out["npv"][i] < 0)),
                owner_cash_flow=spread(out["cumulative_owner_cash_flow"][i]),
                final_customers=spread(
                    np.where(out["survived"][i] > 0.5, out["final_customers"][i], np.nan)
                ),
                first_profitable_month=spread(out["first_profitable_month"][i]),
                first_profitable_share=reached("first_profitable_month"),
                break_even_month=spread(out["break_even_month"][i]),
                break_even_share=reached("break_even_month"),
                payback_month=spread(out["payback_month"][i]),
                payback_share=reached("payback_month"),
                final_cash=spread(out["final_cash"][i]),
                cash_floor_usd=owner.cash_floor_usd,
                cash_ceiling_usd=max(owner.cash_ceiling_usd, owner.cash_floor_usd),
            )
        )
    base = results.arm_index(base_arm)
    order = [base, *(i for i in range(len(results.arms)) if i != base)]

    def contrast(i: int, j: int) -> Contrast:
        """Arm ``i`` minus arm ``j``, run by run."""
        return _contrast(results, alive, i, j)

    contrasts = [contrast(i, base) for i in order[1:]]
    verdicts = [
        _verdict_of(
            results,
            arms[i],
            arms[base],
            c,
            out["npv"][i] - out["npv"][base],
            100.0 * (alive[horizon][i] - alive[horizon][base]),
        )
        for i, c in zip(order[1:], contrasts, strict=True)
    ]
    pairs = [*contrasts]
    for k, j in enumerate(order[1:], start=1):
        pairs += [contrast(i, j) for i in order[k + 1 :]]
    return Comparison(
        scenario_name=results.scenario.name,
        runs=results.runs,
        horizon_months=horizon,
        seed=results.seed,
        deterministic=results.deterministic,
        discount_rate_per_year=results.scenario.run.discount_rate_per_year,
        baseline=base_arm,
        arms=tuple(arms),
        contrasts=tuple(contrasts),
        verdicts=tuple(verdicts),
        pairs=tuple(pairs),
    )


def _contrast(
    results: SimulationResults, alive: dict[int, NDArray[np.float64]], i: int, base: int
) -> Contrast:
    """Arm ``i`` minus arm ``base`` over paired runs: survival by month, money, customers."""
    out = results.outcomes

    def diff(name: str) -> Interval:
        return paired_difference(out[name][i], out[name][base])

    both_open = (out["survived"][i] > 0.5) & (out["survived"][base] > 0.5)
    customers = out["final_customers"]
    return Contrast(
        arm=results.arms[i],
        baseline=results.arms[base],
        survival_points={
            m: paired_difference(100.0 * alive[m][i], 100.0 * alive[m][base]) for m in alive
        },
        npv=diff("npv"),
        npv_median_difference=median_interval(out["npv"][i] - out["npv"][base]),
        probability_npv_better=probability_better(out["npv"][i], out["npv"][base]),
        owner_cash_flow=diff("cumulative_owner_cash_flow"),
        final_customers=diff("final_customers"),
        final_customers_both_open=paired_difference(
            customers[i][both_open], customers[base][both_open]
        ),
        final_cash=diff("final_cash"),
    )


def _verdict_of(
    results: SimulationResults,
    arm: ArmSummary,
    base: ArmSummary,
    contrast: Contrast,
    npv_gaps: NDArray[np.float64],
    survival_gaps: NDArray[np.float64],
) -> Verdict:
    """The verdict of one arm against the baseline, from the comparison's own numbers."""
    horizon = results.horizon_months
    survival = contrast.survival_points[horizon]

    def needed(i: Interval, gaps: NDArray[np.float64]) -> float | None:
        if results.deterministic or _excludes_zero(i) or math.isnan(i.low):
            return None
        return runs_to_resolve(gaps)

    return Verdict(
        arm=arm.arm,
        label=arm.label,
        baseline=base.arm,
        baseline_label=base.label,
        runs=results.runs,
        horizon_months=horizon,
        deterministic=results.deterministic,
        npv_median=arm.npv_median,
        baseline_npv_median=base.npv_median,
        npv_loss_share=arm.npv_loss_share,
        baseline_npv_loss_share=base.npv_loss_share,
        survival=arm.survival_at_horizon,
        baseline_survival=base.survival_at_horizon,
        npv_mean_difference=contrast.npv,
        npv_median_difference=contrast.npv_median_difference,
        probability_npv_better=contrast.probability_npv_better,
        survival_difference_points=survival,
        first_year_difference_points=contrast.survival_points.get(12) if horizon > 12 else None,
        npv_runs_to_resolve=needed(contrast.npv, npv_gaps),
        survival_runs_to_resolve=needed(survival, survival_gaps),
    )


def verdict(
    results: SimulationResults, arm: str | None = None, *, baseline: str | None = None
) -> Verdict:
    """In plain words: which path is likely better for the owner's NPV and for survival.

    Args:
        results: The results judged.
        arm: The arm judged against the baseline; the first other arm if None.
        baseline: The arm it is judged against; ``independent`` if None.

    Returns:
        The verdict, resting on the numbers of ``compare(results, baseline)``.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
        KeyError: ``arm`` is not an arm compared with the baseline.
    """
    return compare(results, baseline).verdict(arm)


def _row(arm: str, metric: str, statistic: str, value: float) -> dict[str, object]:
    return {"arm": arm, "metric": metric, "statistic": statistic, "value": value}


def period(month: int) -> str:
    """``1 year``, ``3 years`` or ``18 months``."""
    if month % 12:
        return f"{month} months"
    years = month // 12
    return f"{years} year{'s' if years != 1 else ''}"


def number_text(x: float) -> str:
    """A whole number with thousands separators (``12,500``); ``n/a`` for NaN."""
    return "n/a" if math.isnan(x) else f"{x:,.0f}"


def signed_text(x: float) -> str:
    """A whole number with its sign and thousands separators (``+12,500``); ``n/a`` for NaN."""
    return "n/a" if math.isnan(x) else f"{x:+,.0f}"
