"""The scenario schema: frozen, validated data describing one franchise-or-independent decision.

A scenario names a local market, the business's economics, how it is financed, the owner, the
random events it may meet and two or more **arms**: ways of starting the same business. Shared
sections are written once; an arm may override any field of them and the franchise arm adds its
franchise terms. Units are in the field names (``_usd``, ``_per_month``, ``_rate`` for shares).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from franchise_sim.scenario.distributions import Uncertain, draw_range, mean_of
from franchise_sim.scenario.quantities import (
    MAX_AD_FUND_RATE,
    MAX_CAPACITY_VISITS,
    MAX_HOUSEHOLDS,
    MAX_LOCAL_MARKETING_RATE,
    MAX_MONTHS,
    MAX_P_PER_MONTH,
    MAX_RIVALS,
    MAX_ROYALTY_RATE,
    MAX_SEASON_FACTOR,
    MAX_SEED,
    MAX_SPEND_PER_VISIT_USD,
    MAX_TERM_YEARS,
    MAX_TREND_PER_YEAR,
    MAX_USD,
    MAX_USD_PER_MONTH,
    MAX_VISITS_PER_CUSTOMER,
    MAX_VISITS_TO_LEARN,
    BassQ,
    Months,
    PerMonth,
    Section,
    Share,
    UsdAmount,
    UsdPerMonth,
    Within,
)
from franchise_sim.scenario.relationships.marketing_alliance import MarketingAlliance
from franchise_sim.scenario.relationships.outsourcing import Outsourcing
from franchise_sim.scenario.relationships.partnership import Partnership
from franchise_sim.scenario.relationships.project_group import ProjectGroup
from franchise_sim.scenario.relationships.trade_association import TradeAssociation
from franchise_sim.scenario.sba_rules import sba_max_spread

BlsSector = Literal[
    "total_private", "other_services_naics81", "retail_trade", "accommodation_food_services"
]
"""Columns of the BLS establishment-survival table shipped in ``franchise_sim/data``."""


@dataclass(frozen=True)
class SalesRateCap:
    """Validator: a franchise fee charged as a share of sales, refused above ``high``.

    Attributes:
        kind: What the fee is called in the message ("royalty").
        published: The published range, as text ("1-15%").
        high: The largest share accepted.
    """

    kind: str
    published: str
    high: float

    def __call__(self, value: Uncertain) -> Uncertain:
        """Return the value, or raise the error pydantic reports for it."""
        top = draw_range(value)[1]
        if top > self.high:
            raise PydanticCustomError(
                "implausible",
                "{value} is no {kind} a franchisor charges: published ones run {published} "
                "of sales (franchise_sim/data/franchise_terms.csv), and at most {cap} is "
                "accepted; a share is written as a fraction (7% is 0.07)",
                {
                    "value": f"{top:g}",
                    "kind": self.kind,
                    "published": self.published,
                    "cap": f"{self.high:g}",
                },
            )
        return value


def _some_households(value: Any) -> Any:
    """Validator: a market of at least one household on average."""
    if value is not None and mean_of(value) < 1.0:
        raise PydanticCustomError(
            "no_market",
            "{shown} households leaves no market: give the households within reach of the "
            "location (at least 1)",
            {"shown": f"{mean_of(value):g}"},
        )
    return value


UNPRINTABLE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
"""Unicode categories a name may not hold: controls (newline, tab, escape), format characters
(bidirectional overrides, zero-width marks), line and paragraph separators, unassigned."""


def control_character(text: str, allowed: str = "") -> str | None:
    """The first character of ``text`` that would not print as itself on a terminal, if any."""
    for char in text:
        if char not in allowed and unicodedata.category(char) in UNPRINTABLE_CATEGORIES:
            return char
    return None


def _plain_text(text: str, *, allowed: str = "") -> str:
    """Validator: text that prints as itself on a terminal (no control characters)."""
    char = control_character(text, allowed)
    if char is not None:
        raise PydanticCustomError(
            "control_character",
            "holds the control character {char}; names and labels are plain text "
            "(no newlines, tabs or escape sequences)",
            {"char": ascii(char).strip("'")},
        )
    return text


PlainText = Annotated[str, AfterValidator(_plain_text)]
"""A name or label: text without control characters."""


class TerminalValue(Section):
    """How the going business is valued at the horizon (its terminal value in the NPV).

    ``multiple``: a stated multiple of the last twelve months' operating profit (the seller's
    discretionary earnings, the owner's own pay included), whose implied capitalisation rate is
    ``1 / multiple``. ``capitalised``: those earnings less twelve months of the owner's outside
    wage (what running it costs a buyer who hires a manager), capitalised at the discount rate
    less a growth rate, ``E (1 + g) / (r - g)``: consistent with the NPV's own discount rate.
    """

    method: Literal["multiple", "capitalised"] = Field(
        description="`multiple` (today's rule, the multiple given here) or `capitalised`."
    )
    multiple_of_earnings: float = Field(
        2.0,
        ge=0,
        le=100,
        description="For `multiple`: value as a multiple of yearly operating profit. Small "
        "businesses sell for about 2-3x seller's discretionary earnings [A].",
    )
    growth_rate_per_year: float = Field(
        0.0,
        ge=-1,
        le=1,
        description="For `capitalised`: yearly growth of earnings after the horizon [A: 0, "
        "no real growth; below the discount rate].",
    )


class RunSettings(Section):
    """How long to simulate, how often, and how to value money over time."""

    horizon_months: int = Field(60, ge=1, le=360, description="Months simulated after opening.")
    runs: int = Field(1000, ge=1, le=1_000_000, description="Paired Monte Carlo replications.")
    seed: int = Field(
        20261127, ge=0, le=MAX_SEED, description="Master seed of every random stream."
    )
    discount_rate_per_year: float = Field(
        0.10, ge=0, le=1, description="Owner's discount rate for NPV (effective annual)."
    )
    terminal_value: TerminalValue | None = Field(
        None,
        description="How a business still open at the horizon is valued; absent: "
        "`owner.valuation_multiple_of_profit` times the last twelve months' operating profit.",
    )

    @model_validator(mode="after")
    def _growth_below_discount(self) -> RunSettings:
        tv = self.terminal_value
        if (
            tv is not None
            and tv.method == "capitalised"
            and tv.growth_rate_per_year >= self.discount_rate_per_year
        ):
            raise PydanticCustomError(
                "growth_rate",
                "terminal_value.growth_rate_per_year {g} must be below the discount rate "
                "{r}: earnings growing as fast as the discount rate have no finite value",
                {"g": f"{tv.growth_rate_per_year:g}", "r": f"{self.discount_rate_per_year:g}"},
            )
        return self


class Market(Section):
    """The local market, shared by every arm of a replication."""

    households: Annotated[
        Uncertain,
        AfterValidator(Within(0.0, MAX_HOUSEHOLDS)),
        AfterValidator(_some_households),
    ] = Field(description="Households within reach of the location.")
    addressable_share: Share = Field(
        description="Share of households that could ever become this business's customers."
    )
    local_taste_gap: Share = Field(
        0.2,
        description="How far local tastes sit from a standard national offering (0 = none).",
    )
    size_trend_per_year: Annotated[
        Uncertain, AfterValidator(Within(-MAX_TREND_PER_YEAR, MAX_TREND_PER_YEAR))
    ] = Field(
        0.0,
        description="Yearly growth (or, below 0, decline) of the market's size: 0.01 adds 1% "
        "a year, compounding, so after t years the market is (1 + trend)^t of its start "
        "(before competitors' shares) [A]. 0 (absent): a market of constant size.",
    )
    seasonality: tuple[Annotated[float, Field(gt=0, le=MAX_SEASON_FACTOR)], ...] = Field(
        (1.0,) * 12,
        strict=False,
        min_length=12,
        max_length=12,
        description="Relative demand January..December; rescaled to average 1.",
    )

    def season_factors(self) -> tuple[float, ...]:
        """Seasonality rescaled so the twelve factors average exactly 1."""
        mean = sum(self.seasonality) / 12.0
        return tuple(s / mean for s in self.seasonality)


class Customers(Section):
    """How people find, use and leave the business (Bass diffusion with two loyalty segments)."""

    innovation_p_per_month: Share = Field(
        description="Bass p: monthly chance a non-customer tries the business through "
        "location and signage alone, before any advertising or brand."
    )
    imitation_q_per_month: BassQ = Field(
        description="Bass q: monthly word-of-mouth pull at full satisfaction and market share 1."
    )
    loyal_share: Share = Field(description="Share of new customers who are the loyal kind.")
    loyal_retention_per_year: float = Field(
        gt=0, le=1, description="Yearly retention of loyal customers at full satisfaction."
    )
    casual_retention_per_year: float = Field(
        gt=0, le=1, description="Yearly retention of casual customers at full satisfaction."
    )
    visits_per_customer_per_month: Annotated[
        Uncertain, AfterValidator(Within(0.0, MAX_VISITS_PER_CUSTOMER))
    ] = Field(description="Average visits per customer.")
    spend_per_visit_usd: Annotated[
        Uncertain, AfterValidator(Within(0.0, MAX_SPEND_PER_VISIT_USD))
    ] = Field(description="Average ticket.")
    churn_sensitivity: float = Field(
        2.0, ge=0, le=100, description="Rise in the churn hazard per unit of dissatisfaction."
    )
    overload_penalty: float = Field(
        1.0, ge=0, le=1, description="Satisfaction lost per unit share of demand turned away."
    )
    lapsed_winback_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Former customers (those who left or switched to a competitor) form a "
        "lapsed pool won back at this fraction of the adoption hazard a never-customer meets; "
        "lapsed customers come back far more slowly than new ones adopt (Libai, Muller & Peres "
        "2009) [EV], the fraction itself [A]. Absent: they rejoin the pool of potential "
        "customers and are won at the full rate.",
    )


class ClosureCosts(Section):
    """What a business owes when it closes, settled in the books of its closing month.

    Its equipment and stock are sold (``investment.liquidation_recovery_share`` of their
    cost), the lease is settled, the wind-down paid, and the loan repaid; with a personal
    guarantee the owner pays in whatever the business cannot, without one the lender bears it.
    Whatever cash is left goes to the owner. A business sold as a going concern (``owner.sale``)
    passes its lease to the buyer and owes neither.
    """

    lease_months: int | None = Field(
        None,
        ge=1,
        le=1200,
        description="Length of the lease from opening, renewed for as long at each end; the "
        "rent for the rest of the current term is owed at closure. Small commercial leases run "
        "3-10 years [A].",
    )
    lease_break_fee_usd: UsdAmount | None = Field(
        None,
        description="Fee that ends the lease early; caps what is owed under it (the smaller "
        "is paid). Alone, the fee is owed at closure [A].",
    )
    wind_down_cost_usd: UsdAmount = Field(
        0.0,
        description="One-off cost of closing: final payroll and notices, removal, restoring "
        "the premises, accounting [A].",
    )


class Operations(Section):
    """Capacity and running costs of the business."""

    capacity_visits_per_month: Annotated[
        Uncertain, AfterValidator(Within(0.0, MAX_CAPACITY_VISITS))
    ] = Field(description="Most visits the unit can serve.")
    variable_cost_rate: Share = Field(description="Parts, materials or food as a share of sales.")
    payroll_usd_per_month: UsdPerMonth = Field(description="Staff wages and payroll taxes.")
    rent_usd_per_month: UsdPerMonth = Field(description="Occupancy cost.")
    other_fixed_usd_per_month: UsdPerMonth = Field(
        description="Utilities, insurance, software, accounting."
    )
    marketing_usd_per_month: UsdPerMonth = Field(description="Planned local advertising.")
    marketing_p_per_1000usd: float = Field(
        ge=0,
        le=MAX_P_PER_MONTH,
        description="Bass p added in steady state per 1,000 USD of monthly advertising.",
    )
    advertising_half_life_months: float = Field(
        0.8, gt=0, le=MAX_MONTHS, description="Half-life of advertising's effect (adstock)."
    )
    closure: ClosureCosts | None = Field(
        None,
        description="What closing costs, settled in the closing month's books; absent: a "
        "closed business is valued at its liquidation in the NPV, with no lease or wind-down "
        "cost.",
    )


class Concept(Section):
    """An independent's own, unproven concept and how it learns.

    A franchise arm takes its quality and learning curve from ``franchise.template`` and its
    starting distance from local tastes from ``market.local_taste_gap``; of this section it uses
    only ``adaptation_months``.
    """

    quality: Share = Field(description="Operating quality the business can reach (1 = best).")
    starting_quality_share: float = Field(
        0.7, ge=0, le=1, description="Share of that quality reached on opening day."
    )
    learning_months: float = Field(
        12.0,
        gt=0,
        le=MAX_MONTHS,
        description="Time constant of the learning curve towards full quality.",
    )
    learning_visits: float | None = Field(
        None,
        gt=0,
        le=MAX_VISITS_TO_LEARN,
        description="Learning by doing: the learning curve's constant in cumulative visits "
        "served instead of months, so a busier unit learns faster (Argote & Epple 1990) [EV]. "
        "Absent: quality learns with calendar time (learning_months).",
    )
    starting_mismatch: Share = Field(
        description="How far the untested offering sits from local tastes at opening."
    )
    adaptation_months: float = Field(
        12.0,
        gt=0,
        le=MAX_MONTHS,
        description="Time constant of adapting the offering to local tastes.",
    )
    mismatch_taste_gap_correlation: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Rank correlation (Gaussian copula) between this concept's starting "
        "mismatch and the market's local_taste_gap: how far peculiar local tastes also put an "
        "untested concept off. Absent: drawn independently of the taste gap, as before model "
        "v2. [A]",
    )


class Investment(Section):
    """Start-up investment, spent before opening."""

    buildout_usd: UsdAmount = Field(description="Leasehold improvements and signage.")
    equipment_usd: UsdAmount = Field(description="Equipment and fixtures.")
    initial_inventory_usd: UsdAmount = Field(description="Opening stock.")
    working_capital_usd: UsdAmount = Field(description="Cash in the bank on opening day.")
    liquidation_recovery_share: float = Field(
        0.25, ge=0, le=1, description="Share of equipment and stock recovered at closure."
    )


class FloatingRate(Section):
    """A variable-rate loan: prime plus a spread, reset every few months (most 7(a) loans)."""

    spread_over_prime_per_year: Annotated[Uncertain, AfterValidator(Within(0.0, 0.5))] = Field(
        description="Margin over the prime rate; SBA 7(a) caps it at 3-6.5 points by loan "
        "size [SBA]."
    )
    reset_months: int = Field(
        3,
        ge=1,
        le=120,
        description="Months between rate resets; the payment is re-amortised over the months "
        "left at each (7(a) variable rates reset monthly or quarterly) [A: quarterly].",
    )


class GuaranteeFee(Section):
    """The SBA's up-front fee for guaranteeing a 7(a) loan, on the guaranteed portion."""

    rate_of_guaranteed_portion: Share | None = Field(
        None,
        description="Fee as a share of the guaranteed portion; absent: the SBA's tiers for "
        "fiscal year 2025 (2% up to 150k, 3% to 700k, 3.5% above) [A: check the current "
        "notice].",
    )
    guaranteed_share: Share | None = Field(
        None, description="Share of the loan guaranteed; absent: 85% up to 150k, 75% above [SBA]."
    )
    financed: bool = Field(
        True,
        description="Added to the loan (true, the usual practice) or paid by the owner at "
        "signing (false).",
    )


