"""One replication's realised inputs: every uncertain scenario value drawn to a number.

Each distribution-valued field is drawn by inverse transform from a uniform keyed by
(replication, field path). Arm sections are keyed by their path inside the arm (for example
``customers.spend_per_visit_usd``), so every arm sharing a field shares its draw, and arms with
different distributions for it draw from the same uniform: common random numbers for inputs.

This is the definition of a replication's inputs; the batch engine draws the same numbers for a
whole batch at once, as columns (`batch_plan.plan_batch`, checked against it bit for bit).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from franchise_sim.model.money import guarantee_fee_usd
from franchise_sim.model.randomness import keyed_uniform
from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.schema import PLAN_BENCHMARKS, Arm, Concept, PrimeRate, Scenario

_STANDARD_NORMAL = NormalDist()

INPUT_PREFIX = "input:"
"""Prefix of the purposes of the uniforms uncertain inputs are drawn from (then the field path)."""


class Draw:
    """Turns uncertain values into numbers for one replication."""

    def __init__(self, seed: int, replication: int, *, at_mean: bool = False) -> None:
        self._seed = seed
        self._replication = replication
        self._at_mean = at_mean
        self._drawn: dict[tuple[str, Uncertain], float] = {}

    def __call__(self, value: Uncertain, key: str) -> float:
        """The value itself if fixed; else a draw (or its mean in expected-value mode)."""
        if isinstance(value, int | float):
            return float(value)
        if self._at_mean:
            return value.mean()
        drawn = self._drawn.get((key, value))
        if drawn is None:  # arms sharing a field and its distribution share one draw
            u = keyed_uniform(self._seed, self._replication, INPUT_PREFIX + key)
            drawn = self._drawn[key, value] = float(value.ppf(np.array([u]))[0])
        return drawn

    def coupled(
        self, value: Uncertain, key: str, partner: Uncertain, partner_key: str, correlation: float
    ) -> float:
        """A draw of ``value`` rank-correlated with the draw of ``partner`` (Gaussian copula).

        The uniform of ``key`` is mixed with the partner's uniform in normal scores,
        ``z = rho z_partner + sqrt(1 - rho^2) z_own``; each keeps its own distribution. With a
        correlation of 0, or a fixed value or partner, it is the plain draw of ``value``.
        """
        if correlation == 0.0 or isinstance(value, int | float) or isinstance(partner, int | float):
            return self(value, key)
        if self._at_mean:
            return value.mean()
        own = _STANDARD_NORMAL.inv_cdf(
            keyed_uniform(self._seed, self._replication, INPUT_PREFIX + key)
        )
        with_partner = _STANDARD_NORMAL.inv_cdf(
            keyed_uniform(self._seed, self._replication, INPUT_PREFIX + partner_key)
        )
        z = correlation * with_partner + math.sqrt(1.0 - correlation * correlation) * own
        u = min(max(_STANDARD_NORMAL.cdf(z), 1e-16), 1.0 - 1e-16)
        return float(value.ppf(np.array([u]))[0])


@dataclass(frozen=True, slots=True)
class MarketPlan:
    """The local market of one replication."""

    potential_customers: float
    local_taste_gap: float
    season_factors: tuple[float, ...]
    size_trend_per_year: float = 0.0


@dataclass(frozen=True, slots=True)
class EventPlan:
    """Random-event settings of one replication (rates of zero switch an event off)."""

    competitor_rate_per_year: float
    competitor_market_share_taken: float
    competitor_customers_lost_share: float
    recession_rate_per_year: float
    recession_duration_months: float
    recession_demand_drop: float
    breakdown_rate_per_year: float
    breakdown_repair_cost_usd: float
    breakdown_capacity_lost_share: float
    staff_loss_rate_per_year: float
    staff_loss_quality_drop: float
    staff_loss_months_to_replace: float
    staff_loss_recruiting_cost_usd: float
    # competitors that leave, and entry that follows saturation (0: off)
    competitor_exit_rate_per_year: float = 0.0
    competitor_rivals_at_start: int = 0
    competitor_entry_threshold_customers_per_firm: float = 0.0
    """Bresnahan-Reiss entry threshold in potential customers per firm (households per firm
    times the addressable share); 0 keeps entry at its constant rate."""


@dataclass(frozen=True, slots=True)
class FranchisePlan:
    """Franchise terms and franchisor risk of one arm in one replication."""

    royalty_rate: float
    ad_fund_rate: float
    fixed_fees_usd_per_month: float
    term_months: int
    renewal_fee_usd: float
    local_marketing_min_rate: float
    brand_awareness_p_per_month: float
    ad_fund_p_per_month: float
    failure_rate_per_year: float
    rebranding_cost_usd: float
    brand_shock_rate_per_year: float
    brand_shock_awareness_drop: float
    brand_shock_satisfaction_drop: float
    brand_shock_months: float
    # what the system brings beyond the fees and the brand (model v2); zero or inf is "none"
    purchasing_discount_rate: float
    brand_fade_half_life_months: float  # inf: the brand's pull never fades with time
    brand_fade_half_customer_share: float  # inf: nor with the unit's own customer base
    support_quality_share: float
    renewal_royalty_rate: float
    transfer_fee_usd: float
    failure_withdraws_system: bool
    # the unit's demand without the system's format: what is left after a failure
    own_spend_per_visit_usd: float
    own_visits_per_customer_per_month: float
    own_loyal_share: float


@dataclass(frozen=True, slots=True)
class FloatingRatePlan:
    """A variable-rate loan of one arm: prime plus a spread, reset every few months."""

    spread_per_year: float
    reset_months: int


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    """The owner's review of earnings against a benchmark (see ``scenario.OwnerReview``).

    Attributes:
        expected_usd_per_month: Earnings the owner expects in each month, from month 1.
        slack_usd_per_month: Monthly shortfall the owner shrugs off.
        give_up_shortfall_usd: Running shortfall at which the owner closes.
    """

    expected_usd_per_month: tuple[float, ...]
    slack_usd_per_month: float
    give_up_shortfall_usd: float


PLAN_SCALE_MONTHS = 12
"""Months of the plan on paper whose mean sales scale a review (``scaled_to_plan_sales``)."""


@dataclass(frozen=True, slots=True)
class PlanOnPaper:
    """One arm's plan on paper: its books with every input at its mean and no random events.

    Attributes:
        earnings_usd: Earnings (operating profit less debt service) month by month, what an
            owner reviewing against the plan expects; at least `PLAN_SCALE_MONTHS` long.
        revenue_usd: Sales month by month, as long.
    """

    earnings_usd: tuple[float, ...]
    revenue_usd: tuple[float, ...]

    @property
    def first_year_sales_usd_per_month(self) -> float:
        """Mean monthly sales in the plan's first `PLAN_SCALE_MONTHS` months."""
        first = self.revenue_usd[:PLAN_SCALE_MONTHS]
        return sum(first) / len(first) if first else 0.0


