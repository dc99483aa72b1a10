"""The model check: the simulation measured against published figures and closed forms.

Each check is a pure function of simulated arrays that returns a frozen `CheckResult`: what is
compared, the simulated and the published (or closed-form) values, the tolerance, pass or fail,
the runs used and the data of its figure (a `Chart`). `check_scenario` runs the simulations a
scenario needs and applies every check; `check_model` does so for several scenarios.

The checks test the model's behaviour, not its mechanisms: they read only the monthly books
(``alive``, ``customers``, ``interest``, ``principal``, ``loan_balance``) and the per-run NPV, so
they hold whatever mechanisms produce those books.

1. **BLS by year**: the independent arm's share still open after years 1-5 against its BLS
   sector, within `BLS_TOLERANCE_POINTS` each year (the years the scenarios are calibrated to);
   later years are shown beside BLS where the packaged table has them, never judged (not
   fitted: the out-of-sample check).
2. **Closure timing**: year-1 closures front-loaded (BLS: about 13% of a cohort gone within six
   months, BLS working paper 2004 [EV]), and the yearly closure rate falling with age after
   year 2, as in the BLS table.
3. **Bass closed form**: in deterministic mode, with every departure from pure Bass diffusion
   switched off (`BASS_CHANGES`), expected customers equal ``m F(t)``.
4. **Loan schedule**: for runs that stay open, the loan's payments and balance equal the
   amortisation closed form month by month.
5. **Franchise gap**: each franchise arm's survival minus the independent's after years 1-4
   inside the published band of -7 to +15 points (Bates 1995; Parsa et al. [EV]).
6. **Directions**: a franchisor more likely to fail lowers the franchise's mean NPV and survival;
   removing the brand's pull raises closures early more than late.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from franchise_sim.analysis.reference import BLS_SECTOR_NAMES, BLS_SOURCE, bls_survival
from franchise_sim.analysis.statistics import Interval, mean_interval
from franchise_sim.engine.results import SimulationResults, tool_version
from franchise_sim.engine.runner import Progress, simulate
from franchise_sim.model.customers import bass_share
from franchise_sim.model.plan import plan_replication
from franchise_sim.scenario.changes import with_changes
from franchise_sim.scenario.schema import Scenario

Array = NDArray[np.float64]

DEFAULT_RUNS = 2000
"""Paired runs per simulation of the check when none is asked for."""
CHECK_HORIZON_MONTHS = 120
"""Months simulated for the survival checks: ten years, so the years after BLS's five show."""
DIRECTION_HORIZON_MONTHS = 60
"""Shortest horizon of the direction tests: the brand test compares years 1-2 with 4-5."""

BLS_TOLERANCE_POINTS = 4.0
"""Largest gap, in points, between simulated and BLS survival in each fitted year."""
BLS_FITTED_YEARS = 5
"""Years of the BLS table the shipped scenarios are calibrated to (years 1-5)."""
EARLY_CLOSURE_MONTHS = 6
"""The first months of year 1 whose share of closures is compared with BLS."""
EARLY_CLOSURE_PUBLISHED = 13.0
"""Percent of a cohort gone within six months: BLS working paper 2004 (1998 cohort) [EV]."""
EARLY_CLOSURE_TOLERANCE_POINTS = 4.0
"""Largest gap, in points, from `EARLY_CLOSURE_PUBLISHED` (a 1998 cohort, all sectors)."""
FRONT_LOADED_SHARE = 50.0
"""Percent of year-1 closures that must fall in months 1-6 for year 1 to count front-loaded."""
CLOSURE_RISE_TOLERANCE_POINTS = 1.0
"""How far, in points, a later yearly closure rate may exceed an earlier one (from year 2),
on top of twice the standard error of the difference."""
BASS_RELATIVE_TOLERANCE = 1e-9
"""Largest relative gap between expected and closed-form Bass customers: the step is exact."""
LOAN_TOLERANCE_USD = 0.01
"""Largest gap, in USD, between a simulated loan line and its closed form: one cent."""
GAP_BAND_POINTS = (-7.0, 15.0)
"""Published band of franchise-minus-independent survival after 1-4 years, in points:
-7 (franchise worse, Bates 1995) to +15 (franchise better, Parsa et al.) [EV]."""
GAP_YEARS = 4
"""Years of the franchise gap band (the studies followed firms 1-4 years)."""
HIGH_FAILURE_RATE_PER_YEAR = 0.5
"""Franchisor failure rate of the direction test's risky arm [A]: against 0, a stark contrast
(Shane: young systems fail at about 10% a year)."""
EARLY_YEARS = (1, 2)
"""Years whose closures the brand test calls early."""
LATE_YEARS = (4, 5)
"""Years whose closures (of the businesses open after year 3) the brand test calls late."""

BASS_CHANGES: dict[str, Any] = {
    "arms.independent.customers.loyal_retention_per_year": 1.0,
    "arms.independent.customers.casual_retention_per_year": 1.0,
    "arms.independent.operations.capacity_visits_per_month": 1e9,
    "arms.independent.operations.marketing_usd_per_month": 0,
    "arms.independent.concept.quality": 1.0,
    "arms.independent.concept.starting_quality_share": 1.0,
    "arms.independent.concept.starting_mismatch": 0.0,
    "arms.independent.owner.reserve_usd": 1e9,
    "arms.independent.owner.patience_months": 1000,
    "arms.independent.owner.personal_exit_rate_per_year": 0.0,
    "arms.independent.owner.review": None,  # the earnings review could close it
    "arms.independent.customers.lapsed_winback_share": None,
    "market.size_trend_per_year": 0.0,
    "events.competitor_entry.rivals_at_start": 0,
    "events.enabled": False,
}
"""What turns a scenario's independent arm into pure Bass diffusion (tests/test_model.py's
construction): perfect retention, full satisfaction, no advertising, no capacity limit, no
events, an owner who never closes. A mechanism that changes how customers are won or lost
(a market trend, competitors leaving, lapsed customers returning) adds its off-switch here."""