class Financing(Section):
    """Owner equity plus an amortising term loan (SBA 7(a) style) for the rest."""

    owner_equity_usd: UsdAmount = Field(
        description="Owner's own money put in at the start; any beyond the investment is kept "
        "as cash in the business.",
    )
    loan_rate_per_year: Annotated[Uncertain, AfterValidator(Within(0.0, 0.5))] = Field(
        description="Nominal annual interest rate."
    )
    loan_term_months: int = Field(ge=1, le=300, description="Monthly payments to repay the loan.")
    personal_guarantee: bool = Field(
        True, description="Owner covers any debt left after liquidation (usual for SBA loans)."
    )
    floating_rate: FloatingRate | None = Field(
        None,
        description="A variable rate, prime plus a spread, instead of `loan_rate_per_year`; "
        "absent: a fixed rate.",
    )
    guarantee_fee: GuaranteeFee | None = Field(
        None, description="The SBA's up-front guarantee fee; absent: none is paid."
    )


PLAN_BENCHMARKS = ("plan", "plan_or_outside_wage")
"""Review benchmarks that expect the arm's plan on paper (and may scale with its sales)."""
WAGE_BENCHMARKS = ("outside_wage", "plan_or_outside_wage")
"""Review benchmarks that need the owner's outside wage."""


