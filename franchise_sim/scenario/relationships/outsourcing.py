"""The terms of an outsourced 24-hour answering line, or of answering the same calls in-house.

An arm's ``outsourcing`` section: the calls the business gets (from its customers and from
prospects), the share of them missed without help and what an answered lead is worth, then
either an outside provider (a price plan of included minutes and overage, a quality that varies
between providers, a yearly hazard of failing, an optional vetting beforehand) or, with ``mode:
in_house``, staff who answer the same calls at a monthly cost, for a make-or-buy comparison.
A figure from the literature is cited with the strength of its source (H peer-reviewed, M
survey or vendor data, L secondary citation); the rest are stated assumptions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from franchise_sim.scenario.distributions import Uncertain, draw_range
from franchise_sim.scenario.quantities import (
    MAX_MONTHS,
    Section,
    Share,
    UsdAmount,
    UsdPerMonth,
    Within,
)

MAX_CALLS_PER_CUSTOMER = 100.0
"""Most calls a customer makes a month: about three a day."""
MAX_CALLS_PER_1000_PROSPECTS = 1000.0
"""Most calls a month per 1,000 prospects: every prospect calls once a month."""
MAX_MINUTES_PER_CALL = 600.0
"""Longest average call: ten hours."""
MAX_MINUTES_PER_MONTH = 1e7
"""Most minutes a price plan includes."""
MAX_USD_PER_MINUTE = 1e4
"""Largest overage price per minute."""

CallsPerCustomer = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_CALLS_PER_CUSTOMER))]
"""Calls a customer makes a month, fixed or uncertain."""
CallsPer1000 = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_CALLS_PER_1000_PROSPECTS))]
"""Calls a month per 1,000 prospects, fixed or uncertain."""
MinutesPerCall = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_MINUTES_PER_CALL))]
"""Minutes an answered call takes, fixed or uncertain."""


class Vetting(Section):
    """Checking a provider before signing: references, a trial week, the contract's terms."""

    cost_usd: UsdAmount = Field(
        500.0,
        description="One-off cost of vetting a provider, charged in the month it is contracted "
        "(cost line `provider_vetting`); stated assumption.",
    )
    owner_hours: float = Field(
        8.0,
        ge=0,
        le=744,
        description="Hours of the owner's time vetting takes, in the month the provider is "
        "contracted; stated assumption.",
    )
    failure_reduction_share: Share = Field(
        0.3,
        description="Share by which vetting lowers the provider's yearly failure hazard; stated "
        "assumption: 39% of firms ended an outsourcing contract early and 35% wished they had "
        "vetted the provider more, poor communication a main cause (Deloitte 2008 [M]).",
    )


class AnsweringProvider(Section):
    """The outside firm that answers the calls: its price plan, quality and risk of failing."""

    monthly_fee_usd: float = Field(
        600.0,
        ge=0,
        le=1e9,
        description="Monthly fee of the price plan, for its included minutes: about 350 USD "
        "for 125 minutes, 600 for 250, 1,050 for 500, 1,850 for 1,000 [M].",
    )
    included_minutes: float = Field(
        250.0,
        ge=0,
        le=MAX_MINUTES_PER_MONTH,
        description="Minutes a month the fee includes (see `monthly_fee_usd`) [M].",
    )
    overage_usd_per_minute: float = Field(
        2.0,
        ge=0,
        le=MAX_USD_PER_MINUTE,
        description="Price of each minute beyond the included ones: 1.75-2.50 USD [M].",
    )
    answered_share: Share = Field(
        0.85,
        description="Share of the calls passed to it that the provider answers well enough to "
        "book (its quality), drawn per replication and again for each new provider: a "
        "provider's quality varies; stated assumption.",
    )
    failure_rate_per_year: Share = Field(
        0.12,
        description="Yearly hazard that the provider fails (service collapses, it closes or "
        "the contract is ended): 20-25% of outsourcing relationships fail within two years "
        "and half within five, about 12% a year (Dun & Bradstreet, secondary [L/M]).",
    )
    recontract_months: int | None = Field(
        2,
        ge=1,
        le=int(MAX_MONTHS),
        description="Months after a failure until a new provider answers: a failure in month "
        "m leaves the line dark in months m to m + this - 1; absent: the business never "
        "contracts again. Stated assumption.",
    )
    vetting: Vetting | None = Field(
        None,
        description="Vet each provider before signing (a cost and owner hours in its first "
        "month, a lower failure hazard); absent: no vetting.",
    )


