"""The scenario schema: frozen, validated data describing one franchise-or-independent decision.

A scenario names a local market, the business's economics, how it is financed, the owner, the
random events it may meet and two or more **arms**: ways of starting the same business. Shared
sections are written once; an arm may override any field of them and the franchise arm adds its
franchise terms. Units are in the field names (``_usd``, ``_per_month``, ``_rate`` for shares).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from franchise_sim.distributions import Uncertain, support_of

BlsSector = Literal[
    "total_private", "other_services_naics81", "retail_trade", "accommodation_food_services"
]
"""Columns of the BLS establishment-survival table shipped in ``franchise_sim/data``."""


def _within(low: float, high: float) -> Callable[[Any], Any]:
    """Validator: a fixed value or a distribution's whole support lies in ``[low, high]``."""

    def check(value: Any) -> Any:
        if value is None:
            return value
        lo, hi = support_of(value)
        if lo < low or hi > high:
            shown = f"{value}" if isinstance(value, int | float) else f"support [{lo}, {hi}]"
            raise PydanticCustomError(
                "out_of_range",
                "{shown} lies outside the allowed range [{low}, {high}]",
                {"shown": shown, "low": low, "high": high},
            )
        return value

    return check


Share = Annotated[Uncertain, AfterValidator(_within(0.0, 1.0))]
"""A share between 0 and 1, fixed or uncertain."""
Positive = Annotated[Uncertain, AfterValidator(_within(0.0, math.inf))]
"""A non-negative amount, fixed or uncertain."""


class Section(BaseModel):
    """Base of every scenario section: frozen, unknown keys rejected, no NaN or infinity."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=True
    )


class RunSettings(Section):
    """How long to simulate, how often, and how to value money over time."""

    horizon_months: int = Field(60, ge=1, le=360, description="Months simulated after opening.")
    runs: int = Field(1000, ge=1, le=1_000_000, description="Paired Monte Carlo replications.")
    seed: int = Field(20261127, ge=0, description="Master seed of every random stream.")
    discount_rate_per_year: float = Field(
        0.10, ge=0, le=1, description="Owner's discount rate for NPV (effective annual)."
    )


class Market(Section):
    """The local market, shared by every arm of a replication."""

    households: Positive = Field(description="Households within reach of the location.")
    addressable_share: Share = Field(
        description="Share of households that could ever become this business's customers."
    )
    local_taste_gap: Share = Field(
        0.2,
        description="How far local tastes sit from a standard national offering (0 = none).",
    )
    seasonality: tuple[Annotated[float, Field(gt=0)], ...] = Field(
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
    imitation_q_per_month: Positive = Field(
        description="Bass q: monthly word-of-mouth pull at full satisfaction and market share 1."
    )
    loyal_share: Share = Field(description="Share of new customers who are the loyal kind.")
    loyal_retention_per_year: float = Field(
        gt=0, le=1, description="Yearly retention of loyal customers at full satisfaction."
    )
    casual_retention_per_year: float = Field(
        gt=0, le=1, description="Yearly retention of casual customers at full satisfaction."
    )
    visits_per_customer_per_month: Positive = Field(description="Average visits per customer.")
    spend_per_visit_usd: Positive = Field(description="Average ticket.")
    churn_sensitivity: float = Field(
        2.0, ge=0, description="Rise in the churn hazard per unit of dissatisfaction."
    )
    overload_penalty: float = Field(
        1.0, ge=0, le=1, description="Satisfaction lost per unit share of demand turned away."
    )


class Operations(Section):
    """Capacity and running costs of the business."""

    capacity_visits_per_month: Positive = Field(description="Most visits the unit can serve.")
    variable_cost_rate: Share = Field(description="Parts, materials or food as a share of sales.")
    payroll_usd_per_month: float = Field(ge=0, description="Staff wages and payroll taxes.")
    rent_usd_per_month: float = Field(ge=0, description="Occupancy cost.")
    other_fixed_usd_per_month: float = Field(
        ge=0, description="Utilities, insurance, software, accounting."
    )
    marketing_usd_per_month: float = Field(ge=0, description="Planned local advertising.")
    marketing_p_per_1000usd: float = Field(
        ge=0, description="Bass p added in steady state per 1,000 USD of monthly advertising."
    )
    advertising_half_life_months: float = Field(
        0.8, gt=0, description="Half-life of advertising's effect (adstock)."
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
        12.0, gt=0, description="Time constant of the learning curve towards full quality."
    )
    starting_mismatch: Share = Field(
        description="How far the untested offering sits from local tastes at opening."
    )
    adaptation_months: float = Field(
        12.0, gt=0, description="Time constant of adapting the offering to local tastes."
    )


class Investment(Section):
    """Start-up investment, spent before opening."""

    buildout_usd: float = Field(ge=0, description="Leasehold improvements and signage.")
    equipment_usd: float = Field(ge=0, description="Equipment and fixtures.")
    initial_inventory_usd: float = Field(ge=0, description="Opening stock.")
    working_capital_usd: float = Field(ge=0, description="Cash in the bank on opening day.")
    liquidation_recovery_share: float = Field(
        0.25, ge=0, le=1, description="Share of equipment and stock recovered at closure."
    )


class Financing(Section):
    """Owner equity plus an amortising term loan (SBA 7(a) style) for the rest."""

    owner_equity_usd: float = Field(ge=0, description="Owner's own money put in at the start.")
    loan_rate_per_year: float = Field(ge=0, le=0.5, description="Nominal annual interest rate.")
    loan_term_months: int = Field(ge=1, le=300, description="Monthly payments to repay the loan.")
    personal_guarantee: bool = Field(
        True, description="Owner covers any debt left after liquidation (usual for SBA loans)."
    )


class Owner(Section):
    """The person running the business: what they take out, put in, and when they quit."""

    draw_usd_per_month: float = Field(ge=0, description="Take-home the owner aims for.")
    cash_floor_usd: float = Field(
        ge=0, description="Cash kept in the business before the owner takes any draw."
    )
    cash_ceiling_usd: float = Field(
        60000.0,
        ge=0,
        description="Cash above this level is paid out to the owner on top of the draw.",
    )
    reserve_usd: float = Field(
        ge=0, description="Personal savings available to cover the business's shortfalls."
    )
    patience_months: Positive = Field(
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
        2.0, ge=0, description="Value of a going business as a multiple of yearly profit."
    )


class CompetitorEntry(Section):
    """A new competitor opens nearby."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected entries per year.")
    market_share_taken: Share = Field(description="Share of the addressable market it takes.")
    customers_lost_share: Share = Field(description="Share of current customers who switch.")


