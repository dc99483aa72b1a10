"""A batch's plans as columns: every replication's realised inputs drawn at once, as arrays.

`plan.plan_replication` is the definition of one replication's inputs, a tree of frozen
dataclasses. `plan_batch` draws the same inputs for every replication of a batch in one call:
each uncertain input's keyed uniforms for the whole batch (`draws.BatchDraws`), its quantiles in
one call, and the plan's arithmetic on arrays. It gives a `BatchPlan` whose parts are `Columns`:
one plan dataclass's fields over the batch, an array where a field may differ between
replications, the value itself where it is a setting of the scenario. The actors read their
arrays from it directly.

The numbers are `plan_replication`'s, bit for bit (tests/test_batch_plan.py): on arrays the plan
does only ``+ - * /`` and comparisons (IEEE, as on Python floats), keeps Python's ``max(a, b)``
and ``min(a, b)`` (the first unless the second is greater, or smaller; `_max`, `_min`), rounds
half to even as ``round`` does (``np.rint``), and calls the scalar functions whose arithmetic is
not elementwise (the SBA guarantee fee's tiers, the Gaussian copula's ``NormalDist``) once per
replication.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from franchise_sim.model.draws import BatchDraws
from franchise_sim.model.money import guarantee_fee_usd
from franchise_sim.model.plan import (
    ClosurePlan,
    EndPlan,
    EventPlan,
    FloatingRatePlan,
    FranchisePlan,
    MarketPlan,
    PlanOnPaper,
    ReplicationPlan,
    ReviewPlan,
    SalePlan,
    UnitPlan,
    capped_expectation,
    expected_earnings_path,
    review_scale,
)
from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.schema import PLAN_BENCHMARKS, Arm, Concept, PrimeRate, Scenario

_STANDARD_NORMAL = NormalDist()

Numbers = NDArray[np.float64] | float
"""A number in every replication: an array over the batch, or one value shared by all."""


class Columns:
    """One plan dataclass's fields over a batch of replications.

    Each field holds an array over the replications (numbers that may differ between them; a
    2-D array (replication, month) for a month-by-month path), the value itself (a setting,
    the same in all), or, for a nested plan, its own `Columns` or None.

    Args:
        kind: The plan dataclass whose fields these are (a name it lacks is refused).
        size: Replications in the batch.
        values: Every field of ``kind`` by name.
    """

    __slots__ = ("_each", "_values", "kind", "size")

    def __init__(self, kind: type, size: int, values: dict[str, Any]) -> None:
        names = [f.name for f in dataclasses.fields(kind)]
        if set(values) != set(names):
            raise ValueError(f"columns of {kind.__name__} need exactly its fields {names}")
        self.kind = kind
        self.size = size
        self._values = values
        self._each: dict[str, list[Any]] = {}

    def value(self, name: str) -> Any:
        """A field as held: an array, a setting, nested columns or None."""
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"{self.kind.__name__} has no field {name!r}") from None

    def array(self, name: str) -> NDArray[np.float64]:
        """A numeric field in every replication, as a new float array (a setting repeated)."""
        value = self.value(name)
        if isinstance(value, np.ndarray):
            return value.astype(float)
        if isinstance(value, tuple):
            return np.tile(np.array(value, dtype=float), (self.size, 1))
        return np.full(self.size, float(value))

    def setting(self, name: str) -> Any:
        """A field every replication shares (a setting of the scenario, not a draw)."""
        value = self.value(name)
        if isinstance(value, np.ndarray):
            if value.size and bool((value != value.flat[0]).any()):
                raise ValueError(f"{name} differs between replications of one batch")
            return self.at(0, name)
        return value

    def part(self, name: str) -> Columns | None:
        """A nested plan's columns, or None where the plan has none."""
        value = self.value(name)
        assert value is None or isinstance(value, Columns)
        return value

    def at(self, r: int, name: str) -> Any:
        """A field's value in replication ``r``, as the scalar plan holds it."""
        value = self.value(name)
        if isinstance(value, Columns):
            return value.row(r)
        if not isinstance(value, np.ndarray):
            return value
        if value.ndim == 2:
            return tuple(value[r].tolist())
        return value[r].item()

    def each(self, name: str) -> list[Any]:
        """A field's value in every replication, as `at` gives it (kept once asked for).

        For the actors that read one replication's field at its own events (a closure's
        settlement, a sale), a list costs less to read than `at`.
        """
        kept = self._each.get(name)
        if kept is None:
            value = self.value(name)
            if isinstance(value, Columns):
                kept = [value.row(r) for r in range(self.size)]
            elif not isinstance(value, np.ndarray):
                kept = [value] * self.size
            elif value.ndim == 2:
                kept = [tuple(row) for row in value.tolist()]
            else:
                kept = value.tolist()
            self._each[name] = kept
        return kept

    def row(self, r: int) -> Any:
        """Replication ``r``'s plan, the dataclass itself."""
        return self.kind(**{name: self.at(r, name) for name in self._values})

    def __getitem__(self, r: int) -> Any:
        """Replication ``r``'s plan (`row`)."""
        return self.row(r)

    @classmethod
    def of(cls, plans: Sequence[Any]) -> Columns:
        """The columns of one plan dataclass's instances, one per replication."""
        if not plans:
            raise ValueError("a batch needs at least one replication")
        kind = type(plans[0])
        values = {
            f.name: _column([getattr(p, f.name) for p in plans], f.name)
            for f in dataclasses.fields(kind)
        }
        return cls(kind, len(plans), values)