class OwnerReview(Section):
    """The owner's monthly review: earnings against what they expected, or an outside wage.

    Each month the owner sets the business's earnings (operating profit less debt service)
    against what they expected for that month and keeps the running shortfall
    ``S = max(0, S + expected - slack - earnings)`` (Page's CUSUM: a shortfall within the
    slack is shrugged off, good months pay back earlier shortfalls but bank no credit). When
    it exceeds ``give_up_shortfall_usd`` the owner closes. A poor site or concept piles up its
    shortfall within months and closes early; a middling one late; a good one never.

    What the owner expects: ``plan``, the arm's own plan on paper (every input at its mean, no
    random events: the earnings path of ``--deterministic``), month by month, ramp-up losses
    included; ``plan_or_outside_wage``, that plan but never more than the owner's outside wage
    (the owner is ready for the start-up losses the plan foresees, and then wants at least what
    a job would pay: a business that earns more than a job is not given up because it earns
    less than its plan said); ``expected``, a stated level; ``outside_wage``, the owner's
    outside wage. A stated level is expected to be reached in a straight line from
    ``opening_earnings_usd_per_month`` in month 1 to the level in month ``ramp_months + 1``.
    """

    benchmark: Literal["plan", "plan_or_outside_wage", "expected", "outside_wage"] = Field(
        "plan",
        description="`plan`: the arm's plan on paper; `plan_or_outside_wage`: the plan, capped "
        "at `owner.outside_wage_usd_per_month`; `expected`: `expected_earnings_usd_per_month`; "
        "`outside_wage`: `owner.outside_wage_usd_per_month`.",
    )
    expected_earnings_usd_per_month: UsdPerMonth | None = Field(
        None,
        description="For `expected`: earnings the owner expects once the business has ramped "
        "up (from their business plan).",
    )
    opening_earnings_usd_per_month: float = Field(
        0.0,
        ge=-MAX_USD_PER_MONTH,
        le=MAX_USD_PER_MONTH,
        description="For a stated level: earnings expected in month 1 (negative: the start-up "
        "losses the owner is ready for) [A].",
    )
    ramp_months: float = Field(
        6.0,
        ge=0,
        le=MAX_MONTHS,
        description="For a stated level: months until it is expected to be reached [A].",
    )
    slack_usd_per_month: UsdPerMonth = Field(
        0.0,
        description="Monthly shortfall the owner shrugs off (the CUSUM's allowance): plans "
        "are optimistic and months vary [A].",
    )
    give_up_shortfall_usd: UsdAmount = Field(
        description="Running shortfall against the expectation at which the owner closes; "
        "owners differ, so give a range [A]."
    )
    scaled_to_plan_sales_usd_per_month: float | None = Field(
        None,
        gt=0,
        le=MAX_USD_PER_MONTH,
        description="With a plan benchmark: the plan's mean monthly sales in its first year "
        "that the slack and give-up shortfall above are stated for. Each arm's are scaled by "
        "its own plan's first-year sales over this, so the owner shrugs off the same share of "
        "a bigger or smaller business's plan (a bigger format's months vary by more dollars). "
        "Absent: the same dollars in every arm.",
    )


class BusinessSale(Section):
    """A personal exit sells the going business to a new owner, who takes over the lease.

    The price is ``multiple_of_earnings`` times the yearly run rate of its operating profit
    (the last twelve months, or fewer scaled to a year); the costs are the broker's share of
    the price, any stated costs and the franchisor's transfer fee. A business whose price
    would not beat its liquidation value finds no buyer and is closed instead.
    """

    multiple_of_earnings: Annotated[Uncertain, AfterValidator(Within(0.0, 100.0))] = Field(
        description="Price as a multiple of yearly seller's discretionary earnings: small "
        "businesses sell for about 2-3x [A]."
    )
    broker_fee_rate: Share = Field(
        0.10, description="Business broker's commission, share of the price: about 10% [A]."
    )
    other_costs_usd: UsdAmount = Field(0.0, description="Legal and other costs of the sale [A].")