Unit = Literal["%", "pts", "customers", "USD"]
ChartStyle = Literal["line", "step", "points", "dashed", "bars"]
Verdict = Literal["pass", "FAIL"]


# --- What a check returns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    """One compared value: what the model gives and what is published (NaN if nothing is)."""

    label: str
    simulated: float
    published: float = math.nan


@dataclass(frozen=True, slots=True)
class Line:
    """A series of a chart, optionally with error bars (``low`` and ``high``)."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    style: ChartStyle = "line"
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded range of a chart: a tolerance or a published band."""

    label: str
    x: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """The data of one panel of a check's figure: lines and bands, drawn by ``model_check_page``.

    ``divider`` marks an x (a vertical dotted line) with a note to its right.
    """

    title: str
    x_label: str
    y_label: str
    lines: tuple[Line, ...]
    bands: tuple[Band, ...] = ()
    x_ticks: tuple[tuple[float, str], ...] = ()
    zero_line: bool = False
    divider: tuple[float, str] | None = None  # a vertical line at x, with a note beside it


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of one scenario: simulated against published, judged, with its figure.

    Attributes:
        key: Short identifier (``bls_by_year``, ``bass``, ...), unique within a scenario
            together with ``arm``.
        name: The check's title.
        compared: What is compared with what, in a sentence.
        simulated_text: The simulated values in a few words, for a table's cell.
        published_text: The published values or the rule, in a few words.
        measures: The judged values.
        unit: Unit of the values.
        tolerance: The pass rule, in words.
        passed: Whether the model passes.
        runs: Paired runs per simulation used (1 for the plan on paper).
        runs_note: How the runs were used, in words.
        source: Where the published figure comes from.
        charts: The figure's data: one chart per panel, side by side.
        arm: The franchise arm the check is about, if one.
        unfitted: Values shown for information and not judged (the years after calibration).
    """

    key: str
    name: str
    compared: str
    simulated_text: str
    published_text: str
    measures: tuple[Measure, ...]
    unit: Unit
    tolerance: str
    passed: bool
    runs: int
    runs_note: str
    source: str
    charts: tuple[Chart, ...]
    arm: str | None = None
    unfitted: tuple[Measure, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """``pass`` or ``FAIL``."""
        return "pass" if self.passed else "FAIL"


@dataclass(frozen=True, slots=True)
class ScenarioCheck:
    """Every check of one scenario and how it was run."""

    scenario: Scenario
    source: str
    runs: int
    seed: int
    checks: tuple[CheckResult, ...]
    run_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every check passes."""
        return all(check.passed for check in self.checks)


@dataclass(frozen=True, slots=True)
class ModelCheck:
    """The model check of one or more scenarios."""

    scenarios: tuple[ScenarioCheck, ...]
    runs: int
    version: str = field(default="")

    @property
    def passed(self) -> bool:
        """Whether every check of every scenario passes."""
        return all(s.passed for s in self.scenarios)

    @property
    def failures(self) -> int:
        """How many checks fail, over every scenario."""
        return sum(not c.passed for s in self.scenarios for c in s.checks)


# --- Survival arithmetic -----------------------------------------------------------------------


def survival_by_year(alive: Array, years: int) -> Array:
    """Share (0-1) of runs open after each whole year 1..``years``, from ``alive`` (run, month)."""
    return np.asarray([alive[:, 12 * y - 1].mean() for y in range(1, years + 1)], dtype=float)


def yearly_closure_rates(survival: Sequence[float] | Array) -> Array:
    """Share of the businesses open at the start of each year that close during it.

    Args:
        survival: Share open after years 0, 1, 2, ... (the first is 1).

    Returns:
        The rate of years 1, 2, ... (NaN where none was open at the year's start).
    """
    shares = np.asarray(survival, dtype=float)
    start, end = shares[:-1], shares[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(start > 0, 1.0 - end / start, math.nan), dtype=float)


def _points(shares: Array) -> tuple[float, ...]:
    return tuple(float(100.0 * s) for s in shares)


def _values(values: Iterable[float]) -> str:
    """Numbers to one decimal, space separated ("-" for NaN)."""
    return " ".join("-" if math.isnan(v) else f"{v:.1f}" for v in values)


def _runs_text(runs: int, months: int) -> str:
    return f"{runs:,} paired runs x {months} months"


# --- 1. BLS by year ----------------------------------------------------------------------------