def _column(values: list[Any], name: str) -> Any:
    """One field over the replications: an array, the setting all share, columns or None."""
    first = values[0]
    if all(v is None for v in values):
        return None
    if dataclasses.is_dataclass(first):
        if any(v is None for v in values):
            raise ValueError(f"{name} is planned in some replications of a batch, not all")
        return Columns.of(values)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        floats = any(isinstance(v, float) for v in values)
        return np.array(values, dtype=float if floats else np.int64)
    if isinstance(first, tuple) and any(v != first for v in values):
        return np.array(values, dtype=float)
    if any(v != first for v in values):
        raise ValueError(f"{name} differs between replications of one batch")
    return first


def as_columns(plans: Columns | Sequence[Any]) -> Columns:
    """Columns as they are, or those of a sequence of one plan dataclass's instances."""
    return plans if isinstance(plans, Columns) else Columns.of(plans)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """All realised inputs of a batch of replications (`plan.ReplicationPlan` as columns)."""

    replications: NDArray[np.int64]
    seed: int
    horizon_months: int
    discount_rate_per_year: float
    market: Columns
    events: Columns
    units: tuple[Columns, ...]
    demand_noise: bool
    prime_rate: PrimeRate | None = None

    @property
    def size(self) -> int:
        """Replications in the batch."""
        return len(self.replications)

    def replication_plan(self, i: int) -> ReplicationPlan:
        """The batch's ``i``-th replication's plan, as `plan.plan_replication` gives it."""
        return ReplicationPlan(
            replication=int(self.replications[i]),
            seed=self.seed,
            horizon_months=self.horizon_months,
            discount_rate_per_year=self.discount_rate_per_year,
            market=self.market.row(i),
            events=self.events.row(i),
            units=tuple(unit.row(i) for unit in self.units),
            demand_noise=self.demand_noise,
            prime_rate=self.prime_rate,
        )

    @classmethod
    def of(cls, plans: Sequence[ReplicationPlan]) -> BatchPlan:
        """The batch of drawn replications (same seed, horizon and arms)."""
        if not plans:
            raise ValueError("a batch needs at least one replication")

        def shared(name: str) -> Any:
            first = getattr(plans[0], name)
            if any(getattr(p, name) != first for p in plans[1:]):
                raise ValueError(f"{name} differs between replications of one batch")
            return first

        return cls(
            replications=np.array([p.replication for p in plans], dtype=np.int64),
            seed=shared("seed"),
            horizon_months=shared("horizon_months"),
            discount_rate_per_year=shared("discount_rate_per_year"),
            market=Columns.of([p.market for p in plans]),
            events=Columns.of([p.events for p in plans]),
            units=tuple(
                Columns.of([p.units[a] for p in plans]) for a in range(len(plans[0].units))
            ),
            demand_noise=shared("demand_noise"),
            prime_rate=shared("prime_rate"),
        )