def review_scale(planned: PlanOnPaper, scaled_to_usd_per_month: float | None) -> float:
    """The factor on a review's slack and give-up shortfall for a plan of this size.

    Stated for a plan selling ``scaled_to_usd_per_month`` a month in its first year, they are
    scaled in proportion to this plan's own first-year sales: the owner shrugs off the same
    share of a bigger or a smaller business's plan. None: 1 (the stated USD in every arm).

    >>> review_scale(PlanOnPaper((0.0,), (50_000.0,)), 40_000.0)
    1.25
    """
    if scaled_to_usd_per_month is None:
        return 1.0
    return planned.first_year_sales_usd_per_month / scaled_to_usd_per_month


def expected_earnings_path(
    level_usd: float, opening_usd: float, ramp_months: float, months: int
) -> tuple[float, ...]:
    """Earnings expected in months ``1..months``: from ``opening`` to ``level`` in a line.

    Month ``t`` expects ``level + (opening - level) * max(0, 1 - (t - 1) / ramp)``: the opening
    figure in month 1, the level from month ``ramp + 1`` on (from month 1 without a ramp).
    """
    if ramp_months <= 0:
        return (level_usd,) * months
    return tuple(
        level_usd + (opening_usd - level_usd) * max(0.0, 1.0 - t / ramp_months)
        for t in range(months)
    )