class Owner(Section):
    """The person running the business: what they take out, put in, and when they quit."""

    draw_usd_per_month: float = Field(
        ge=0, le=MAX_USD_PER_MONTH, description="Take-home the owner aims for."
    )
    cash_floor_usd: float = Field(
        ge=0, le=MAX_USD, description="Cash kept in the business before the owner takes any draw."
    )
    cash_ceiling_usd: float = Field(
        60000.0,
        ge=0,
        le=MAX_USD,
        description="Cash above this level is paid out to the owner on top of the draw.",
    )
    reserve_usd: float = Field(
        ge=0,
        le=MAX_USD,
        description="Personal savings available to cover the business's shortfalls.",
    )
    patience_months: Months = Field(
        description="Months in a row of not earning a living after which the owner quits."
    )
    living_share_of_draw: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A month counts as not earning a living when the business's cash flow before "
        "the owner is below this share of the target draw.",
    )
    personal_exit_rate_per_year: float = Field(
        0.0, ge=0, le=1, description="Yearly chance the owner must stop (health, family, move)."
    )
    valuation_multiple_of_profit: float = Field(
        2.0, ge=0, le=100, description="Value of a going business as a multiple of yearly profit."
    )
    outside_wage_usd_per_month: UsdPerMonth | None = Field(
        None,
        description="What the owner would earn in a job instead, while the business is open: "
        "their opportunity cost, deducted in the NPV; absent: none.",
    )
    spare_hours_per_month: float = Field(
        40.0,
        ge=0,
        le=744,
        description="Hours a month the owner can give relationships (partners, projects, "
        "associations) beyond running the business; stated assumption: about 10 hours a week.",
    )
    overstretch_quality_drop: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Share of service quality lost when relationships ask twice the spare "
        "hours, linearly from none at the spare hours; stated assumption.",
    )
    review: OwnerReview | None = Field(
        None,
        description="The owner compares earnings with a benchmark and closes when the "
        "shortfall mounts; replaces `patience_months` and `living_share_of_draw` when given.",
    )
    sale: BusinessSale | None = Field(
        None,
        description="A personal exit sells the going business; absent: it is liquidated.",
    )

    @model_validator(mode="after")
    def _benchmark_given(self) -> Owner:
        review = self.review
        if review is None:
            return self
        scaled = review.scaled_to_plan_sales_usd_per_month is not None
        if scaled and review.benchmark not in PLAN_BENCHMARKS:
            raise PydanticCustomError(
                "benchmark",
                "review.scaled_to_plan_sales_usd_per_month needs a plan benchmark (plan or "
                "plan_or_outside_wage), not {benchmark}",
                {"benchmark": review.benchmark},
            )
        if review.benchmark in WAGE_BENCHMARKS and self.outside_wage_usd_per_month is None:
            raise PydanticCustomError(
                "benchmark",
                "review.benchmark is {benchmark} but no outside_wage_usd_per_month is given",
                {"benchmark": review.benchmark},
            )
        if review.benchmark == "expected" and review.expected_earnings_usd_per_month is None:
            raise PydanticCustomError(
                "benchmark",
                "review.benchmark is expected but no review.expected_earnings_usd_per_month is "
                "given",
            )
        return self


class CompetitorEntry(Section):
    """A new competitor opens nearby; with an exit rate, rivals also close and give back share."""

    rate_per_year: float = Field(
        ge=0,
        le=12,
        description="Expected entries per year; with households_per_firm_threshold, the rate "
        "while the market holds exactly that many households per firm.",
    )
    market_share_taken: Share = Field(description="Share of the addressable market it takes.")
    customers_lost_share: Share = Field(description="Share of current customers who switch.")
    exit_rate_per_year: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Yearly chance that each rival present (an entrant or one of "
        "rivals_at_start) closes; its share of the market returns to the pool of potential "
        "customers. BLS: 43-45% of new establishments close within 5 years (about 11-12% a "
        "year on average, 8% in year 5) [BLS]. 0 (absent): competitors never leave.",
    )
    rivals_at_start: int = Field(
        0,
        ge=0,
        le=MAX_RIVALS,
        description="Rival firms already in the market at opening, each holding the same share "
        "an entrant takes (already out of the addressable share); with exit_rate_per_year they "
        "may leave too, giving their share back [A].",
    )
    households_per_firm_threshold: float | None = Field(
        None,
        ge=1,
        le=MAX_HOUSEHOLDS,
        description="Entry follows saturation (Bresnahan & Reiss 1991) [EV]: the entry rate "
        "is rate_per_year x (households per firm) / this threshold, households per firm being "
        "the market's households (with its trend) over the rivals present plus this unit, so "
        "entry quickens as the market grows or rivals leave and slows as it fills; the "
        "threshold itself [A]; the rate never exceeds 12 a year. Absent: entries at the "
        "constant rate_per_year.",
    )


class Recession(Section):
    """A local or national downturn."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected recession starts per year.")
    duration_months: Months = Field(description="How long one lasts.")
    demand_drop: Share = Field(description="Fall in visits while it lasts.")


class EquipmentBreakdown(Section):
    """A major piece of equipment fails."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected breakdowns per year.")
    repair_cost_usd: UsdAmount = Field(description="Cost of one repair or replacement.")
    capacity_lost_share: Share = Field(description="Capacity lost in the month it happens.")


class KeyStaffLoss(Section):
    """A key employee (lead technician, manager, chef) leaves."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected departures per year.")
    quality_drop: Share = Field(description="Fall in operating quality until replaced.")
    months_to_replace: Months = Field(description="Months until a replacement is up to speed.")
    recruiting_cost_usd: UsdAmount = Field(description="Hiring and training cost.")


class Events(Section):
    """Random events, each a SimPy process; all arms of a replication meet the same ones."""

    enabled: bool = Field(True, description="Switch every random event off at once.")
    competitor_entry: CompetitorEntry
    recession: Recession
    equipment_breakdown: EquipmentBreakdown
    key_staff_loss: KeyStaffLoss


class PrimeRate(Section):
    """The US prime rate over the run: one path per replication, the same for every arm.

    A mean-reverting random walk in monthly steps, kept between a floor and a cap (see
    ``money.prime_rate_path``). Only floating-rate loans use it.
    """

    start_per_year: float = Field(
        0.085, ge=0, le=0.5, description="Prime at opening: 8.50% in October 2023 [SBA]."
    )
    long_run_per_year: float = Field(
        0.065, ge=0, le=0.5, description="Level it reverts to [A: its 1990-2024 average]."
    )
    reversion_per_year: float = Field(
        0.3, ge=0, le=12, description="Speed of reversion, share of the gap closed a year [A]."
    )
    volatility_per_year: float = Field(
        0.015, ge=0, le=0.5, description="Standard deviation of yearly moves [A]."
    )
    floor_per_year: float = Field(
        0.0325, ge=0, le=0.5, description="Lowest prime: 3.25% (2008-15, 2020-22) [A]."
    )
    cap_per_year: float = Field(
        0.215, ge=0, le=0.5, description="Highest prime: 21.5% (December 1980) [A]."
    )


class Template(Section):
    """The franchisor's proven operating template."""

    quality: Share = Field(description="Operating quality a unit reaches with the template.")
    starting_quality_share: float = Field(
        0.85, ge=0, le=1, description="Share of that quality on opening day (training)."
    )
    learning_months: float = Field(
        6.0, gt=0, le=MAX_MONTHS, description="Learning-curve time constant."
    )
    support_quality_share: Share = Field(
        0.0,
        description="Share of the unit's quality kept up by the franchisor's ongoing support "
        "(field visits, audits, updated manuals, training of new hires); lost if the "
        "franchisor fails. 0: support adds nothing beyond the training already given. [A]",
    )
    learning_visits: float | None = Field(
        None,
        gt=0,
        le=MAX_VISITS_TO_LEARN,
        description="Learning by doing: the learning curve's constant in cumulative visits "
        "served instead of months (Argote & Epple 1990) [EV]. Absent: learning_months.",
    )