class ColumnDraw:
    """Turns uncertain values into numbers for every replication of a batch (`plan.Draw`).

    Args:
        draws: The batch's draws (its keyed uniforms and quantiles, made on demand).
        at_mean: Every uncertain value at its mean (expected-value mode).
    """

    def __init__(self, draws: BatchDraws, *, at_mean: bool = False) -> None:
        self._draws = draws
        self._at_mean = at_mean
        self.size = len(draws.replications)

    def __call__(self, value: Uncertain, key: str) -> Numbers:
        """The value itself if fixed; else the draws (or its mean in expected-value mode)."""
        if isinstance(value, int | float):
            return float(value)
        if self._at_mean:
            return value.mean()
        return self._draws.drawn_array(value, key)

    def coupled(
        self, value: Uncertain, key: str, partner: Uncertain, partner_key: str, correlation: float
    ) -> Numbers:
        """Draws of ``value`` rank-correlated with those of ``partner`` (`plan.Draw.coupled`)."""
        if correlation == 0.0 or isinstance(value, int | float) or isinstance(partner, int | float):
            return self(value, key)
        if self._at_mean:
            return value.mean()
        mix = math.sqrt(1.0 - correlation * correlation)
        inv_cdf, cdf = _STANDARD_NORMAL.inv_cdf, _STANDARD_NORMAL.cdf
        u = [
            min(max(cdf(correlation * inv_cdf(w) + mix * inv_cdf(o)), 1e-16), 1.0 - 1e-16)
            for o, w in zip(
                self._draws.uniforms(key).tolist(),
                self._draws.uniforms(partner_key).tolist(),
                strict=True,
            )
        ]
        return np.asarray(value.ppf(np.array(u)), dtype=float)

    def each(self, function: Callable[..., Any], *args: Any) -> Numbers:
        """``function`` of each replication's arguments (an array, or one value if all are)."""
        if not any(isinstance(a, np.ndarray) for a in args):
            return function(*args)  # type: ignore[no-any-return]
        lists = [a.tolist() if isinstance(a, np.ndarray) else [a] * self.size for a in args]
        return np.array([function(*row) for row in zip(*lists, strict=True)], dtype=float)


def _max(a: Any, b: Any) -> Any:
    """Python's ``max(a, b)`` element by element: ``a`` unless ``b`` is greater."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.where(b > a, b, a).astype(float)
    return max(a, b)


def _min(a: Any, b: Any) -> Any:
    """Python's ``min(a, b)`` element by element: ``a`` unless ``b`` is smaller."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.where(b < a, b, a).astype(float)
    return min(a, b)