@dataclass(frozen=True, slots=True)
class SalePlan:
    """How a personal exit sells the going business."""

    multiple_of_earnings: float
    broker_fee_rate: float
    other_costs_usd: float


@dataclass(frozen=True, slots=True)
class ClosurePlan:
    """What a closure settles in the closing month's books (see ``scenario.ClosureCosts``)."""

    lease_months: int | None
    lease_break_fee_usd: float | None
    wind_down_cost_usd: float


@dataclass(frozen=True, slots=True)
class EndPlan:
    """How one arm's business may end, and how its books are then squared.

    Attributes:
        settles_in_ledger: Whether a closure or sale is settled in the closing month's books
            (assets sold, lease and wind-down paid, loan repaid or guarantee called, the rest
            paid out), rather than valued by the liquidation rule in the NPV.
        liquidation_value_usd: What the equipment and stock fetch at closure.
        personal_guarantee: Whether the owner pays what the business cannot.
        review: The owner's earnings review, or None for the patience rule.
        sale: How a personal exit sells the business, or None to liquidate it.
        closure: What a closure costs, or None for nothing.
    """

    settles_in_ledger: bool
    liquidation_value_usd: float
    personal_guarantee: bool
    review: ReviewPlan | None
    sale: SalePlan | None
    closure: ClosurePlan | None


@dataclass(frozen=True, slots=True)
class UnitMoney:
    """One arm's money at opening in one replication, from its (possibly drawn) inputs.

    Attributes:
        upfront_usd: What the owner pays in at opening: equity, and the guarantee fee when it
            is paid rather than financed.
        loan_usd: The loan, a financed guarantee fee included.
        opening_cash_usd: Cash in the business on opening day.
        guarantee_fee_usd: The SBA guarantee fee (0 without one).
        liquidation_value_usd: What the equipment and stock fetch at closure.
        outside_wage_usd_per_month: The owner's outside wage (0 if none is stated).
        settles_in_ledger: Whether closures are settled in the books (see `EndPlan`).
    """

    upfront_usd: float
    loan_usd: float
    opening_cash_usd: float
    guarantee_fee_usd: float
    liquidation_value_usd: float
    outside_wage_usd_per_month: float
    settles_in_ledger: bool


def plan_money(arm: Arm, draw: Draw) -> UnitMoney:
    """One arm's money at opening: equity, loan, fees and the owner's outside wage."""
    fin, own = arm.financing, arm.owner
    loan = arm.loan_usd(draw)
    fee = 0.0
    gf = fin.guarantee_fee
    if gf is not None and loan > 0:
        share = (
            None
            if gf.guaranteed_share is None
            else draw(gf.guaranteed_share, "financing.guarantee_fee.guaranteed_share")
        )
        rate = (
            None
            if gf.rate_of_guaranteed_portion is None
            else draw(
                gf.rate_of_guaranteed_portion, "financing.guarantee_fee.rate_of_guaranteed_portion"
            )
        )
        fee = guarantee_fee_usd(loan, share, rate)
    financed = gf is not None and gf.financed
    wage = own.outside_wage_usd_per_month
    return UnitMoney(
        upfront_usd=arm.equity_usd(draw) + (0.0 if financed else fee),
        loan_usd=loan + (fee if financed else 0.0),
        opening_cash_usd=arm.opening_cash_usd(draw),
        guarantee_fee_usd=fee,
        liquidation_value_usd=arm.liquidation_value_usd(draw),
        outside_wage_usd_per_month=0.0
        if wage is None
        else draw(wage, "owner.outside_wage_usd_per_month"),
        settles_in_ledger=arm.operations.closure is not None or own.sale is not None,
    )