def bls_by_year_check(
    alive: Array,
    bls: Mapping[int, float],
    *,
    sector: str,
    fitted_years: int = BLS_FITTED_YEARS,
    tolerance_points: float = BLS_TOLERANCE_POINTS,
) -> CheckResult:
    """The independent arm's survival after each year against its BLS sector.

    Args:
        alive: The independent arm's ``alive`` (run, month), 0 or 1.
        bls: Share (0-1) of BLS establishments open after each year (year 0 is ignored).
        sector: The BLS sector's name, for the text.
        fitted_years: Years judged (the calibrated ones); later years are shown, not judged.
        tolerance_points: Largest gap, in points, in each judged year.

    Returns:
        Pass when every judged year is within the tolerance; years after ``fitted_years``
        simulated within the horizon are in ``unfitted``, beside BLS where it has them.
    """
    runs, months = alive.shape
    years = months // 12
    simulated = survival_by_year(alive, years)
    measures = tuple(
        Measure(f"year {y}", 100.0 * simulated[y - 1], 100.0 * bls.get(y, math.nan))
        for y in range(1, min(fitted_years, years) + 1)
    )
    unfitted = tuple(
        Measure(f"year {y}", 100.0 * simulated[y - 1], 100.0 * bls.get(y, math.nan))
        for y in range(fitted_years + 1, years + 1)
    )
    passed = len(measures) == fitted_years and all(
        abs(m.simulated - m.published) <= tolerance_points for m in measures
    )
    curve = np.concatenate([[1.0], alive.mean(axis=0)])
    fitted = [(y, 100.0 * bls[y]) for y in sorted(bls) if 0 < y <= min(fitted_years, years)]
    later = [(y, 100.0 * bls[y]) for y in sorted(bls) if fitted_years < y <= years]
    lines = [
        Line(
            "simulated independent arm",
            tuple(map(float, range(months + 1))),
            _points(curve),
            "step",
        ),
        Line(
            f"BLS {sector}, fitted years",
            tuple(12.0 * y for y, _ in fitted),
            tuple(s for _, s in fitted),
            "points",
        ),
    ]
    if later:
        lines.append(
            Line(
                "BLS, later years (not fitted)",
                tuple(12.0 * y for y, _ in later),
                tuple(s for _, s in later),
                "dashed",
            )
        )
    chart = Chart(
        title="Independent arm's survival against BLS",
        divider=(12.0 * fitted_years, "not fitted") if years > fitted_years else None,
        x_label="Months since opening",
        y_label="Still open, %",
        lines=tuple(lines),
        bands=(
            Band(
                f"BLS \u00b1 {tolerance_points:g} points (judged)",
                tuple(12.0 * y for y, _ in fitted),
                tuple(s - tolerance_points for _, s in fitted),
                tuple(s + tolerance_points for _, s in fitted),
            ),
        ),
    )
    return CheckResult(
        key="bls_by_year",
        simulated_text=_values(m.simulated for m in measures) + " %",
        published_text=_values(m.published for m in measures) + " %",
        name=f"BLS survival, years 1-{fitted_years} (fitted)",
        compared=f"Share of the independent arm still open after each of years 1-{fitted_years} "
        f"against BLS establishments of {sector}; years {fitted_years + 1}-{years} are shown "
        "for information only (not fitted: the model's shape beyond the calibrated years).",
        measures=measures,
        unit="%",
        tolerance=f"\u00b1{tolerance_points:g} points each year",
        passed=passed,
        runs=runs,
        runs_note=_runs_text(runs, months),
        source=BLS_SOURCE,
        charts=(chart,),
        unfitted=unfitted,
    )


# --- 2. Closure timing -------------------------------------------------------------------------


def front_loaded_check(
    alive: Array,
    *,
    early_months: int = EARLY_CLOSURE_MONTHS,
    published_points: float = EARLY_CLOSURE_PUBLISHED,
    tolerance_points: float = EARLY_CLOSURE_TOLERANCE_POINTS,
    front_share: float = FRONT_LOADED_SHARE,
) -> CheckResult:
    """Whether year-1 closures come early rather than bunched where a reserve runs out.

    Args:
        alive: The independent arm's ``alive`` (run, month), at least 12 months.
        early_months: The early part of year 1.
        published_points: Percent of a cohort closed within ``early_months`` (BLS).
        tolerance_points: Largest gap from ``published_points``.
        front_share: Percent of year-1 closures that must fall within ``early_months``.

    Returns:
        Pass when the share of the cohort closed by ``early_months`` is within the tolerance of
        the published figure and at least ``front_share`` percent of year-1 closures fall in
        those months.
    """
    runs, months = alive.shape
    open_by_month = np.concatenate([[1.0], alive[:, :12].mean(axis=0)])
    closing = 100.0 * (open_by_month[:-1] - open_by_month[1:])  # % of the cohort, months 1-12
    early = float(closing[:early_months].sum())
    year = float(closing.sum())
    share = 100.0 * early / year if year > 0 else math.nan
    measures = (
        Measure(f"closed within {early_months} months, % of the cohort", early, published_points),
        Measure(f"year-1 closures in months 1-{early_months}, %", share, math.nan),
    )
    passed = abs(early - published_points) <= tolerance_points and share >= front_share
    chart = Chart(
        title="When year-1 closures happen",
        x_label="Month of year 1",
        y_label="Closing that month, % of the cohort",
        lines=(
            Line(
                "simulated independent arm",
                tuple(float(m) for m in range(1, 13)),
                tuple(map(float, closing)),
                "bars",
            ),
            Line(
                f"BLS: {published_points:g}% within {early_months} months, spread evenly",
                tuple(float(m) for m in range(1, early_months + 1)),
                (published_points / early_months,) * early_months,
                "dashed",
            ),
        ),
    )
    return CheckResult(
        key="front_loaded",
        simulated_text=f"{early:.1f}% by month {early_months}; {share:.0f}% of year-1 closures",
        published_text=f"{published_points:g}% by month {early_months}; at least {front_share:g}%",
        name="Year-1 closures front-loaded",
        compared=f"Share of the independent arm's cohort closed within {early_months} months "
        f"against BLS's roughly {published_points:g}%, and the share of its year-1 closures "
        f"that fall in months 1-{early_months}.",
        measures=measures,
        unit="%",
        tolerance=f"\u00b1{tolerance_points:g} points of {published_points:g}%; "
        f"at least {front_share:g}% of year-1 closures in months 1-{early_months}",
        passed=passed,
        runs=runs,
        runs_note=_runs_text(runs, months),
        source="BLS working paper 2004: 13% of a 1998 cohort gone within six months "
        "(evidence.md, Business survival)",
        charts=(chart,),
    )