def plan_batch(
    scenario: Scenario,
    *,
    seed: int,
    replications: range | NDArray[np.int64],
    horizon_months: int,
    deterministic: bool = False,
    on_paper: dict[str, PlanOnPaper] | None = None,
    draws: BatchDraws | None = None,
) -> BatchPlan:
    """Draw a batch of replications' inputs at once (`plan.plan_replication`'s, as columns).

    Args:
        scenario: The validated scenario.
        seed: Master seed.
        replications: The replications (indices from 0).
        horizon_months: Months to simulate.
        deterministic: Every distribution at its mean, no random events, expected customers.
        on_paper: Per arm, its plan on paper, for owners who review against it.
        draws: The batch's draws, if already made for these replications.

    Returns:
        The batch's plan.
    """
    indices = np.asarray(replications, dtype=np.int64)
    if draws is None:
        draws = BatchDraws(seed, indices)
    draw = ColumnDraw(draws, at_mean=deterministic)
    n = draw.size
    market = scenario.market
    addressable_share = draw(market.addressable_share, "market.addressable_share")
    market_plan = Columns(
        MarketPlan,
        n,
        {
            "potential_customers": draw(market.households, "market.households") * addressable_share,
            "local_taste_gap": draw(market.local_taste_gap, "market.local_taste_gap"),
            "season_factors": market.season_factors(),
            "size_trend_per_year": draw(market.size_trend_per_year, "market.size_trend_per_year"),
        },
    )
    arms = tuple(scenario.resolved_arms())
    return BatchPlan(
        replications=indices,
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
            for arm in arms
        ),
        demand_noise=not deterministic,
        prime_rate=(scenario.prime_rate or PrimeRate())
        if any(arm.financing.floating_rate is not None for arm in arms)
        else None,
    )


def _plan_events(
    scenario: Scenario, draw: ColumnDraw, *, enabled: bool, addressable_share: Numbers
) -> Columns:
    """`plan._plan_events` over the batch."""
    ev = scenario.events
    on = 1.0 if enabled else 0.0
    entry, recession = ev.competitor_entry, ev.recession
    breakdown, staff = ev.equipment_breakdown, ev.key_staff_loss
    threshold = entry.households_per_firm_threshold
    values = {
        "competitor_rate_per_year": on * entry.rate_per_year,
        "competitor_market_share_taken": draw(
            entry.market_share_taken, "events.competitor_entry.market_share_taken"
        ),
        "competitor_customers_lost_share": draw(
            entry.customers_lost_share, "events.competitor_entry.customers_lost_share"
        ),
        "recession_rate_per_year": on * recession.rate_per_year,
        "recession_duration_months": draw(
            recession.duration_months, "events.recession.duration_months"
        ),
        "recession_demand_drop": draw(recession.demand_drop, "events.recession.demand_drop"),
        "breakdown_rate_per_year": on * breakdown.rate_per_year,
        "breakdown_repair_cost_usd": draw(
            breakdown.repair_cost_usd, "events.equipment_breakdown.repair_cost_usd"
        ),
        "breakdown_capacity_lost_share": draw(
            breakdown.capacity_lost_share, "events.equipment_breakdown.capacity_lost_share"
        ),
        "staff_loss_rate_per_year": on * staff.rate_per_year,
        "staff_loss_quality_drop": draw(staff.quality_drop, "events.key_staff_loss.quality_drop"),
        "staff_loss_months_to_replace": draw(
            staff.months_to_replace, "events.key_staff_loss.months_to_replace"
        ),
        "staff_loss_recruiting_cost_usd": draw(
            staff.recruiting_cost_usd, "events.key_staff_loss.recruiting_cost_usd"
        ),
        "competitor_exit_rate_per_year": on * entry.exit_rate_per_year,
        "competitor_rivals_at_start": entry.rivals_at_start,
        "competitor_entry_threshold_customers_per_firm": (
            0.0 if threshold is None else threshold * addressable_share
        ),
    }
    return Columns(EventPlan, draw.size, values)


def _own_mismatch(concept: Concept, scenario: Scenario, draw: ColumnDraw) -> Numbers:
    """`plan._own_mismatch` over the batch."""
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