def _plan_end(
    arm: Arm,
    money: UnitMoney,
    draw: Draw,
    horizon_months: int,
    planned: PlanOnPaper | None,
) -> EndPlan:
    """How one arm's business may end: the owner's review, a sale, the closure's costs.

    ``planned`` is the arm's plan on paper, the expectation of a ``plan`` review; without it
    (the plan on paper itself) such a review is left out: the plan never falls short of
    itself.
    """
    own, closure = arm.owner, arm.operations.closure
    review = own.review
    review_plan = None
    if review is not None:
        scale = 1.0
        if review.benchmark in PLAN_BENCHMARKS:
            expected = None
            if planned is not None:
                expected = planned.earnings_usd
                if review.benchmark == "plan_or_outside_wage":
                    expected = capped_expectation(expected, money.outside_wage_usd_per_month)
                scale = review_scale(planned, review.scaled_to_plan_sales_usd_per_month)
        else:
            if review.benchmark == "outside_wage":
                level = money.outside_wage_usd_per_month
            else:
                assert review.expected_earnings_usd_per_month is not None  # schema checks it
                level = draw(
                    review.expected_earnings_usd_per_month,
                    "owner.review.expected_earnings_usd_per_month",
                )
            expected = expected_earnings_path(
                level, review.opening_earnings_usd_per_month, review.ramp_months, horizon_months
            )
        if expected is not None:
            review_plan = ReviewPlan(
                expected_usd_per_month=expected,
                slack_usd_per_month=scale
                * draw(review.slack_usd_per_month, "owner.review.slack_usd_per_month"),
                give_up_shortfall_usd=scale
                * draw(review.give_up_shortfall_usd, "owner.review.give_up_shortfall_usd"),
            )
    sale = own.sale
    return EndPlan(
        settles_in_ledger=money.settles_in_ledger,
        liquidation_value_usd=money.liquidation_value_usd,
        personal_guarantee=arm.financing.personal_guarantee,
        review=review_plan,
        sale=None
        if sale is None
        else SalePlan(
            multiple_of_earnings=draw(sale.multiple_of_earnings, "owner.sale.multiple_of_earnings"),
            broker_fee_rate=draw(sale.broker_fee_rate, "owner.sale.broker_fee_rate"),
            other_costs_usd=draw(sale.other_costs_usd, "owner.sale.other_costs_usd"),
        ),
        closure=None
        if closure is None
        else ClosurePlan(
            lease_months=closure.lease_months,
            lease_break_fee_usd=None
            if closure.lease_break_fee_usd is None
            else draw(closure.lease_break_fee_usd, "operations.closure.lease_break_fee_usd"),
            wind_down_cost_usd=draw(
                closure.wind_down_cost_usd, "operations.closure.wind_down_cost_usd"
            ),
        ),
    )


@functools.lru_cache(maxsize=256)  # every replication of a run caps the same plan alike
def capped_expectation(planned: tuple[float, ...], cap_usd: float) -> tuple[float, ...]:
    """The plan's monthly earnings, never more than ``cap_usd`` (the owner's outside wage).

    >>> capped_expectation((-5000.0, 1000.0, 6000.0), 4000.0)
    (-5000.0, 1000.0, 4000.0)
    """
    return tuple(min(month, cap_usd) for month in planned)


def needs_plan_on_paper(scenario: Scenario) -> bool:
    """Whether some arm's owner reviews its earnings against the plan on paper."""
    return any(
        arm.owner.review is not None and arm.owner.review.benchmark in PLAN_BENCHMARKS
        for arm in scenario.resolved_arms()
    )