class Recession(Section):
    """A local or national downturn."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected recession starts per year.")
    duration_months: Positive = Field(description="How long one lasts.")
    demand_drop: Share = Field(description="Fall in visits while it lasts.")


class EquipmentBreakdown(Section):
    """A major piece of equipment fails."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected breakdowns per year.")
    repair_cost_usd: Positive = Field(description="Cost of one repair or replacement.")
    capacity_lost_share: Share = Field(description="Capacity lost in the month it happens.")


class KeyStaffLoss(Section):
    """A key employee (lead technician, manager, chef) leaves."""

    rate_per_year: float = Field(ge=0, le=12, description="Expected departures per year.")
    quality_drop: Share = Field(description="Fall in operating quality until replaced.")
    months_to_replace: Positive = Field(description="Months until a replacement is up to speed.")
    recruiting_cost_usd: Positive = Field(description="Hiring and training cost.")


class Events(Section):
    """Random events, each a SimPy process; all arms of a replication meet the same ones."""

    enabled: bool = Field(True, description="Switch every random event off at once.")
    competitor_entry: CompetitorEntry
    recession: Recession
    equipment_breakdown: EquipmentBreakdown
    key_staff_loss: KeyStaffLoss


class Template(Section):
    """The franchisor's proven operating template."""

    quality: Share = Field(description="Operating quality a unit reaches with the template.")
    starting_quality_share: float = Field(
        0.85, ge=0, le=1, description="Share of that quality on opening day (training)."
    )
    learning_months: float = Field(6.0, gt=0, description="Learning-curve time constant.")


class Franchisor(Section):
    """Risk that comes with the franchisor itself."""

    failure_rate_per_year: float = Field(
        ge=0, le=1, description="Yearly chance the franchisor fails or stops supporting units."
    )
    rebranding_cost_usd: float = Field(
        0.0, ge=0, description="Cost to the unit of going on alone after franchisor failure."
    )
    brand_shock_rate_per_year: float = Field(
        ge=0, le=12, description="Expected brand scandals or recalls per year."
    )
    brand_shock_awareness_drop: Share = Field(description="Fall in brand pull during a shock.")
    brand_shock_satisfaction_drop: Share = Field(description="Fall in satisfaction during it.")
    brand_shock_months: Positive = Field(description="How long a brand shock lasts.")