def money_columns(arm: Arm, draw: ColumnDraw) -> dict[str, Any]:
    """`plan.plan_money` over the batch: `plan.UnitMoney`'s fields by name."""
    fin, own, inv = arm.financing, arm.owner, arm.investment
    terms = arm.franchise
    initial_fee = (
        draw(terms.initial_fee_usd, "franchise.initial_fee_usd")
        if terms is not None and terms.mechanisms.fees
        else 0.0
    )
    total = (
        draw(inv.buildout_usd, "investment.buildout_usd")
        + draw(inv.equipment_usd, "investment.equipment_usd")
        + draw(inv.initial_inventory_usd, "investment.initial_inventory_usd")
        + draw(inv.working_capital_usd, "investment.working_capital_usd")
        + initial_fee
    )
    equity = draw(fin.owner_equity_usd, "financing.owner_equity_usd")
    loan = _max(0.0, total - equity)
    fee: Numbers = 0.0
    gf = fin.guarantee_fee
    if gf is not None:
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
        fee = draw.each(_guarantee_fee, loan, share, rate)
    financed = gf is not None and gf.financed
    wage = own.outside_wage_usd_per_month
    return {
        "upfront_usd": equity + (0.0 if financed else fee),
        "loan_usd": loan + (fee if financed else 0.0),
        "opening_cash_usd": draw(inv.working_capital_usd, "investment.working_capital_usd")
        + _max(0.0, equity - total),
        "guarantee_fee_usd": fee,
        "liquidation_value_usd": inv.liquidation_recovery_share
        * (
            draw(inv.equipment_usd, "investment.equipment_usd")
            + draw(inv.initial_inventory_usd, "investment.initial_inventory_usd")
        ),
        "outside_wage_usd_per_month": 0.0
        if wage is None
        else draw(wage, "owner.outside_wage_usd_per_month"),
        "settles_in_ledger": arm.operations.closure is not None or own.sale is not None,
    }


def _guarantee_fee(loan: float, share: float | None, rate: float | None) -> float:
    """The guarantee fee of one replication's loan (none without a loan)."""
    return guarantee_fee_usd(loan, share, rate) if loan > 0 else 0.0


def _expected_path(
    level: Numbers, opening_usd: float, ramp_months: float, months: int
) -> tuple[float, ...] | NDArray[np.float64]:
    """`plan.expected_earnings_path` for every replication's level: (replication, month)."""
    if not isinstance(level, np.ndarray):
        return expected_earnings_path(level, opening_usd, ramp_months, months)
    if ramp_months <= 0:
        return np.repeat(level[:, None], months, axis=1)
    return np.column_stack(
        [level + (opening_usd - level) * max(0.0, 1.0 - t / ramp_months) for t in range(months)]
    )