def owner_money(
    scenario: Scenario,
    arms: tuple[str, ...],
    seed: int,
    runs: int | range,
    *,
    deterministic: bool,
) -> dict[str, np.ndarray]:
    """Every arm's `UnitMoney` in every replication, as arrays (arm, replication).

    The same draws as `plan_replication` makes, one replication at a time: the scalar
    definition of `batch_plan.owner_money`, which the outcomes use. ``runs`` is the
    replications: ``range(runs)`` for a number, or one batch's range.
    """
    replications = range(runs) if isinstance(runs, int) else runs
    names = ("upfront_usd", "outside_wage_usd_per_month", "liquidation_value_usd")
    out = {name: np.zeros((len(arms), len(replications))) for name in names}
    settled = np.zeros((len(arms), len(replications)), dtype=bool)
    for j, r in enumerate(replications):
        draw = Draw(seed, r, at_mean=deterministic)
        for i, name in enumerate(arms):
            money = plan_money(scenario.arm(name), draw)
            for key in names:
                out[key][i, j] = getattr(money, key)
            settled[i, j] = money.settles_in_ledger
    out["settles_in_ledger"] = settled
    return out


@dataclass(frozen=True, slots=True)
class UnitPlan:
    """Everything one business (one arm) needs for one replication, as plain numbers."""

    arm: str
    # customers
    innovation_p_per_month: float
    imitation_q_per_month: float
    loyal_share: float
    loyal_retention_per_year: float
    casual_retention_per_year: float
    visits_per_customer_per_month: float
    spend_per_visit_usd: float
    churn_sensitivity: float
    overload_penalty: float
    # operations
    capacity_visits_per_month: float
    variable_cost_rate: float
    payroll_usd_per_month: float
    rent_usd_per_month: float
    other_fixed_usd_per_month: float
    marketing_usd_per_month: float
    marketing_p_per_1000usd: float
    advertising_half_life_months: float
    # concept or template
    quality_potential: float
    starting_quality_share: float
    learning_months: float
    starting_mismatch: float
    mismatch_floor: float
    adaptation_months: float
    # money
    loan_usd: float
    loan_rate_per_year: float
    loan_term_months: int
    working_capital_usd: float  # cash on opening day: with any equity beyond the investment
    # owner
    draw_usd_per_month: float
    cash_floor_usd: float
    cash_ceiling_usd: float
    reserve_usd: float
    patience_months: int
    living_share_of_draw: float
    personal_exit_rate_per_year: float
    franchise: FranchisePlan | None
    # v2: a variable-rate loan, and how the business may end
    floating_rate: FloatingRatePlan | None = None
    end: EndPlan | None = None
    # customers and learning (None: off, today's behaviour)
    lapsed_winback_share: float | None = None
    learning_visits: float | None = None


@dataclass(frozen=True, slots=True)
class ReplicationPlan:
    """All realised inputs of one replication: the market, the events and one plan per arm."""

    replication: int
    seed: int
    horizon_months: int
    discount_rate_per_year: float
    market: MarketPlan
    events: EventPlan
    units: tuple[UnitPlan, ...]
    demand_noise: bool
    prime_rate: PrimeRate | None = None
    """The prime rate's path settings, when some arm has a floating-rate loan."""


def plan_replication(
    scenario: Scenario,
    *,
    seed: int,
    replication: int,
    horizon_months: int,
    deterministic: bool = False,
    on_paper: dict[str, PlanOnPaper] | None = None,
    draw: Draw | None = None,
) -> ReplicationPlan:
    """Draw one replication's inputs.

    Args:
        scenario: The validated scenario.
        seed: Master seed.
        replication: Replication index (0-based).
        horizon_months: Months to simulate.
        deterministic: Replace every distribution by its mean, switch random events off and
            advance customers and visits at their expected values.
        on_paper: Per arm, its plan on paper (see ``replication.plans_on_paper``), what an
            owner reviewing against the plan expects; None leaves such reviews out.
        draw: Where the replication's draws come from (a `draws.BatchDraw`, drawn for a whole
            batch at once); by default a `Draw` of this seed and replication.

    Returns:
        The realised plan.
    """
    if draw is None:
        draw = Draw(seed, replication, at_mean=deterministic)
    market = scenario.market
    addressable_share = draw(market.addressable_share, "market.addressable_share")
    market_plan = MarketPlan(
        potential_customers=draw(market.households, "market.households") * addressable_share,
        local_taste_gap=draw(market.local_taste_gap, "market.local_taste_gap"),
        season_factors=market.season_factors(),
        size_trend_per_year=draw(market.size_trend_per_year, "market.size_trend_per_year"),
    )
    return ReplicationPlan(
        replication=replication,
        seed=seed,
        horizon_months=horizon_months,
        discount_rate_per_year=scenario.run.discount_rate_per_year,
        market=market_plan,
        events=_plan_events(
            scenario,
            draw,
            enabled=scenario.events.enabled and not deterministic,
            addressable_share=addressable_share,
        ),
        units=tuple(
            _plan_unit(
                arm,
                scenario,
                market_plan,
                draw,
                chance=not deterministic,
                horizon_months=horizon_months,
                planned=(on_paper or {}).get(arm.name),
            )
            for arm in scenario.resolved_arms()
        ),
        demand_noise=not deterministic,
        prime_rate=(scenario.prime_rate or PrimeRate())
        if any(arm.financing.floating_rate is not None for arm in scenario.resolved_arms())
        else None,
    )