def closure_rate_check(
    alive: Array,
    bls: Mapping[int, float],
    *,
    sector: str,
    first_year: int = 2,
    tolerance_points: float = CLOSURE_RISE_TOLERANCE_POINTS,
) -> CheckResult:
    """Whether the yearly closure rate falls with age from ``first_year`` on, as in BLS.

    The rate of year ``y`` is the share of the businesses open at its start that close during
    it. Noise is allowed for: a later year's rate may exceed an earlier one's by at most
    ``tolerance_points`` plus twice the standard error of the difference (binomial).

    Args:
        alive: The independent arm's ``alive`` (run, month).
        bls: Share (0-1) of BLS establishments open after each year.
        sector: The BLS sector's name, for the text.
        first_year: The first year of the falling stretch.
        tolerance_points: Rise allowed on top of the noise, in points.

    Returns:
        Pass when no later year's rate exceeds an earlier one's (both from ``first_year``) by
        more than the allowance.
    """
    runs, months = alive.shape
    years = months // 12
    survival = np.concatenate([[1.0], survival_by_year(alive, years)])
    rates = yearly_closure_rates(survival)
    at_risk = runs * survival[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(at_risk > 0, rates * (1.0 - rates) / at_risk, math.nan)
    bls_years = sorted(y for y in bls if y >= 0)
    bls_rates = yearly_closure_rates([bls[y] for y in bls_years])
    published = dict(zip(bls_years[1:], bls_rates, strict=True))
    judged = list(range(first_year, years + 1))
    worst = -math.inf
    for later in judged:
        for earlier in judged:
            if earlier >= later:
                continue
            rise = 100.0 * (rates[later - 1] - rates[earlier - 1])
            noise = 200.0 * math.sqrt(variance[later - 1] + variance[earlier - 1])
            worst = max(worst, rise - noise)
    passed = len(judged) >= 2 and bool(np.isfinite(rates[first_year - 1 :]).all())
    passed = passed and worst <= tolerance_points
    measures = tuple(
        Measure(f"year {y}", 100.0 * rates[y - 1], 100.0 * published.get(y, math.nan))
        for y in judged
    )
    x = tuple(float(y) for y in range(1, years + 1))
    chart = Chart(
        title="Yearly closure rate by age",
        x_label="Year since opening",
        y_label="Closing during the year, % of those open at its start",
        lines=(
            Line("simulated independent arm", x, _points(rates), "line"),
            Line(
                f"BLS {sector}",
                tuple(float(y) for y in published),
                tuple(100.0 * r for r in published.values()),
                "points",
            ),
        ),
    )
    return CheckResult(
        key="closure_rate_falls",
        simulated_text=f"years {first_year}-{years}: "
        + _values(m.simulated for m in measures)
        + " %",
        published_text=(
            f"years {first_year}-{max(published)}: "
            + _values(published[y] * 100 for y in sorted(published) if y >= first_year)
            + " %"
            if max(published, default=0) >= first_year
            else "no BLS years"
        ),
        name=f"Closure rate falling with age after year {first_year}",
        compared=f"The independent arm's yearly closure rate in years {first_year}-{years}, "
        f"which should not rise with age, shown beside BLS's for {sector}.",
        measures=measures,
        unit="%",
        tolerance=f"no later year above an earlier one by more than {tolerance_points:g} point "
        "+ 2 standard errors",
        passed=passed,
        runs=runs,
        runs_note=_runs_text(runs, months),
        source=BLS_SOURCE,
        charts=(chart,),
    )


# --- 3. Bass closed form -----------------------------------------------------------------------


def bass_check(
    customers: Sequence[float],
    *,
    potential: float,
    p: float,
    q: float,
    relative_tolerance: float = BASS_RELATIVE_TOLERANCE,
    shown_months: Sequence[int] = (6, 12, 24, 60, 120),
) -> CheckResult:
    """Expected customers of the plan on paper against the closed-form Bass curve ``m F(t)``.

    Args:
        customers: Customers at the end of months 1, 2, ... of the deterministic run.
        potential: The market potential ``m``.
        p: Bass innovation per month.
        q: Bass imitation per month.
        relative_tolerance: Largest relative gap in any month.
        shown_months: Months listed in the table (those within the run).

    Returns:
        Pass when every month is within the tolerance.
    """
    simulated = np.asarray(customers, dtype=float)
    months = np.arange(1, simulated.size + 1)
    closed = np.asarray([potential * bass_share(float(t), p, q) for t in months])
    scale = np.maximum(np.abs(closed), 1e-300)
    worst = float(np.max(np.abs(simulated - closed) / scale)) if simulated.size else math.nan
    measures = tuple(
        Measure(f"month {t}", float(simulated[t - 1]), float(closed[t - 1]))
        for t in shown_months
        if t <= simulated.size
    )
    chart = Chart(
        title="Customers of the plan on paper against the Bass curve",
        x_label="Months since opening",
        y_label="Customers",
        lines=(
            Line(
                "closed form m F(t)", tuple(map(float, months)), tuple(map(float, closed)), "line"
            ),
            Line(
                "simulated (deterministic)",
                tuple(map(float, months)),
                tuple(map(float, simulated)),
                "points",
            ),
        ),
    )
    return CheckResult(
        key="bass",
        simulated_text=f"largest relative gap {worst:.1e}",
        published_text="m F(t) (Bass 1969)",
        name="Bass closed form",
        compared=f"Expected customers of the independent arm with pure Bass diffusion (m = "
        f"{potential:,.0f}, p = {p:g}, q = {q:g} a month: perfect retention, full "
        f"satisfaction, no advertising or events) against m F(t); largest relative gap "
        f"{worst:.1e}.",
        measures=measures,
        unit="customers",
        tolerance=f"relative {relative_tolerance:.0e} every month",
        passed=bool(worst <= relative_tolerance),
        runs=1,
        runs_note=f"the plan on paper (deterministic), {simulated.size} months",
        source="Bass (1969): F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t)",
        charts=(chart,),
    )


# --- 4. Loan schedule --------------------------------------------------------------------------


def scheduled_balance(
    principal_usd: Array | float,
    rate_per_year: Array | float,
    payment_usd: Array | float,
    months: int,
) -> Array:
    """Closed-form balance of an amortising loan after each of months 1..``months``.

    ``B_m = P (1 + r)^m - A ((1 + r)^m - 1) / r`` (``P - A m`` when ``r = 0``), never below 0,
    element-wise over loans (the last axis is the month).
    """
    p = np.asarray(principal_usd, dtype=float)[..., None]
    r = np.asarray(rate_per_year, dtype=float)[..., None] / 12.0
    a = np.asarray(payment_usd, dtype=float)[..., None]
    m = np.arange(1, months + 1, dtype=float)
    growth = np.expm1(m * np.log1p(r))  # (1 + r)^m - 1, exact for tiny r
    with np.errstate(invalid="ignore", divide="ignore"):
        annuity = np.where(r > 0, growth / np.where(r > 0, r, 1.0), m)
    balance = p * (1.0 + growth) - a * annuity
    return np.asarray(np.maximum(balance, 0.0), dtype=float)


@dataclass(frozen=True, slots=True)
class LoanBooks:
    """One arm's loan lines over the runs that stayed open, with each run's loan terms."""

    label: str
    principal_usd: Array  # (run,)
    rate_per_year: Array  # (run,)
    term_months: Array  # (run,)
    interest: Array  # (run, month)
    principal: Array  # (run, month)
    balance: Array  # (run, month)


def loan_check(
    books: Sequence[LoanBooks], *, tolerance_usd: float = LOAN_TOLERANCE_USD
) -> CheckResult:
    """Each open run's loan balance and payments against the amortisation closed form.

    Args:
        books: Every arm's loan lines over its runs open to the horizon.
        tolerance_usd: Largest gap allowed in any month of any run.

    Returns:
        Pass when the balance and the payment (interest plus principal) of every month equal
        the closed form within the tolerance; fails when no run stayed open.
    """
    from franchise_sim.model.money import loan_payment

    measures: list[Measure] = []
    lines: list[Line] = []
    worst = 0.0
    runs = 0
    for arm in books:
        count, months = arm.balance.shape
        runs = max(runs, count)
        if count == 0:
            worst = math.inf
            continue
        payment = np.asarray(
            [
                loan_payment(p, r, int(t)) if p > 0 else 0.0
                for p, r, t in zip(
                    arm.principal_usd, arm.rate_per_year, arm.term_months, strict=True
                )
            ]
        )
        closed = scheduled_balance(arm.principal_usd, arm.rate_per_year, payment, months)
        opening = np.concatenate([arm.principal_usd[:, None], closed[:, :-1]], axis=1)
        due = np.minimum(payment[:, None], opening * (1.0 + arm.rate_per_year[:, None] / 12.0))
        paid = arm.interest + arm.principal
        gap_balance = float(np.max(np.abs(arm.balance - closed)))
        gap_paid = float(np.max(np.abs(paid - np.where(opening > LOAN_TOLERANCE_USD, due, 0.0))))
        worst = max(worst, gap_balance, gap_paid)
        measures.append(
            Measure(
                f"{arm.label}: monthly payment", float(paid[:, 0].mean()), float(payment.mean())
            )
        )
        for year in (1, 5):
            if 12 * year <= months:
                measures.append(
                    Measure(
                        f"{arm.label}: balance after year {year}",
                        float(arm.balance[:, 12 * year - 1].mean()),
                        float(closed[:, 12 * year - 1].mean()),
                    )
                )
        measures.append(
            Measure(f"{arm.label}: largest gap in any month, USD", max(gap_balance, gap_paid), 0.0)
        )
        x = tuple(float(m) for m in range(1, months + 1))
        lines.append(Line(f"{arm.label}: closed form", x, tuple(map(float, closed[0])), "line"))
        lines.append(
            Line(
                f"{arm.label}: simulated (first open run)",
                x,
                tuple(map(float, arm.balance[0])),
                "points",
            )
        )
    chart = Chart(
        title="Loan balance against the amortisation schedule",
        x_label="Months since opening",
        y_label="Loan balance, USD",
        lines=tuple(lines),
    )
    return CheckResult(
        key="loan",
        simulated_text=f"largest gap {worst:.1e} USD",
        published_text="annuity schedule",
        name="Loan schedule",
        compared="For every run open to the horizon, the loan balance and each month's payment "
        "(interest plus principal) against the annuity closed form B_m = P(1+r)^m - "
        "A((1+r)^m - 1)/r with A = money.loan_payment.",
        measures=tuple(measures),
        unit="USD",
        tolerance=f"{tolerance_usd:g} USD in every month of every open run",
        passed=bool(runs > 0 and worst <= tolerance_usd),
        runs=runs,
        runs_note=f"the runs open to the horizon (at most {runs:,})",
        source="the annuity formula (SBA 7(a) loans amortise fully, sba_7a_loans.csv)",
        charts=(chart,),
    )


# --- 5. Franchise gap band ---------------------------------------------------------------------


def franchise_gap_check(
    franchise_alive: Array,
    independent_alive: Array,
    *,
    label: str,
    arm: str,
    band: tuple[float, float] = GAP_BAND_POINTS,
    years: int = GAP_YEARS,
) -> CheckResult:
    """A franchise arm's survival minus the independent's after years 1-``years``, in points.

    Positive means the franchise closes less (the sign of the published band: independent
    closure rate minus franchise closure rate, both ``1 - survival``).

    Args:
        franchise_alive: The franchise arm's ``alive`` (run, month).
        independent_alive: The independent arm's ``alive`` over the same runs.
        label: The franchise arm's label.
        arm: The franchise arm's name.
        band: Lowest and highest gap of the published band.
        years: Years judged.

    Returns:
        Pass when every judged year's gap is inside the band.
    """
    runs, months = franchise_alive.shape
    shown = min(years, months // 12)
    gap = 100.0 * (
        survival_by_year(franchise_alive, shown) - survival_by_year(independent_alive, shown)
    )
    low, high = band
    measures = tuple(Measure(f"year {y}", float(gap[y - 1])) for y in range(1, shown + 1))
    x = tuple(float(y) for y in range(1, shown + 1))
    chart = Chart(
        title=f"{label} minus the independent: survival gap",
        x_label="Year since opening",
        y_label="Gap, points (+: franchise closes less)",
        lines=(Line("simulated", x, tuple(map(float, gap)), "line"),),
        bands=(
            Band(
                f"published band {low:+g} to {high:+g} points", x, (low,) * shown, (high,) * shown
            ),
        ),
        zero_line=True,
    )
    return CheckResult(
        key="franchise_gap",
        simulated_text=f"years 1-{shown}: " + _values(m.simulated for m in measures) + " pts",
        published_text=f"{low:+g} to {high:+g} pts",
        name=f"Franchise gap band, years 1-{years}",
        compared=f"{label}'s survival minus the independent's after each of years 1-{years} "
        "(= the independent's closure rate minus the franchise's), paired runs, against the "
        f"published band of {low:+g} to {high:+g} points.",
        measures=measures,
        unit="pts",
        tolerance=f"every year inside {low:+g} to {high:+g} points",
        passed=bool(shown == years and np.all((gap >= low) & (gap <= high))),
        runs=runs,
        runs_note=_runs_text(runs, months),
        source="Bates (1995): franchise 6.7 points worse; Parsa et al. (2005, 2011): up to 15 "
        "points better (evidence.md)",
        charts=(chart,),
        arm=arm,
    )


# --- 6. Direction tests ------------------------------------------------------------------------


def _interval_text(interval: Interval, unit: str) -> str:
    return (
        f"{interval.estimate:+,.1f} {unit} (95% CI {interval.low:+,.1f} to {interval.high:+,.1f})"
    )


def franchisor_failure_check(
    npv_safe: Array,
    npv_risky: Array,
    alive_safe: Array,
    alive_risky: Array,
    *,
    label: str,
    arm: str,
    safe_rate: float,
    risky_rate: float,
) -> CheckResult:
    """Whether a franchisor more likely to fail lowers the franchise's mean NPV and survival.

    Args:
        npv_safe: Per-run NPV of the franchise arm at ``safe_rate``.
        npv_risky: Per-run NPV at ``risky_rate``, over the same runs (common random numbers).
        alive_safe: ``alive`` (run, month) at ``safe_rate``.
        alive_risky: ``alive`` at ``risky_rate``.
        label: The franchise arm's label.
        arm: The franchise arm's name.
        safe_rate: The lower failure rate a year.
        risky_rate: The higher one.

    Returns:
        Pass when the paired 95% intervals of both differences (risky minus safe) lie below 0.
    """
    runs, months = alive_safe.shape
    npv = mean_interval(npv_risky - npv_safe)
    open_end = mean_interval(100.0 * (alive_risky[:, -1] - alive_safe[:, -1]))
    measures = (
        Measure(f"mean NPV at {safe_rate:.0%}/yr, USD", float(npv_safe.mean())),
        Measure(f"mean NPV at {risky_rate:.0%}/yr, USD", float(npv_risky.mean())),
        Measure(
            f"open after {months} months at {safe_rate:.0%}/yr, %",
            100.0 * float(alive_safe[:, -1].mean()),
        ),
        Measure(
            f"open after {months} months at {risky_rate:.0%}/yr, %",
            100.0 * float(alive_risky[:, -1].mean()),
        ),
    )
    passed = bool(npv.high < 0.0 and open_end.high < 0.0)
    npv_means = (mean_interval(npv_safe / 1000.0), mean_interval(npv_risky / 1000.0))
    month_axis = tuple(float(m) for m in range(months + 1))
    charts = (
        Chart(
            title="Mean NPV",
            x_label="Franchisor failure rate a year",
            y_label="Thousand USD (mean, 95% CI)",
            lines=(
                Line(
                    "",
                    (0.0, 1.0),
                    tuple(m.estimate for m in npv_means),
                    "bars",
                    tuple(m.low for m in npv_means),
                    tuple(m.high for m in npv_means),
                ),
            ),
            x_ticks=((0.0, f"{safe_rate:.0%}"), (1.0, f"{risky_rate:.0%}")),
            zero_line=True,
        ),
        Chart(
            title="Survival",
            x_label="Months since opening",
            y_label="Still open, %",
            lines=tuple(
                Line(
                    f"failure {rate:.0%} a year",
                    month_axis,
                    _points(np.concatenate([[1.0], a.mean(axis=0)])),
                    "step",
                )
                for rate, a in ((safe_rate, alive_safe), (risky_rate, alive_risky))
            ),
        ),
    )
    return CheckResult(
        key="franchisor_failure",
        simulated_text=f"NPV {npv.estimate:+,.0f} USD, open {open_end.estimate:+.1f} pts",
        published_text="both below 0",
        name="Franchisor failure lowers NPV and survival",
        compared=f"{label} with a franchisor failure rate of {risky_rate:.0%} a year against "
        f"{safe_rate:.0%}, same runs: NPV {_interval_text(npv, 'USD')}; open after {months} "
        f"months {_interval_text(open_end, 'points')}.",
        measures=measures,
        unit="USD",
        tolerance="both paired differences below 0 (95% interval)",
        passed=passed,
        runs=runs,
        runs_note=f"{_runs_text(runs, months)}, two franchisor failure rates",
        source="direction of effect (issue 10); Shane (1996, 1998) on franchisor failure",
        charts=charts,
        arm=arm,
    )


def closure_share(alive: Array, first_year: int, last_year: int) -> Array:
    """Per run: 1 if it closed during years ``first_year``-``last_year``, 0 if open through them.

    NaN for runs already closed at the start of ``first_year``.
    """
    start = np.ones(alive.shape[0]) if first_year == 1 else alive[:, 12 * (first_year - 1) - 1]
    end = alive[:, 12 * last_year - 1]
    return np.asarray(np.where(start > 0.5, 1.0 - end, math.nan), dtype=float)


def brand_check(
    alive_brand: Array,
    alive_plain: Array,
    *,
    label: str,
    arm: str,
    early: tuple[int, int] = EARLY_YEARS,
    late: tuple[int, int] = LATE_YEARS,
) -> CheckResult:
    """Whether removing the brand's pull raises closures early more than late.

    Early: the share closing in years ``early`` of all that opened. Late: the share closing in
    years ``late`` of those open at their start. The brand's effect is the rise in each when it
    is removed.

    Args:
        alive_brand: The franchise arm's ``alive`` (run, month) with its brand.
        alive_plain: The same arm and runs with brand awareness and ad-fund pull at 0.
        label: The franchise arm's label.
        arm: The franchise arm's name.
        early: First and last year of the early window.
        late: First and last year of the late window.

    Returns:
        Pass when the early rise is above 0 (95% paired interval) and above the late rise.
    """
    runs, months = alive_brand.shape
    early_with = closure_share(alive_brand, *early)
    early_without = closure_share(alive_plain, *early)
    late_with = closure_share(alive_brand, *late)
    late_without = closure_share(alive_plain, *late)
    early_rise = mean_interval(100.0 * (early_without - early_with))
    late_rise = 100.0 * (float(np.nanmean(late_without)) - float(np.nanmean(late_with)))
    e, lt = f"years {early[0]}-{early[1]}", f"years {late[0]}-{late[1]}"
    measures = (
        Measure(f"closing in {e}, with brand, %", 100.0 * float(np.mean(early_with))),
        Measure(f"closing in {e}, without, %", 100.0 * float(np.mean(early_without))),
        Measure(
            f"closing in {lt} of those open, with brand, %", 100.0 * float(np.nanmean(late_with))
        ),
        Measure(
            f"closing in {lt} of those open, without, %", 100.0 * float(np.nanmean(late_without))
        ),
        Measure(f"rise without the brand, {e}, points", early_rise.estimate),
        Measure(f"rise without the brand, {lt}, points", late_rise),
    )
    passed = bool(early_rise.low > 0.0 and early_rise.estimate > late_rise)
    month_axis = tuple(float(m) for m in range(months + 1))
    charts = (
        Chart(
            title="Survival",
            x_label="Months since opening",
            y_label="Still open, %",
            lines=tuple(
                Line(name, month_axis, _points(np.concatenate([[1.0], a.mean(axis=0)])), "step")
                for name, a in (("with the brand", alive_brand), ("without", alive_plain))
            ),
        ),
        Chart(
            title="Rise in closures without the brand",
            x_label="",
            y_label="Points (early: 95% CI)",
            lines=(
                Line(
                    "",
                    (0.0,),
                    (early_rise.estimate,),
                    "bars",
                    (early_rise.low,),
                    (early_rise.high,),
                ),
                Line("", (1.0,), (late_rise,), "bars"),
            ),
            x_ticks=((0.0, f"{e}, of all opened"), (1.0, f"{lt}, of those open")),
            zero_line=True,
        ),
    )
    return CheckResult(
        key="brand_head_start",
        simulated_text=f"{early_rise.estimate:+.1f} pts early, {late_rise:+.1f} pts late",
        published_text="early above 0 and above late",
        name="Brand matters early more than late",
        compared=f"{label} with brand awareness and ad-fund pull at 0 against as written, same "
        f"runs: the rise in closures in {e} against the rise in {lt}.",
        measures=measures,
        unit="%",
        tolerance=f"rise in {e} above 0 (95% interval) and above the rise in {lt}",
        passed=passed,
        runs=runs,
        runs_note=f"{_runs_text(runs, months)}, with and without the brand",
        source="direction of effect (issue 10): a brand gives a head start",
        charts=charts,
        arm=arm,
    )


# --- Running the checks ------------------------------------------------------------------------


def simulations_needed(scenario: Scenario) -> int:
    """How many simulations `check_scenario` runs at ``runs`` replications (the Bass run aside)."""
    franchise_arms = sum(arm.is_franchise for arm in scenario.resolved_arms())
    return 1 + 3 * franchise_arms


def check_scenario(
    scenario: Scenario,
    *,
    source: str = "",
    runs: int = DEFAULT_RUNS,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ScenarioCheck:
    """Run every check on one scenario.

    Args:
        scenario: The scenario checked.
        source: Where it was read from (shown on the page).
        runs: Paired runs per simulation.
        seed: Master seed; the scenario's own if not given.
        workers: Worker processes (see ``simulate``).
        progress: Called with the replications each finished batch held.

    Returns:
        The checks, in the order of the module's list.
    """
    import time

    started = time.perf_counter()
    seed = scenario.run.seed if seed is None else seed
    horizon = max(CHECK_HORIZON_MONTHS, scenario.run.horizon_months)

    def run(model: Scenario, months: int) -> SimulationResults:
        return simulate(
            model, runs=runs, seed=seed, workers=workers, horizon_months=months, progress=progress
        )

    base = run(scenario, horizon)
    alive = base.series("alive")
    independent = base.arm_index("independent")
    sector = BLS_SECTOR_NAMES[scenario.bls_sector]
    bls = bls_survival(scenario.bls_sector)
    checks: list[CheckResult] = [
        bls_by_year_check(alive[independent], bls, sector=sector),
        front_loaded_check(alive[independent]),
        closure_rate_check(alive[independent], bls, sector=sector),
        _bass(scenario, horizon),
        loan_check([books for arm in base.arms if (books := _loan_books(base, arm)) is not None]),
    ]
    franchise_arms = [arm for arm in scenario.resolved_arms() if arm.is_franchise]
    checks.extend(
        franchise_gap_check(
            alive[base.arm_index(arm.name)], alive[independent], label=arm.label, arm=arm.name
        )
        for arm in franchise_arms
    )
    months = max(DIRECTION_HORIZON_MONTHS, scenario.run.horizon_months)
    for arm in franchise_arms:
        checks.append(_failure_direction(scenario, arm.name, arm.label, months, run))
        plain = run(with_changes(scenario, _no_brand(arm.name)), horizon)
        i = base.arm_index(arm.name)
        checks.append(
            brand_check(alive[i], plain.series("alive")[i], label=arm.label, arm=arm.name)
        )
    return ScenarioCheck(
        scenario=scenario,
        source=source,
        runs=runs,
        seed=seed,
        checks=tuple(checks),
        run_seconds=time.perf_counter() - started,
    )


def _bass(scenario: Scenario, horizon: int) -> CheckResult:
    model = with_changes(scenario, BASS_CHANGES)
    plan = plan_replication(
        model, seed=model.run.seed, replication=0, horizon_months=horizon, deterministic=True
    )
    unit = plan.units[model.arm_names.index("independent")]
    results = simulate(model, runs=1, workers=1, horizon_months=horizon, deterministic=True)
    customers = results.series("customers")[results.arm_index("independent"), 0]
    return bass_check(
        customers,
        potential=plan.market.potential_customers,
        p=unit.innovation_p_per_month,
        q=unit.imitation_q_per_month,
    )


def _loan_books(results: SimulationResults, arm: str) -> LoanBooks | None:
    """An arm's fixed-rate loan lines over its open runs; None for a loan at a floating rate.

    A floating-rate loan follows ``money.floating_rate_schedule`` on the run's prime path, not
    the annuity closed form; the tests check that schedule by hand.
    """
    if results.scenario.arm(arm).financing.floating_rate is not None:
        return None
    i = results.arm_index(arm)
    open_runs = np.flatnonzero(results.series("alive")[i, :, -1] > 0.5)
    terms = [
        plan_replication(
            results.scenario,
            seed=results.seed,
            replication=int(r),
            horizon_months=results.horizon_months,
            deterministic=results.deterministic,
        ).units[i]
        for r in open_runs
    ]
    return LoanBooks(
        label=results.labels[arm],
        principal_usd=np.asarray([t.loan_usd for t in terms], dtype=float),
        rate_per_year=np.asarray([t.loan_rate_per_year for t in terms], dtype=float),
        term_months=np.asarray([t.loan_term_months for t in terms], dtype=float),
        interest=results.series("interest")[i, open_runs],
        principal=results.series("principal")[i, open_runs],
        balance=results.series("loan_balance")[i, open_runs],
    )


def _no_brand(arm: str) -> dict[str, Any]:
    """The change that takes away a franchise arm's brand pull (awareness and ad fund)."""
    return {f"arms.{arm}.franchise.mechanisms.brand": False}


def _failure_direction(
    scenario: Scenario,
    arm: str,
    label: str,
    months: int,
    run: Callable[[Scenario, int], SimulationResults],
) -> CheckResult:
    failure = f"arms.{arm}.franchise.franchisor.failure_rate_per_year"
    safe = run(with_changes(scenario, {failure: 0.0}), months)
    risky = run(with_changes(scenario, {failure: HIGH_FAILURE_RATE_PER_YEAR}), months)
    i = safe.arm_index(arm)
    return franchisor_failure_check(
        safe.outcomes["npv"][i],
        risky.outcomes["npv"][i],
        safe.series("alive")[i],
        risky.series("alive")[i],
        label=label,
        arm=arm,
        safe_rate=0.0,
        risky_rate=HIGH_FAILURE_RATE_PER_YEAR,
    )


def check_model(
    scenarios: Sequence[tuple[Scenario, str]],
    *,
    runs: int = DEFAULT_RUNS,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ModelCheck:
    """Run every check on each scenario.

    Args:
        scenarios: Each scenario with where it was read from.
        runs: Paired runs per simulation.
        seed: Master seed of every scenario; each scenario's own if not given.
        workers: Worker processes (see ``simulate``).
        progress: Called with the replications each finished batch held.

    Returns:
        The model check, scenario by scenario.
    """
    return ModelCheck(
        scenarios=tuple(
            check_scenario(
                model, source=source, runs=runs, seed=seed, workers=workers, progress=progress
            )
            for model, source in scenarios
        ),
        runs=runs,
        version=tool_version(),
    )


# --- The table ---------------------------------------------------------------------------------

CHECK_NUMBERS: dict[str, str] = {
    "bls_by_year": "1",
    "front_loaded": "2a",
    "closure_rate_falls": "2b",
    "bass": "3",
    "loan": "4",
    "franchise_gap": "5",
    "franchisor_failure": "6a",
    "brand_head_start": "6b",
}
"""The number of each check, as the module's list gives them."""


def check_title(check: CheckResult, scenario: Scenario) -> str:
    """The check's name, with its franchise arm's name when the scenario has more than one."""
    several = sum(arm.is_franchise for arm in scenario.resolved_arms()) > 1
    return f"{check.name} ({check.arm})" if check.arm and several else check.name


def check_rows(scenario: ScenarioCheck) -> list[tuple[str, ...]]:
    """The table of one scenario: number, check, simulated, published, result, runs."""
    rows: list[tuple[str, ...]] = []
    for check in scenario.checks:
        rows.append(
            (
                CHECK_NUMBERS.get(check.key, ""),
                check_title(check, scenario.scenario),
                check.simulated_text,
                check.published_text,
                check.verdict,
                f"{check.runs:,}",
            )
        )
        if check.unfitted:
            first = check.unfitted[0].label.removeprefix("year ")
            last = check.unfitted[-1].label.removeprefix("year ")
            published = [m.published for m in check.unfitted]
            rows.append(
                (
                    "",
                    f"  years {first}-{last}, not fitted",
                    _values(m.simulated for m in check.unfitted) + " %",
                    "not in the BLS table"
                    if all(math.isnan(v) for v in published)
                    else _values(published) + " %",
                    "info",
                    f"{check.runs:,}",
                )
            )
    return rows


TABLE_HEADER = ("#", "check", "simulated", "published or closed form", "result", "runs")


def check_table(check: ModelCheck) -> str:
    """The model check as text: a table per scenario, then the tolerances used."""
    blocks = [
        f"Model check, franchise-sim {check.version}: {len(check.scenarios)} scenario(s), "
        f"{check.runs:,} paired runs per simulation"
    ]
    tolerances: dict[str, str] = {}
    for scenario in check.scenarios:
        rows = [TABLE_HEADER, *check_rows(scenario)]
        widths = [max(len(row[c]) for row in rows) for c in range(len(TABLE_HEADER))]
        lines = [
            f"{scenario.scenario.name} ({scenario.source or 'in Python'}), seed {scenario.seed}: "
            + (
                "every check passes"
                if scenario.passed
                else f"{sum(not c.passed for c in scenario.checks)} of {len(scenario.checks)} fail"
            )
        ]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
            cells[-1] = row[-1].rjust(widths[-1])
            lines.append("  ".join(cells).rstrip())
        blocks.append("\n".join(lines))
        for c in scenario.checks:
            tolerances.setdefault(CHECK_NUMBERS.get(c.key, c.key), c.tolerance)
    legend = "\n".join(f"  {number:<3} {text}" for number, text in tolerances.items())
    blocks.append(f"Pass rules:\n{legend}")
    verdict = (
        "Every check passes."
        if check.passed
        else f"{check.failures} check(s) fail; the page says by how much."
    )
    blocks.append(verdict)
    return "\n\n".join(blocks)