def _plan_end(
    arm: Arm,
    money: dict[str, Any],
    draw: ColumnDraw,
    horizon_months: int,
    planned: PlanOnPaper | None,
) -> Columns:
    """`plan._plan_end` over the batch."""
    n = draw.size
    own, closure = arm.owner, arm.operations.closure
    review = own.review
    review_plan = None
    wage = money["outside_wage_usd_per_month"]
    if review is not None:
        scale = 1.0
        expected: Any = None
        if review.benchmark in PLAN_BENCHMARKS:
            if planned is not None:
                expected = planned.earnings_usd
                if review.benchmark == "plan_or_outside_wage":
                    if isinstance(wage, np.ndarray):
                        path = np.array(expected, dtype=float)[None, :]
                        expected = np.where(wage[:, None] < path, wage[:, None], path)
                    else:
                        expected = capped_expectation(expected, wage)
                scale = review_scale(planned, review.scaled_to_plan_sales_usd_per_month)
        else:
            if review.benchmark == "outside_wage":
                level = wage
            else:
                assert review.expected_earnings_usd_per_month is not None  # schema checks it
                level = draw(
                    review.expected_earnings_usd_per_month,
                    "owner.review.expected_earnings_usd_per_month",
                )
            expected = _expected_path(
                level, review.opening_earnings_usd_per_month, review.ramp_months, horizon_months
            )
        if expected is not None:
            review_plan = Columns(
                ReviewPlan,
                n,
                {
                    "expected_usd_per_month": expected,
                    "slack_usd_per_month": scale
                    * draw(review.slack_usd_per_month, "owner.review.slack_usd_per_month"),
                    "give_up_shortfall_usd": scale
                    * draw(review.give_up_shortfall_usd, "owner.review.give_up_shortfall_usd"),
                },
            )
    sale = own.sale
    return Columns(
        EndPlan,
        n,
        {
            "settles_in_ledger": money["settles_in_ledger"],
            "liquidation_value_usd": money["liquidation_value_usd"],
            "personal_guarantee": arm.financing.personal_guarantee,
            "review": review_plan,
            "sale": None
            if sale is None
            else Columns(
                SalePlan,
                n,
                {
                    "multiple_of_earnings": draw(
                        sale.multiple_of_earnings, "owner.sale.multiple_of_earnings"
                    ),
                    "broker_fee_rate": draw(sale.broker_fee_rate, "owner.sale.broker_fee_rate"),
                    "other_costs_usd": draw(sale.other_costs_usd, "owner.sale.other_costs_usd"),
                },
            ),
            "closure": None
            if closure is None
            else Columns(
                ClosurePlan,
                n,
                {
                    "lease_months": closure.lease_months,
                    "lease_break_fee_usd": None
                    if closure.lease_break_fee_usd is None
                    else draw(
                        closure.lease_break_fee_usd, "operations.closure.lease_break_fee_usd"
                    ),
                    "wind_down_cost_usd": draw(
                        closure.wind_down_cost_usd, "operations.closure.wind_down_cost_usd"
                    ),
                },
            ),
        },
    )


def _optional(draw: ColumnDraw, value: Uncertain | None, key: str) -> Numbers:
    """A draw of an optional input; ``inf`` when it is absent (the mechanism never acts)."""
    return math.inf if value is None else draw(value, key)


def _plan_franchise(
    arm: Arm, scenario: Scenario, draw: ColumnDraw, *, chance: bool
) -> Columns | None:
    """`plan._plan_unit`'s franchise terms over the batch (None for an independent arm)."""
    terms = arm.franchise
    if terms is None:
        return None
    switch, template, fr = terms.mechanisms, terms.template, terms.franchisor
    on = 1.0 if chance else 0.0
    fee = 1.0 if switch.fees else 0.0
    brand = 1.0 if switch.brand else 0.0
    risk = on if switch.franchisor_risk else 0.0
    shared = scenario.customers
    royalty_rate = draw(terms.royalty_rate, "franchise.royalty_rate")
    values = {
        "royalty_rate": fee * royalty_rate,
        "ad_fund_rate": fee * draw(terms.ad_fund_rate, "franchise.ad_fund_rate"),
        "fixed_fees_usd_per_month": fee
        * draw(terms.fixed_fees_usd_per_month, "franchise.fixed_fees_usd_per_month"),
        "term_months": round(terms.term_years * 12),
        "renewal_fee_usd": fee * draw(terms.renewal_fee_usd, "franchise.renewal_fee_usd"),
        "local_marketing_min_rate": fee * terms.local_marketing_min_rate,
        "brand_awareness_p_per_month": brand
        * draw(terms.brand_awareness_p_per_month, "franchise.brand_awareness_p_per_month"),
        "ad_fund_p_per_month": brand
        * draw(terms.ad_fund_p_per_month, "franchise.ad_fund_p_per_month"),
        "failure_rate_per_year": risk * fr.failure_rate_per_year,
        "rebranding_cost_usd": fr.rebranding_cost_usd,
        "brand_shock_rate_per_year": risk * fr.brand_shock_rate_per_year,
        "brand_shock_awareness_drop": draw(
            fr.brand_shock_awareness_drop, "franchise.franchisor.brand_shock_awareness_drop"
        ),
        "brand_shock_satisfaction_drop": draw(
            fr.brand_shock_satisfaction_drop, "franchise.franchisor.brand_shock_satisfaction_drop"
        ),
        "brand_shock_months": draw(
            fr.brand_shock_months, "franchise.franchisor.brand_shock_months"
        ),
        "purchasing_discount_rate": draw(
            terms.purchasing_discount_rate, "franchise.purchasing_discount_rate"
        )
        if switch.purchasing
        else 0.0,
        "brand_fade_half_life_months": _optional(
            draw, terms.brand_fade_half_life_months, "franchise.brand_fade_half_life_months"
        ),
        "brand_fade_half_customer_share": _optional(
            draw, terms.brand_fade_half_customer_share, "franchise.brand_fade_half_customer_share"
        ),
        "support_quality_share": draw(
            template.support_quality_share, "franchise.template.support_quality_share"
        )
        if switch.template
        else 0.0,
        "renewal_royalty_rate": fee
        * (royalty_rate if terms.renewal_royalty_rate is None else terms.renewal_royalty_rate),
        "transfer_fee_usd": fee * terms.transfer_fee_usd,
        "failure_withdraws_system": fr.failure_withdraws_system,
        "own_spend_per_visit_usd": draw(
            shared.spend_per_visit_usd, "customers.spend_per_visit_usd"
        ),
        "own_visits_per_customer_per_month": draw(
            shared.visits_per_customer_per_month, "customers.visits_per_customer_per_month"
        ),
        "own_loyal_share": draw(shared.loyal_share, "customers.loyal_share"),
    }
    return Columns(FranchisePlan, draw.size, values)