class Franchisor(Section):
    """Risk that comes with the franchisor itself."""

    failure_rate_per_year: float = Field(
        ge=0, le=1, description="Yearly chance the franchisor fails or stops supporting units."
    )
    rebranding_cost_usd: float = Field(
        0.0,
        ge=0,
        le=MAX_USD,
        description="De-identification cost: what the unit pays to go on alone under its own "
        "name after the franchisor fails (new signs, systems, uniforms, website).",
    )
    failure_withdraws_system: bool = Field(
        True,
        description="A failure takes away all the system brings: besides the brand's pull and "
        "the fees, the purchasing discount, support, the demand side of the format (ticket, "
        "visit rate, loyal share) and the limit on local customization. False keeps them, as "
        "before model v2 (for comparison only).",
    )
    brand_shock_rate_per_year: float = Field(
        ge=0, le=12, description="Expected brand scandals or recalls per year."
    )
    brand_shock_awareness_drop: Share = Field(description="Fall in brand pull during a shock.")
    brand_shock_satisfaction_drop: Share = Field(description="Fall in satisfaction during it.")
    brand_shock_months: Months = Field(description="How long a brand shock lasts.")


class Mechanisms(Section):
    """Switches for what the franchise system brings, one per mechanism; all on by default.

    A franchise arm with every switch off runs exactly as the independent arm (the same
    books, draw for draw), so a counterfactual arm that adds one mechanism at a time is only
    a scenario change, e.g. ``arms.franchise.mechanisms.brand: false``.
    """

    fees: bool = Field(
        True,
        description="Initial fee, royalty (and renewal royalty), ad-fund contribution, fixed "
        "fees, renewal fee, transfer fee and the required local advertising. Off: none.",
    )
    format: bool = Field(
        True,
        description="The system's prescribed format (`franchise.format` and the arm's own "
        "values of the format's fields). Off: the shared sections' values of those fields.",
    )
    brand: bool = Field(
        True,
        description="The brand's awareness head start and the ad fund's pull. Off: neither.",
    )
    template: bool = Field(
        True,
        description="The template's quality, training, learning speed and support, starting "
        "from the local taste gap. Off: the shared `concept`, as the independent.",
    )
    purchasing: bool = Field(
        True, description="The system's purchasing discount. Off: the independent's costs."
    )
    customization_limit: bool = Field(
        True,
        description="The limit on adapting the offer to local tastes. Off: adapts freely.",
    )
    franchisor_risk: bool = Field(
        True, description="Franchisor failure and brand shocks. Off: the franchisor stands."
    )
    financing: bool = Field(
        True,
        description="The arm's own financing section and working capital (the system's "
        "lenders and reserve requirement). Off: the shared sections' values.",
    )


SpendPerVisit = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_SPEND_PER_VISIT_USD))]
"""An average ticket, fixed or uncertain."""
VisitsPerCustomer = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_VISITS_PER_CUSTOMER))]
"""Visits per customer per month, fixed or uncertain."""
CapacityVisits = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_CAPACITY_VISITS))]
"""Most visits a unit can serve in a month, fixed or uncertain."""


class Format(Section):
    """The system's prescribed format: part of the franchise's terms, benefits with their costs.

    Each field given replaces the arm's value of the field of the same name (in ``customers``,
    ``operations`` or ``investment``); an absent one leaves it. The demand side (ticket, visit
    rate, loyal share) depends on the system and goes if the franchisor fails; the physical
    side (capacity, build-out, equipment, stock, rent, payroll, other fixed costs) stays.
    """

    spend_per_visit_usd: SpendPerVisit | None = Field(
        None, description="The system's average ticket (menu pricing, brand premium). Demand side."
    )
    visits_per_customer_per_month: VisitsPerCustomer | None = Field(
        None,
        description="Visits per customer under the system (app, loyalty scheme). Demand side.",
    )
    loyal_share: Share | None = Field(
        None,
        description="Share of new customers who turn loyal under the system's membership or "
        "loyalty programme. Demand side.",
    )
    capacity_visits_per_month: CapacityVisits | None = Field(
        None, description="Most visits the prescribed unit can serve. Physical side."
    )
    buildout_usd: float | None = Field(
        None, ge=0, le=MAX_USD, description="Prescribed build-out and signage. Physical side."
    )
    equipment_usd: float | None = Field(
        None, ge=0, le=MAX_USD, description="Prescribed equipment package. Physical side."
    )
    initial_inventory_usd: float | None = Field(
        None, ge=0, le=MAX_USD, description="Prescribed opening stock. Physical side."
    )
    rent_usd_per_month: float | None = Field(
        None,
        ge=0,
        le=MAX_USD_PER_MONTH,
        description="Rent of a site meeting the system's criteria. Physical side.",
    )
    payroll_usd_per_month: float | None = Field(
        None, ge=0, le=MAX_USD_PER_MONTH, description="Staffing the system requires. Physical side."
    )
    other_fixed_usd_per_month: float | None = Field(
        None,
        ge=0,
        le=MAX_USD_PER_MONTH,
        description="Other fixed costs of the format "
        "(insurance, uniforms, software). Physical side.",
    )


FORMAT_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("spend_per_visit_usd", "visits_per_customer_per_month", "loyal_share"),
    "operations": (
        "capacity_visits_per_month",
        "payroll_usd_per_month",
        "rent_usd_per_month",
        "other_fixed_usd_per_month",
    ),
    "investment": ("buildout_usd", "equipment_usd", "initial_inventory_usd"),
}
"""The format's fields by the section they set; an arm's own values of them are its format."""
SYSTEM_FORMAT_FIELDS = FORMAT_FIELDS["customers"]
"""The demand side of the format: it depends on the system and goes if the franchisor fails."""