class FranchiseTerms(Section):
    """What the franchise disclosure document says, and what the brand brings."""

    initial_fee_usd: float = Field(ge=0, description="Initial franchise fee, paid at signing.")
    royalty_rate: float = Field(ge=0, le=1, description="Royalty as a share of gross sales.")
    ad_fund_rate: float = Field(ge=0, le=1, description="Ad-fund contribution, share of sales.")
    fixed_fees_usd_per_month: float = Field(
        0.0, ge=0, description="Technology and other fixed monthly fees."
    )
    term_years: float = Field(gt=0, description="Initial term of the franchise agreement.")
    renewal_fee_usd: float = Field(0.0, ge=0, description="Fee to renew at the end of the term.")
    local_marketing_min_rate: float = Field(
        0.0, ge=0, le=1, description="Local advertising the agreement requires, share of sales."
    )
    brand_awareness_p_per_month: Positive = Field(
        description="Bass p added by an already known brand: the awareness head start."
    )
    ad_fund_p_per_month: Positive = Field(
        description="Bass p added by the system's regional and national advertising."
    )
    purchasing_discount_rate: Share = Field(
        0.0, description="Cut in variable costs from the system's purchasing power."
    )
    customization_limit: Share = Field(
        description="How far the unit may adapt the offering to local tastes (1 = fully)."
    )
    template: Template
    franchisor: Franchisor


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

    label: str = Field(min_length=1, description="Name shown in tables and plots.")
    franchise: FranchiseTerms | None = Field(
        None, description="Franchise terms; absent for an independent startup."
    )
    customers: CustomersOverride | None = None
    operations: OperationsOverride | None = None
    concept: ConceptOverride | None = None
    investment: InvestmentOverride | None = None
    financing: FinancingOverride | None = None
    owner: OwnerOverride | None = None


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

    @property
    def is_franchise(self) -> bool:
        """Whether this arm runs under franchise terms."""
        return self.franchise is not None

    def total_investment_usd(self) -> float:
        """Everything spent before opening, the franchise fee included, plus working capital."""
        inv = self.investment
        fee = self.franchise.initial_fee_usd if self.franchise else 0.0
        return (
            inv.buildout_usd
            + inv.equipment_usd
            + inv.initial_inventory_usd
            + inv.working_capital_usd
            + fee
        )

    def equity_usd(self) -> float:
        """The owner's equity actually put in: never more than the investment needs."""
        return min(self.financing.owner_equity_usd, self.total_investment_usd())

    def loan_usd(self) -> float:
        """The loan that finances what the owner's equity does not cover."""
        return self.total_investment_usd() - self.equity_usd()

    def liquidation_value_usd(self) -> float:
        """What the equipment and opening stock fetch if the business is wound up."""
        inv = self.investment
        return inv.liquidation_recovery_share * (inv.equipment_usd + inv.initial_inventory_usd)


class Scenario(Section):
    """A whole scenario file: the shared sections and the arms compared over them."""

    name: str = Field(min_length=1, description="Short title of the decision.")
    description: str = Field("", description="What is being decided, in a sentence or two.")
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
    arms: dict[str, ArmSpec] = Field(
        description="Ways of starting the business; needs `independent` and a franchise arm."
    )

    _resolved: dict[str, Arm] = PrivateAttr(default_factory=dict)

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
        if not any(arm.franchise is not None for arm in self.arms.values()):
            raise PydanticCustomError(
                "missing_arm", "arms needs at least one arm with `franchise` terms"
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
            for section in OVERRIDABLE_SECTIONS:
                shared: Section = getattr(self, section)
                override: BaseModel | None = getattr(spec, section)
                if override is None:
                    sections[section] = shared
                    continue
                changes = override.model_dump(by_alias=True, exclude_none=True)
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

    def with_changes(self, changes: Mapping[str, Any]) -> Scenario:
        """A new, validated scenario with some fields changed; this one is left as it is.

        Args:
            changes: Dotted field paths and new values, for example
                ``{"arms.franchise.royalty_rate": 0.08, "market.households": 30000}``. Under
                a franchise arm the ``franchise.`` step may be left out.

        Returns:
            The changed scenario.

        Raises:
            ScenarioError: A path names no field, or a value is invalid.
        """
        from franchise_sim.changes import apply_changes

        return apply_changes(self, changes)

    def value_at(self, path: str) -> Any:
        """The value at a dotted path, an arm's fields resolved against the shared sections."""
        from franchise_sim.changes import value_at

        return value_at(self, path)