def _patience(months: Numbers) -> Any:
    """``max(1, round(months))`` element by element, as integers."""
    if not isinstance(months, np.ndarray):
        return max(1, round(months))
    rounded = np.rint(months)
    return np.where(rounded > 1, rounded, 1.0).astype(np.int64)


def _plan_unit(
    arm: Arm,
    scenario: Scenario,
    market: Columns,
    draw: ColumnDraw,
    *,
    chance: bool,
    horizon_months: int,
    planned: PlanOnPaper | None,
) -> Columns:
    """`plan._plan_unit` over the batch."""
    on = 1.0 if chance else 0.0
    c, o, fin, own = arm.customers, arm.operations, arm.financing, arm.owner
    terms = arm.franchise
    concept = arm.concept
    quality = draw(concept.quality, "concept.quality")
    starting_quality_share = concept.starting_quality_share
    learning_months = concept.learning_months
    learning_visits = concept.learning_visits
    mismatch_floor: Numbers = 0.0
    if terms is not None and terms.mechanisms.template:
        template = terms.template
        quality = draw(template.quality, "concept.quality")
        starting_quality_share = template.starting_quality_share
        learning_months = template.learning_months
        learning_visits = template.learning_visits
        starting_mismatch = market.value("local_taste_gap")
    else:
        starting_mismatch = _own_mismatch(concept, scenario, draw)
    if terms is not None and terms.mechanisms.customization_limit:
        limit = draw(terms.customization_limit, "franchise.customization_limit")
        mismatch_floor = _max(0.0, starting_mismatch - limit)
    franchise = _plan_franchise(arm, scenario, draw, chance=chance)
    money = money_columns(arm, draw)
    floating = fin.floating_rate
    values = {
        "arm": arm.name,
        "innovation_p_per_month": draw(
            c.innovation_p_per_month, "customers.innovation_p_per_month"
        ),
        "imitation_q_per_month": draw(c.imitation_q_per_month, "customers.imitation_q_per_month"),
        "loyal_share": draw(c.loyal_share, "customers.loyal_share"),
        "loyal_retention_per_year": c.loyal_retention_per_year,
        "casual_retention_per_year": c.casual_retention_per_year,
        "visits_per_customer_per_month": draw(
            c.visits_per_customer_per_month, "customers.visits_per_customer_per_month"
        ),
        "spend_per_visit_usd": draw(c.spend_per_visit_usd, "customers.spend_per_visit_usd"),
        "churn_sensitivity": c.churn_sensitivity,
        "overload_penalty": c.overload_penalty,
        "capacity_visits_per_month": draw(
            o.capacity_visits_per_month, "operations.capacity_visits_per_month"
        ),
        "variable_cost_rate": draw(o.variable_cost_rate, "operations.variable_cost_rate"),
        "payroll_usd_per_month": draw(o.payroll_usd_per_month, "operations.payroll_usd_per_month"),
        "rent_usd_per_month": draw(o.rent_usd_per_month, "operations.rent_usd_per_month"),
        "other_fixed_usd_per_month": draw(
            o.other_fixed_usd_per_month, "operations.other_fixed_usd_per_month"
        ),
        "marketing_usd_per_month": draw(
            o.marketing_usd_per_month, "operations.marketing_usd_per_month"
        ),
        "marketing_p_per_1000usd": o.marketing_p_per_1000usd,
        "advertising_half_life_months": o.advertising_half_life_months,
        "quality_potential": quality,
        "starting_quality_share": starting_quality_share,
        "learning_months": learning_months,
        "starting_mismatch": starting_mismatch,
        "mismatch_floor": mismatch_floor,
        "adaptation_months": concept.adaptation_months,
        "loan_usd": money["loan_usd"],
        "loan_rate_per_year": draw(fin.loan_rate_per_year, "financing.loan_rate_per_year"),
        "loan_term_months": fin.loan_term_months,
        "working_capital_usd": money["opening_cash_usd"],
        "draw_usd_per_month": own.draw_usd_per_month,
        "cash_floor_usd": own.cash_floor_usd,
        "cash_ceiling_usd": own.cash_ceiling_usd,
        "reserve_usd": own.reserve_usd,
        "patience_months": _patience(draw(own.patience_months, "owner.patience_months")),
        "living_share_of_draw": own.living_share_of_draw,
        "personal_exit_rate_per_year": on * own.personal_exit_rate_per_year,
        "franchise": franchise,
        "floating_rate": None
        if floating is None
        else Columns(
            FloatingRatePlan,
            draw.size,
            {
                "spread_per_year": draw(
                    floating.spread_over_prime_per_year,
                    "financing.floating_rate.spread_over_prime_per_year",
                ),
                "reset_months": floating.reset_months,
            },
        ),
        "end": _plan_end(arm, money, draw, horizon_months, planned),
        "lapsed_winback_share": c.lapsed_winback_share,
        "learning_visits": learning_visits,
    }
    return Columns(UnitPlan, draw.size, values)


def owner_money(
    scenario: Scenario,
    arms: tuple[str, ...],
    seed: int,
    runs: int | range,
    *,
    deterministic: bool,
) -> dict[str, NDArray[Any]]:
    """`plan.owner_money` drawn for every replication at once: arrays (arm, replication).

    The same numbers as `plan.plan_money` of each replication, so the outcomes computed from
    saved books agree with those of the run. ``runs`` is the replications: ``range(runs)``
    for a number, or one batch's range.
    """
    replications = range(runs) if isinstance(runs, int) else runs
    draw = ColumnDraw(
        BatchDraws(seed, np.asarray(replications, dtype=np.int64)), at_mean=deterministic
    )
    shape = (len(arms), len(replications))
    names = ("upfront_usd", "outside_wage_usd_per_month", "liquidation_value_usd")
    out: dict[str, NDArray[Any]] = {name: np.zeros(shape) for name in names}
    settled = np.zeros(shape, dtype=bool)
    for i, name in enumerate(arms):
        money = money_columns(scenario.arm(name), draw)
        for key in names:
            out[key][i] = money[key]
        settled[i] = money["settles_in_ledger"]
    out["settles_in_ledger"] = settled
    return out