def _optional(draw: Draw, value: Uncertain | None, key: str) -> float:
    """A draw of an optional input; ``inf`` when it is absent (the mechanism never acts)."""
    return math.inf if value is None else draw(value, key)


def _plan_events(
    scenario: Scenario, draw: Draw, *, enabled: bool, addressable_share: float
) -> EventPlan:
    ev = scenario.events
    on = 1.0 if enabled else 0.0
    entry = ev.competitor_entry
    threshold = entry.households_per_firm_threshold
    return EventPlan(
        competitor_rate_per_year=on * ev.competitor_entry.rate_per_year,
        competitor_market_share_taken=draw(
            ev.competitor_entry.market_share_taken, "events.competitor_entry.market_share_taken"
        ),
        competitor_customers_lost_share=draw(
            ev.competitor_entry.customers_lost_share,
            "events.competitor_entry.customers_lost_share",
        ),
        recession_rate_per_year=on * ev.recession.rate_per_year,
        recession_duration_months=draw(
            ev.recession.duration_months, "events.recession.duration_months"
        ),
        recession_demand_drop=draw(ev.recession.demand_drop, "events.recession.demand_drop"),
        breakdown_rate_per_year=on * ev.equipment_breakdown.rate_per_year,
        breakdown_repair_cost_usd=draw(
            ev.equipment_breakdown.repair_cost_usd, "events.equipment_breakdown.repair_cost_usd"
        ),
        breakdown_capacity_lost_share=draw(
            ev.equipment_breakdown.capacity_lost_share,
            "events.equipment_breakdown.capacity_lost_share",
        ),
        staff_loss_rate_per_year=on * ev.key_staff_loss.rate_per_year,
        staff_loss_quality_drop=draw(
            ev.key_staff_loss.quality_drop, "events.key_staff_loss.quality_drop"
        ),
        staff_loss_months_to_replace=draw(
            ev.key_staff_loss.months_to_replace, "events.key_staff_loss.months_to_replace"
        ),
        staff_loss_recruiting_cost_usd=draw(
            ev.key_staff_loss.recruiting_cost_usd, "events.key_staff_loss.recruiting_cost_usd"
        ),
        competitor_exit_rate_per_year=on * entry.exit_rate_per_year,
        competitor_rivals_at_start=entry.rivals_at_start,
        competitor_entry_threshold_customers_per_firm=(
            0.0 if threshold is None else threshold * addressable_share
        ),
    )


def _own_mismatch(concept: Concept, scenario: Scenario, draw: Draw) -> float:
    """An untested concept's starting distance from local tastes (the independent's rule)."""
    rho = concept.mismatch_taste_gap_correlation
    if rho is None:
        return draw(concept.starting_mismatch, "concept.starting_mismatch")
    return draw.coupled(
        concept.starting_mismatch,
        "concept.starting_mismatch",
        scenario.market.local_taste_gap,
        "market.local_taste_gap",
        rho,
    )