class FranchiseTerms(Section):
    """What the franchise disclosure document says, and what the brand brings."""

    initial_fee_usd: UsdAmount = Field(description="Initial franchise fee, paid at signing.")
    royalty_rate: Annotated[
        Uncertain,
        AfterValidator(SalesRateCap("royalty", "1-15%", MAX_ROYALTY_RATE)),
        AfterValidator(Within(0.0, MAX_ROYALTY_RATE)),
    ] = Field(description="Royalty as a share of gross sales.")
    ad_fund_rate: Annotated[
        Uncertain,
        AfterValidator(SalesRateCap("ad-fund rate", "1-4%", MAX_AD_FUND_RATE)),
        AfterValidator(Within(0.0, MAX_AD_FUND_RATE)),
    ] = Field(description="Ad-fund contribution, share of sales.")
    fixed_fees_usd_per_month: UsdPerMonth = Field(
        0.0, description="Technology and other fixed monthly fees."
    )
    term_years: float = Field(
        gt=0, le=MAX_TERM_YEARS, description="Initial term of the franchise agreement."
    )
    renewal_fee_usd: UsdAmount = Field(0.0, description="Fee to renew at the end of the term.")
    local_marketing_min_rate: Annotated[
        float,
        AfterValidator(SalesRateCap("local-advertising minimum", "1-3%", MAX_LOCAL_MARKETING_RATE)),
    ] = Field(
        0.0,
        ge=0,
        description="Local advertising the agreement requires, share of sales.",
    )
    brand_awareness_p_per_month: PerMonth = Field(
        description="Bass p added by an already known brand: the awareness head start."
    )
    brand_fade_half_life_months: Months | None = Field(
        None,
        description="Months after opening by which the brand's pull (awareness and ad fund) "
        "has halved, as the unit becomes known locally in its own right. Absent: never fades. "
        "[A]",
    )
    brand_fade_half_customer_share: (
        Annotated[Uncertain, AfterValidator(Within(1e-6, 1.0))] | None
    ) = Field(
        None,
        description="The unit's own customer base, as a share of the market's potential "
        "customers, at which the brand's pull has halved: its own reputation and word of mouth "
        "take over. Absent: never fades. [A]",
    )
    ad_fund_p_per_month: PerMonth = Field(
        description="Bass p added by the system's regional and national advertising."
    )
    purchasing_discount_rate: Share = Field(
        0.0, description="Cut in variable costs from the system's purchasing power."
    )
    customization_limit: Share = Field(
        description="How far the unit may adapt the offering to local tastes (1 = fully)."
    )
    renewal_royalty_rate: (
        Annotated[float, AfterValidator(SalesRateCap("royalty", "1-15%", MAX_ROYALTY_RATE))] | None
    ) = Field(
        None,
        ge=0,
        le=MAX_ROYALTY_RATE,
        description="Royalty from the first renewal on, when the franchisor renews at changed "
        "terms. Absent: the royalty_rate. [A]",
    )
    transfer_fee_usd: float = Field(
        0.0,
        ge=0,
        le=MAX_USD,
        description="Fee the franchisor charges when the unit is sold to a new owner (a cost "
        "of the sale, `Business.sale_costs_usd`). [A]",
    )
    template: Template
    franchisor: Franchisor
    format: Format | None = Field(
        None, description="The system's prescribed format; absent: the arm's own values."
    )
    mechanisms: Mechanisms = Field(
        Mechanisms(), description="Switch each franchise mechanism off for a counterfactual."
    )


_S = TypeVar("_S", bound=Section)


def _partial(model: type[_S]) -> type[BaseModel]:
    """An override model of a section: every field optional, same checks when given."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        # Absent means "keep the shared value"; an explicit null is rejected like any bad value.
        optional = FieldInfo.merge_field_infos(info, default=None)
        fields[name] = (info.annotation, optional)
    return create_model(
        f"{model.__name__}Override",
        __config__=Section.model_config,
        __module__=__name__,
        __doc__=f"Fields of the shared `{model.__name__}` section that this arm changes.",
        **fields,
    )


if TYPE_CHECKING:  # the type checker sees the full sections; at run time all fields optional
    CustomersOverride = Customers
    OperationsOverride = Operations
    ConceptOverride = Concept
    InvestmentOverride = Investment
    FinancingOverride = Financing
    OwnerOverride = Owner
else:
    CustomersOverride = _partial(Customers)
    OperationsOverride = _partial(Operations)
    ConceptOverride = _partial(Concept)
    InvestmentOverride = _partial(Investment)
    FinancingOverride = _partial(Financing)
    OwnerOverride = _partial(Owner)

OVERRIDABLE_SECTIONS = ("customers", "operations", "concept", "investment", "financing", "owner")
"""Shared sections an arm may change field by field."""


class ArmSpec(Section):
    """One way of starting the business, as written in the scenario file."""

    label: PlainText = Field(min_length=1, description="Name shown in tables and plots.")
    franchise: FranchiseTerms | None = Field(
        None, description="Franchise terms; absent for an independent startup."
    )
    customers: CustomersOverride | None = None
    operations: OperationsOverride | None = None
    concept: ConceptOverride | None = None
    investment: InvestmentOverride | None = None
    financing: FinancingOverride | None = None
    owner: OwnerOverride | None = None
    project_group: ProjectGroup | None = Field(
        None, description="A project with other firms (a joint bid, training or product)."
    )
    trade_association: TradeAssociation | None = Field(
        None,
        description="Membership of a trade association or business network (dues, events, the "
        "owner's time; learning, group purchasing, peer support, reputation); absent: none.",
    )
    outsourcing: Outsourcing | None = Field(
        None,
        description="A 24-hour answering line for the calls the business would miss, run by "
        "an outside provider or by its own staff; absent: none.",
    )
    partnership: Partnership | None = Field(
        None,
        description="A partnership with a complementary business (referrals both ways, "
        "purchasing terms); absent: none.",
    )
    marketing_alliance: MarketingAlliance | None = Field(
        None,
        description="Joint marketing campaigns with other local firms, their cost split; "
        "absent: none.",
    )


Valuer = Callable[[Uncertain, str], float]
"""Turns a scenario value and its draw key into a number (see ``plan.Draw``)."""


def at_mean(value: Uncertain, key: str) -> float:
    """A value's mean: the number a report shows for an uncertain amount."""
    return mean_of(value)


FINANCING_FIELDS: dict[str, tuple[str, ...] | None] = {
    "investment": ("working_capital_usd",),
    "financing": None,  # the whole section
}
"""What the ``financing`` mechanism holds: an arm's own financing and working capital."""


