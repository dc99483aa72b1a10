"""The terms of a trade association an arm's owner joins: its costs and what membership brings.

A chamber of commerce, a trade association (ASA for auto repair) or a local business network.
Membership costs dues, events and the owner's time, and brings learning from peers (quality),
shared resources (group purchasing, shared equipment or staff), peer support through a bad
patch (persistence) and a member's reputation (awareness). The owner may let it lapse. The
figures cite ``shared/reference/evidence.md`` ("Other inter-organizational relationships") or
say "stated assumption".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.quantities import (
    MAX_MONTHS,
    PerMonth,
    Section,
    Share,
    UsdAmount,
    Within,
)

HOURS_IN_A_MONTH = 744.0
"""Most hours a month can hold (31 days), the bound of any hours a month."""

HoursPerMonth = Annotated[Uncertain, AfterValidator(Within(0.0, HOURS_IN_A_MONTH))]
"""Hours a month of the owner's time, fixed or uncertain."""


class TradeAssociation(Section):
    """Membership of a trade association or business network, from opening day.

    The learning gain and the peer support grow with the owner's participation, and so do the
    hours and the event costs it takes; dues, group purchasing, shared capacity and the
    member's reputation come with membership itself. When the membership lapses, dues, events
    and hours stop and so do the shared benefits; what the owner learnt is kept.
    """

    dues_usd_per_year: UsdAmount = Field(
        345.0,
        description="Membership dues a year (cost line association_dues): chamber dues are "
        "about 230-460 USD a year for 1-5 employees [H]; the default is the middle of that range.",
    )
    dues_billing: Literal["yearly", "monthly"] = Field(
        "yearly",
        description="yearly: the year's dues in full at the start of each membership year "
        "(months 1, 13, 25, ...); monthly: a twelfth of them every month. Stated assumption.",
    )
    active_events_usd_per_year: UsdAmount = Field(
        600.0,
        description="Conference, mixer and event fees a year for a fully active member (cost "
        "line association_events, a twelfth a month); the owner pays this times "
        "participation_share. Stated assumption.",
    )
    active_owner_hours_per_month: HoursPerMonth = Field(
        8.0,
        description="Hours a month a fully active member gives (meetings, events, committee "
        "work); the owner gives this times participation_share, drawn from the owner's spare "
        "hours (owner.spare_hours_per_month). Stated assumption: two evening meetings a month.",
    )
    participation_share: Share = Field(
        0.5,
        description="How active the owner is, from 0 (a name on the member list) to 1 (very "
        "active): 58% of small-business owners belong to an association and 14% are very "
        "active, NFIB [M], so about a quarter of members are very active; 0.5 is a stated "
        "assumption for an owner who joins as a strategy.",
    )
    quality_gain_share: Share = Field(
        0.04,
        description="Ceiling of what a fully active member learns from peers: customer "
        "satisfaction rises by up to this share, approached with the months of membership "
        "(learning_months) and scaled by participation_share. Stated assumption.",
    )
    learning_months: float = Field(
        24.0,
        gt=0,
        le=MAX_MONTHS,
        description="Time constant of the learning from peers: after this many months of "
        "membership about 63% of the ceiling is reached. Stated assumption.",
    )
    group_purchasing_discount_share: Share = Field(
        0.01,
        description="Discount on the variable costs from group purchasing while a member. "
        "Stated assumption, beside the 2-3% of purchases that vendor co-op programmes accrue "
        "[M/L]: about 2% off parts, which are about half of an auto repair shop's variable "
        "costs.",
    )
    shared_capacity_share: Share = Field(
        0.0,
        description="Capacity added by equipment or staff shared with other members, as a "
        "share of the business's own. Stated assumption: none unless the network shares some.",
    )
    persistence_gain_share: Share = Field(
        0.25,
        description="Peer support through a bad patch: a fully active member's patience (or "
        "the give-up shortfall the owner bears) rises by this share, scaled by "
        "participation_share. Stated assumption.",
    )
    awareness_p_per_month: PerMonth = Field(
        0.002,
        description="Added to the Bass p while a member (directory listing, member referrals, "
        "the window sticker): consumers state higher purchase intent when they know a firm is "
        "a chamber member, Schapiro 2012 [L]; the size is a stated assumption (about a fifth of "
        "the 0.009 that the auto repair shop's 1,500 USD a month of local advertising buys).",
    )
    lapse_rate_per_year: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Yearly chance the owner lets the membership lapse; with yearly dues it "
        "ends at the next renewal. About 10% of small employers quit an alliance, NFIB [M]; "
        "its use for an association is a stated assumption.",
    )