def _plan_unit(
    arm: Arm,
    scenario: Scenario,
    market: MarketPlan,
    draw: Draw,
    *,
    chance: bool,
    horizon_months: int,
    planned: PlanOnPaper | None,
) -> UnitPlan:
    """One arm's realised unit; without ``chance`` no event at a random time can befall it.

    The plan on paper (``chance`` False) has no personal exit, franchisor failure or brand
    shock, as it has no shared random events: every run of it is the same single path.

    A franchise arm draws each input with the key the independent draws it with, so a
    mechanism switched off gives the independent's value, draw for draw.
    """
    on = 1.0 if chance else 0.0
    c, o, fin, own = arm.customers, arm.operations, arm.financing, arm.owner
    terms = arm.franchise
    concept = arm.concept
    # Same key for the template's quality as for the concept's: the same owner's operating
    # talent ranks the same in both worlds, though the template narrows its spread.
    quality = draw(concept.quality, "concept.quality")
    starting_quality_share = concept.starting_quality_share
    learning_months = concept.learning_months
    learning_visits = concept.learning_visits
    mismatch_floor = 0.0
    franchise = None
    variable_cost_rate = draw(o.variable_cost_rate, "operations.variable_cost_rate")
    if terms is None:
        starting_mismatch = _own_mismatch(concept, scenario, draw)
    else:
        switch = terms.mechanisms
        template = terms.template
        if switch.template:
            quality = draw(template.quality, "concept.quality")
            starting_quality_share = template.starting_quality_share
            learning_months = template.learning_months
            learning_visits = template.learning_visits
            starting_mismatch = market.local_taste_gap
        else:
            starting_mismatch = _own_mismatch(concept, scenario, draw)
        if switch.customization_limit:
            limit = draw(terms.customization_limit, "franchise.customization_limit")
            mismatch_floor = max(0.0, starting_mismatch - limit)
        fee = 1.0 if switch.fees else 0.0
        brand = 1.0 if switch.brand else 0.0
        risk = on if switch.franchisor_risk else 0.0
        fr = terms.franchisor
        shared = scenario.customers
        royalty_rate = draw(terms.royalty_rate, "franchise.royalty_rate")
        franchise = FranchisePlan(
            royalty_rate=fee * royalty_rate,
            ad_fund_rate=fee * draw(terms.ad_fund_rate, "franchise.ad_fund_rate"),
            fixed_fees_usd_per_month=fee
            * draw(terms.fixed_fees_usd_per_month, "franchise.fixed_fees_usd_per_month"),
            term_months=round(terms.term_years * 12),
            renewal_fee_usd=fee * draw(terms.renewal_fee_usd, "franchise.renewal_fee_usd"),
            local_marketing_min_rate=fee * terms.local_marketing_min_rate,
            brand_awareness_p_per_month=brand
            * draw(terms.brand_awareness_p_per_month, "franchise.brand_awareness_p_per_month"),
            ad_fund_p_per_month=brand
            * draw(terms.ad_fund_p_per_month, "franchise.ad_fund_p_per_month"),
            failure_rate_per_year=risk * fr.failure_rate_per_year,
            rebranding_cost_usd=fr.rebranding_cost_usd,
            brand_shock_rate_per_year=risk * fr.brand_shock_rate_per_year,
            brand_shock_awareness_drop=draw(
                fr.brand_shock_awareness_drop, "franchise.franchisor.brand_shock_awareness_drop"
            ),
            brand_shock_satisfaction_drop=draw(
                fr.brand_shock_satisfaction_drop,
                "franchise.franchisor.brand_shock_satisfaction_drop",
            ),
            brand_shock_months=draw(
                fr.brand_shock_months, "franchise.franchisor.brand_shock_months"
            ),
            purchasing_discount_rate=draw(
                terms.purchasing_discount_rate, "franchise.purchasing_discount_rate"
            )
            if switch.purchasing
            else 0.0,
            brand_fade_half_life_months=_optional(
                draw, terms.brand_fade_half_life_months, "franchise.brand_fade_half_life_months"
            ),
            brand_fade_half_customer_share=_optional(
                draw,
                terms.brand_fade_half_customer_share,
                "franchise.brand_fade_half_customer_share",
            ),
            support_quality_share=draw(
                template.support_quality_share, "franchise.template.support_quality_share"
            )
            if switch.template
            else 0.0,
            renewal_royalty_rate=fee
            * (royalty_rate if terms.renewal_royalty_rate is None else terms.renewal_royalty_rate),
            transfer_fee_usd=fee * terms.transfer_fee_usd,
            failure_withdraws_system=fr.failure_withdraws_system,
            own_spend_per_visit_usd=draw(
                shared.spend_per_visit_usd, "customers.spend_per_visit_usd"
            ),
            own_visits_per_customer_per_month=draw(
                shared.visits_per_customer_per_month, "customers.visits_per_customer_per_month"
            ),
            own_loyal_share=draw(shared.loyal_share, "customers.loyal_share"),
        )
    money = plan_money(arm, draw)
    floating = fin.floating_rate
    return UnitPlan(
        arm=arm.name,
        innovation_p_per_month=draw(c.innovation_p_per_month, "customers.innovation_p_per_month"),
        imitation_q_per_month=draw(c.imitation_q_per_month, "customers.imitation_q_per_month"),
        loyal_share=draw(c.loyal_share, "customers.loyal_share"),
        loyal_retention_per_year=c.loyal_retention_per_year,
        casual_retention_per_year=c.casual_retention_per_year,
        visits_per_customer_per_month=draw(
            c.visits_per_customer_per_month, "customers.visits_per_customer_per_month"
        ),
        spend_per_visit_usd=draw(c.spend_per_visit_usd, "customers.spend_per_visit_usd"),
        churn_sensitivity=c.churn_sensitivity,
        overload_penalty=c.overload_penalty,
        capacity_visits_per_month=draw(
            o.capacity_visits_per_month, "operations.capacity_visits_per_month"
        ),
        variable_cost_rate=variable_cost_rate,
        payroll_usd_per_month=draw(o.payroll_usd_per_month, "operations.payroll_usd_per_month"),
        rent_usd_per_month=draw(o.rent_usd_per_month, "operations.rent_usd_per_month"),
        other_fixed_usd_per_month=draw(
            o.other_fixed_usd_per_month, "operations.other_fixed_usd_per_month"
        ),
        marketing_usd_per_month=draw(
            o.marketing_usd_per_month, "operations.marketing_usd_per_month"
        ),
        marketing_p_per_1000usd=o.marketing_p_per_1000usd,
        advertising_half_life_months=o.advertising_half_life_months,
        quality_potential=quality,
        starting_quality_share=starting_quality_share,
        learning_months=learning_months,
        starting_mismatch=starting_mismatch,
        mismatch_floor=mismatch_floor,
        adaptation_months=arm.concept.adaptation_months,
        loan_usd=money.loan_usd,
        loan_rate_per_year=draw(fin.loan_rate_per_year, "financing.loan_rate_per_year"),
        loan_term_months=fin.loan_term_months,
        working_capital_usd=money.opening_cash_usd,
        draw_usd_per_month=own.draw_usd_per_month,
        cash_floor_usd=own.cash_floor_usd,
        cash_ceiling_usd=own.cash_ceiling_usd,
        reserve_usd=own.reserve_usd,
        patience_months=max(1, round(draw(own.patience_months, "owner.patience_months"))),
        living_share_of_draw=own.living_share_of_draw,
        personal_exit_rate_per_year=on * own.personal_exit_rate_per_year,
        franchise=franchise,
        floating_rate=None
        if floating is None
        else FloatingRatePlan(
            spread_per_year=draw(
                floating.spread_over_prime_per_year,
                "financing.floating_rate.spread_over_prime_per_year",
            ),
            reset_months=floating.reset_months,
        ),
        end=_plan_end(arm, money, draw, horizon_months, planned),
        lapsed_winback_share=c.lapsed_winback_share,
        learning_visits=learning_visits,
    )