def _system_changes(
    terms: FranchiseTerms, section: str, changes: dict[str, Any], where: str
) -> dict[str, Any]:
    """A franchise arm's changes to a shared section, its format in, switched-off parts out.

    With ``format`` on, the fields ``franchise.format`` gives join the arm's own changes (a
    field may not be given in both); with it off, the arm's own values of the format's fields
    are dropped too, and with ``financing`` off its own financing and working capital.
    """
    switches = terms.mechanisms
    format_fields = FORMAT_FIELDS.get(section, ())
    own = dict(changes)
    if not switches.format:
        own = {k: v for k, v in own.items() if k not in format_fields}
    elif terms.format is not None:
        given = terms.format.model_dump(by_alias=True, exclude_none=True)
        for field in format_fields:
            if field not in given:
                continue
            if field in own:
                raise PydanticCustomError(
                    "arm_override",
                    "{where}: {msg}",
                    {
                        "where": f"{where}.{section}.{field}",
                        "msg": "also given in franchise.format; give the format's values once, "
                        "in franchise.format",
                    },
                )
            own[field] = given[field]
    if not switches.financing and section in FINANCING_FIELDS:
        held = FINANCING_FIELDS[section]
        own = {} if held is None else {k: v for k, v in own.items() if k not in held}
    return own


class Arm(Section):
    """One arm with every shared section resolved: what the model runs."""

    name: str
    label: str
    customers: Customers
    operations: Operations
    concept: Concept
    investment: Investment
    financing: Financing
    owner: Owner
    franchise: FranchiseTerms | None
    project_group: ProjectGroup | None = None
    trade_association: TradeAssociation | None = None
    outsourcing: Outsourcing | None = None
    partnership: Partnership | None = None
    marketing_alliance: MarketingAlliance | None = None

    @property
    def is_franchise(self) -> bool:
        """Whether this arm runs under franchise terms."""
        return self.franchise is not None

    # Each money method reads uncertain amounts through ``value`` (a value and its draw key to
    # a number): their means by default, a replication's draws when the model plans it.

    def total_investment_usd(self, value: Valuer = at_mean) -> float:
        """Everything spent before opening, the franchise fee included, plus working capital."""
        inv = self.investment
        terms = self.franchise
        fee = (
            value(terms.initial_fee_usd, "franchise.initial_fee_usd")
            if terms is not None and terms.mechanisms.fees
            else 0.0
        )
        return (
            value(inv.buildout_usd, "investment.buildout_usd")
            + value(inv.equipment_usd, "investment.equipment_usd")
            + value(inv.initial_inventory_usd, "investment.initial_inventory_usd")
            + value(inv.working_capital_usd, "investment.working_capital_usd")
            + fee
        )

    def equity_usd(self, value: Valuer = at_mean) -> float:
        """The owner's equity put in, all of it (see `surplus_equity_usd`)."""
        return value(self.financing.owner_equity_usd, "financing.owner_equity_usd")

    def surplus_equity_usd(self, value: Valuer = at_mean) -> float:
        """Equity beyond the total investment: kept as cash in the business on opening day."""
        return max(0.0, self.equity_usd(value) - self.total_investment_usd(value))

    def opening_cash_usd(self, value: Valuer = at_mean) -> float:
        """Cash in the bank on opening day: the working capital plus any surplus equity."""
        working = value(self.investment.working_capital_usd, "investment.working_capital_usd")
        return working + self.surplus_equity_usd(value)

    def loan_usd(self, value: Valuer = at_mean) -> float:
        """The loan that finances what the owner's equity does not cover."""
        return max(0.0, self.total_investment_usd(value) - self.equity_usd(value))

    def liquidation_value_usd(self, value: Valuer = at_mean) -> float:
        """What the equipment and opening stock fetch if the business is wound up."""
        inv = self.investment
        return inv.liquidation_recovery_share * (
            value(inv.equipment_usd, "investment.equipment_usd")
            + value(inv.initial_inventory_usd, "investment.initial_inventory_usd")
        )


class Scenario(Section):
    """A whole scenario file: the shared sections and the arms compared over them."""

    name: PlainText = Field(min_length=1, description="Short title of the decision.")
    description: Annotated[str, AfterValidator(partial(_plain_text, allowed="\n\t"))] = Field(
        "", description="What is being decided, in a sentence or two."
    )
    bls_sector: BlsSector = Field(
        description="BLS sector whose establishment survival the independent arm compares with."
    )
    run: RunSettings = RunSettings()
    market: Market
    customers: Customers
    operations: Operations
    concept: Concept
    investment: Investment
    financing: Financing
    owner: Owner
    events: Events
    prime_rate: PrimeRate | None = Field(
        None,
        description="The prime rate's path, shared by every arm, for floating-rate loans; "
        "absent: `PrimeRate`'s defaults.",
    )
    arms: dict[str, ArmSpec] = Field(
        description="Ways of starting the business, compared with one another: `independent` "
        "(the default baseline) and at least one more: franchises, or independents with other "
        "relationships."
    )

    _resolved: dict[str, Arm] = PrivateAttr(default_factory=dict)

    @field_validator("arms")
    @classmethod
    def _plain_arm_names(cls, arms: dict[str, ArmSpec]) -> dict[str, ArmSpec]:
        for name in arms:
            try:
                _plain_text(name)
            except PydanticCustomError as exc:
                raise PydanticCustomError(
                    "control_character",
                    "the arm name {name} " + exc.message_template,
                    {"name": ascii(name[:40]), **(exc.context or {})},
                ) from None
        return arms

    @model_validator(mode="after")
    def _resolve_arms(self) -> Scenario:
        if "independent" not in self.arms:
            raise PydanticCustomError(
                "missing_arm", "arms needs an `independent` arm, the baseline of every comparison"
            )
        if self.arms["independent"].franchise is not None:
            raise PydanticCustomError(
                "independent_franchise", "the `independent` arm cannot have franchise terms"
            )
        if len(self.arms) < 2:
            raise PydanticCustomError(
                "missing_arm", "arms needs at least one arm besides `independent` to compare with"
            )
        for name, spec in self.arms.items():
            if spec.franchise is not None and spec.concept is not None:
                ignored = spec.concept.model_dump(exclude_none=True).keys() - {"adaptation_months"}
                if ignored:
                    raise PydanticCustomError(
                        "arm_override",
                        "{where}: {msg}",
                        {
                            "where": f"arms.{name}.concept.{sorted(ignored)[0]}",
                            "msg": "a franchise arm takes its concept from franchise.template; "
                            "only adaptation_months applies",
                        },
                    )
            sections: dict[str, Any] = {"name": name, "label": spec.label}
            sections["franchise"] = spec.franchise
            sections["project_group"] = spec.project_group
            sections["trade_association"] = spec.trade_association
            sections["outsourcing"] = spec.outsourcing
            sections["partnership"] = spec.partnership
            sections["marketing_alliance"] = spec.marketing_alliance
            for section in OVERRIDABLE_SECTIONS:
                shared: Section = getattr(self, section)
                override: BaseModel | None = getattr(spec, section)
                changes: dict[str, Any] = {}
                if override is not None:
                    changes = override.model_dump(by_alias=True, exclude_none=True)
                if spec.franchise is not None:
                    changes = _system_changes(spec.franchise, section, changes, f"arms.{name}")
                if not changes:
                    sections[section] = shared
                    continue
                merged = shared.model_dump(by_alias=True) | changes
                try:
                    sections[section] = type(shared).model_validate(merged)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in ("arms", name, section, *first["loc"]))
                    raise PydanticCustomError(
                        "arm_override", "{where}: {msg}", {"where": where, "msg": first["msg"]}
                    ) from None
            self._resolved[name] = Arm.model_validate(sections)
        return self

    @property
    def arm_names(self) -> tuple[str, ...]:
        """Arm names in file order, `independent` first."""
        rest = [name for name in self.arms if name != "independent"]
        return ("independent", *rest)

    def arm(self, name: str) -> Arm:
        """The named arm with its shared sections resolved."""
        return self._resolved[name]

    def resolved_arms(self) -> Iterator[Arm]:
        """Every arm, resolved, `independent` first."""
        return (self._resolved[name] for name in self.arm_names)