class InHouseLine(Section):
    """The business's own staff answering the same calls: a staff cost, no provider to fail."""

    staff_usd_per_month: UsdPerMonth = Field(
        3000.0,
        description="Monthly cost of the staff who answer calls after hours and when the "
        "owner is busy (cost line `answering_staff`): a part-time call handler with on-call "
        "pay; stated assumption.",
    )
    answered_share: Share = Field(
        0.9,
        description="Share of the otherwise missed calls the staff answer: no provider's "
        "quality to draw, no failure; stated assumption.",
    )


class Outsourcing(Section):
    """A 24-hour answering line for the calls the business would miss, outsourced or in-house."""

    mode: Literal["outsourced", "in_house"] = Field(
        "outsourced",
        description="`outsourced`: an outside provider (`provider`) answers the missed calls; "
        "`in_house`: the business's own staff do (`in_house`).",
    )
    calls_per_customer_per_month: CallsPerCustomer = Field(
        0.15,
        description="Calls a month from each current customer (jobs booked, questions, "
        "emergencies): they are answered and billed like any call, but bring no new customer; "
        "stated assumption.",
    )
    calls_per_1000_prospects_per_month: CallsPer1000 = Field(
        50.0,
        description="Calls a month per 1,000 potential customers not yet customers: the leads. "
        "Stated assumption: at a Bass p of 0.03 a month, with 72% answered and 37% converting, "
        "adopters who all phoned would make about 110; about half come by phone.",
    )
    missed_call_share: Share = Field(
        0.28,
        description="Share of calls that go unanswered without the line: about 28% of calls "
        "to small businesses [L/M].",
    )
    lead_conversion_share: Share = Field(
        0.37,
        description="Share of answered leads who become customers: about 37% of phone leads "
        "convert [L/M], when answered at once.",
    )
    late_callback_conversion_share: Share = Field(
        0.053,
        description="Share of missed leads the business still wins by calling back later, "
        "already in the model without the line: a lead answered an hour late yields about a "
        "seventh of the qualified leads (Oldroyd et al. 2011, HBR [M]): 0.37 / 7. The line "
        "adds the difference from `lead_conversion_share`.",
    )
    minutes_per_call: MinutesPerCall = Field(
        3.0,
        description="Minutes the line spends on an answered call (billed against the plan's "
        "minutes); stated assumption.",
    )
    provider: AnsweringProvider | None = Field(
        None,
        description="The outside provider (`mode: outsourced`; its defaults if not given; "
        "refused in-house).",
    )
    in_house: InHouseLine | None = Field(
        None,
        description="The business's own answering staff (`mode: in_house`; its defaults if "
        "not given; refused when outsourced).",
    )

    @model_validator(mode="before")
    @classmethod
    def _the_modes_own_part(cls, data: Any) -> Any:
        """Fill in the part the mode uses (its defaults) and refuse the one it would ignore."""
        if not isinstance(data, dict):
            return data
        mode = data.get("mode", "outsourced")
        own, other = ("in_house", "provider") if mode == "in_house" else ("provider", "in_house")
        if data.get(other) is not None:
            raise PydanticCustomError(
                "unused_part",
                "{other} is given but mode is {mode}, which uses {own}: give the part the "
                "mode uses, or change the mode",
                {"other": other, "mode": mode, "own": own},
            )
        return {**data, own: {}} if data.get(own) is None else data

    @model_validator(mode="after")
    def _callback_below_answer(self) -> Outsourcing:
        late = draw_range(self.late_callback_conversion_share)[1]
        live = draw_range(self.lead_conversion_share)[0]
        if late > live:
            raise PydanticCustomError(
                "callback_conversion",
                "late_callback_conversion_share ({late}) above lead_conversion_share ({live}): "
                "a lead called back late converts less than one answered at once",
                {"late": f"{late:g}", "live": f"{live:g}"},
            )
        return self