# --- Values that are allowed but unusual -------------------------------------------------------
# Thresholds from the published ranges shipped in franchise_sim/data: franchise_terms.csv (IFA
# Educational Foundation / FRANdata, Blair & Lafontaine 2005, Shane) and sba_7a_loans.csv (SBA
# 7(a) rules, prime 8.50% in October 2023).

ROYALTY_TOP = 0.125
"""Top of the published royalty range: 12.5% of sales (personnel services; IFA / FRANdata)."""
AD_FUND_TOP = 0.04
"""Top of the usual ad-fund range: 4% of sales."""
LOCAL_MARKETING_TOP = 0.03
"""Top of the usual required local advertising: 3% of sales."""
INITIAL_FEE_TOP_USD = 100_000.0
"""Top of the published initial-fee range (Blair & Lafontaine 2005: 10k-100k USD)."""
TERM_YEARS_RANGE = (3.0, 20.0)
"""Published range of initial franchise terms (Shane; McDonald's 20 years)."""
SBA_TOP_RATE = 0.085 + 0.065
"""Highest SBA 7(a) rate: prime (8.50%, Oct 2023) plus the largest allowed spread (6.5%)."""
SBA_MIN_EQUITY_SHARE = 0.10
"""Smallest equity injection the SBA asks of a start-up: 10% of the project cost."""


def unusual_values(scenario: Scenario) -> list[str]:
    """Values that validate but are unusual enough to be a mistake, one sentence each.

    Each sentence starts with the field (``arms.franchise.franchise.royalty_rate``) or the arm
    it is about, and gives the published range it falls outside.

    Args:
        scenario: A validated scenario.

    Returns:
        The warnings, in arm order; empty for the shipped scenarios.
    """
    notes: list[str] = []
    for arm in scenario.resolved_arms():
        where = f"arms.{arm.name}"
        terms = arm.franchise
        if terms is not None:
            notes.extend(_unusual_terms(terms, f"{where}.franchise"))
            sales_cut = (
                mean_of(terms.royalty_rate)
                + mean_of(terms.ad_fund_rate)
                + mean_of(arm.operations.variable_cost_rate)
            )
            if sales_cut >= 1.0:
                notes.append(
                    f"{where}: royalty, ad fund and variable costs take {sales_cut:.0%} of "
                    "sales, so every sale loses money before any fixed cost"
                )
        investment = arm.total_investment_usd()
        equity = arm.equity_usd()
        if arm.surplus_equity_usd() > 0.0:
            notes.append(
                f"{where}: owner equity {equity:,.0f} USD exceeds the total investment "
                f"{investment:,.0f} USD; the {arm.surplus_equity_usd():,.0f} USD beyond it is "
                "kept as cash in the business on opening day"
            )
        elif investment > 0.0 and equity < SBA_MIN_EQUITY_SHARE * investment:
            notes.append(
                f"{where}: owner equity {equity:,.0f} USD is {equity / investment:.0%} of the "
                f"{investment:,.0f} USD investment; SBA 7(a) lenders ask at least "
                f"{SBA_MIN_EQUITY_SHARE:.0%} of a start-up"
            )
        rate = mean_of(arm.financing.loan_rate_per_year)
        floating = arm.financing.floating_rate
        if floating is not None and arm.loan_usd() > 0.0:
            cap = sba_max_spread(arm.loan_usd())
            spread = draw_range(floating.spread_over_prime_per_year)[1]
            if spread > cap:
                notes.append(
                    f"{where}.financing.floating_rate: a spread over prime of up to "
                    f"{spread:.2%} is above the SBA 7(a) cap of {cap:.2%} for a loan of "
                    f"{arm.loan_usd():,.0f} USD (sba_7a_loans.csv)"
                )
        elif rate > SBA_TOP_RATE and arm.loan_usd() > 0.0:
            notes.append(
                f"{where}: a loan rate of {rate:.1%} is above the SBA 7(a) cap of "
                f"{SBA_TOP_RATE:.1%} (prime 8.50% plus 6.5%)"
            )
    return notes


def _unusual_terms(terms: FranchiseTerms, where: str) -> list[str]:
    """Franchise terms outside the published ranges of franchise_terms.csv."""
    notes: list[str] = []
    source = "(franchise_sim/data/franchise_terms.csv)"
    royalty, ad_fund = mean_of(terms.royalty_rate), mean_of(terms.ad_fund_rate)
    initial_fee = mean_of(terms.initial_fee_usd)
    if royalty > ROYALTY_TOP:
        notes.append(
            f"{where}.royalty_rate: {royalty:.1%} is above the published range of "
            f"royalties, 4.6-{ROYALTY_TOP:.1%} of sales {source}; check the disclosure document"
        )
    if ad_fund > AD_FUND_TOP:
        notes.append(
            f"{where}.ad_fund_rate: {ad_fund:.1%} is above the usual 1-"
            f"{AD_FUND_TOP:.0%} of sales {source}"
        )
    if terms.local_marketing_min_rate > LOCAL_MARKETING_TOP:
        notes.append(
            f"{where}.local_marketing_min_rate: {terms.local_marketing_min_rate:.1%} is above the "
            f"usual 1-{LOCAL_MARKETING_TOP:.0%} of sales {source}"
        )
    if initial_fee > INITIAL_FEE_TOP_USD:
        notes.append(
            f"{where}.initial_fee_usd: {initial_fee:,.0f} USD is above the published "
            f"range of initial fees, 10,000-{INITIAL_FEE_TOP_USD:,.0f} USD {source}"
        )
    low, high = TERM_YEARS_RANGE
    if not low <= terms.term_years <= high:
        notes.append(
            f"{where}.term_years: {terms.term_years:g} years is outside the published range of "
            f"initial terms, {low:g}-{high:g} years {source}"
        )
    return notes
