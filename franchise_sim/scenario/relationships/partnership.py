"""The terms of a partnership with a complementary business (an arm's ``partnership`` section).

The auto repair shop and the parts store next door, a bakery and a coffee roaster: the partner
sends customers (more loyal than others), the business sends its own to the partner, and a
banner programme may add purchasing terms (a discount against a minimum purchase a month). The
partner can close, or end a partnership that does not pay for it. Figures come from the
evidence file's section "Other inter-organizational relationships" (tagged H peer-reviewed,
M survey or vendor data, L secondary) or are stated assumptions, as each field says.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.quantities import Months, Section, Share, UsdPerMonth, Within

MAX_PARTNER_CUSTOMERS_PER_MONTH = 1e7
"""Most customers a partner business serves a month: far beyond any local store."""
MAX_HOURS_PER_MONTH = 744.0
"""Hours in the longest month."""


class PartnerPurchasing(Section):
    """Purchasing terms with the partner (a banner programme): a discount against a commitment.

    The business buys a share of its variable costs (parts, stock) from the partner at a
    discount; when a month's purchases from it fall short of the minimum, it pays the shortfall.
    """

    purchased_share: Share = Field(
        description="Share of the business's variable costs bought from the partner (at list "
        "price, before the discount). Stated assumption: for auto repair, parts are about "
        "half the variable costs (parts ~25% of sales of a 52% variable-cost rate)."
    )
    discount_share: Share = Field(
        description="Discount on what the business buys from the partner. Stated assumption "
        "(banner programmes do not publish their terms; a franchise system's purchasing "
        "discount is of the same order)."
    )
    minimum_purchases_usd_per_month: UsdPerMonth = Field(
        description="Purchases a month the business commits to (at the discounted price); a "
        "month short of it pays the shortfall (cost line `partner_commitment_shortfall`). "
        "NAPA AutoCare's banner asks about 2,500 USD a month of the 16,000+ shops in it "
        "(napaautocare.ca) [M]."
    )


class Partnership(Section):
    """A partnership with a complementary business next door: referrals both ways.

    Each month the partner sends customers, on average its own customers a month times the
    share it tells about the business times the business's customers' satisfaction last month;
    the business sends the partner ``referral_out_share`` of its customers. The partner closes
    at a constant yearly hazard, and ends the partnership when the referrals it receives stay
    below its minimum for its patience in months in a row; then referrals, terms and costs stop.
    """

    partner_customers_per_month: Annotated[
        Uncertain, AfterValidator(Within(0.0, MAX_PARTNER_CUSTOMERS_PER_MONTH))
    ] = Field(
        description="Customers the partner serves a month (a parts store's counter and DIY "
        "trade). Stated assumption."
    )
    referral_share: Share = Field(
        description="Share of the partner's customers a month told about the business when its "
        "customers are fully satisfied (scaled by last month's satisfaction: a partner "
        "refers to a shop its customers praise). Stated assumption."
    )
    referred_loyal_share: Share = Field(
        description="Share of referred customers who are the loyal kind; above the arm's "
        "`customers.loyal_share`: referred customers are at least 16% more valuable and stay "
        "longer (Schmitt, Skiera & Van den Bulte 2011) [H], and customers who recommend defect "
        "less, 19% falling to 7% (Garnefeld et al. 2013) [H]; the share itself is a stated "
        "assumption."
    )
    referral_out_share: Share = Field(
        description="Share of the business's customers it sends to the partner each month "
        "(column `referrals_sent`); it costs no cash and is what makes the partnership pay "
        "for the partner. Stated assumption."
    )
    partner_min_referrals_per_month: float = Field(
        0.0,
        ge=0,
        le=MAX_PARTNER_CUSTOMERS_PER_MONTH,
        description="Referrals a month the partner needs from the business for the "
        "partnership to pay for it; 0: it never ends it for that. Stated assumption.",
    )
    partner_patience_months: Months = Field(
        6.0,
        description="Months in a row below `partner_min_referrals_per_month` after which the "
        "partner ends the partnership (at least 1). Stated assumption.",
    )
    partner_closure_rate_per_year: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Yearly chance the partner business closes, a constant hazard. Stated "
        "assumption grounded in BLS exit rates: the yearly exit hazard falls to under 10% by "
        "year 5 (BLS Business Employment Dynamics, 2013 cohort), so about 10% for an "
        "established firm. An alliance's own hazard of ending rises to a mid-term peak (Park "
        "& Russo 1996) [H]; here it ends otherwise only when it does not pay the partner.",
    )
    partnership_costs_usd_per_month: UsdPerMonth = Field(
        0.0,
        description="Joint upkeep a month (shared signage, a joint warranty), cost line "
        "`partnership_costs`. Stated assumption.",
    )
    owner_hours_per_month: float = Field(
        0.0,
        ge=0,
        le=MAX_HOURS_PER_MONTH,
        description="Hours a month the partnership takes of the owner's time (meetings, "
        "joint offers), drawn on `owner.spare_hours_per_month`. Stated assumption.",
    )
    purchasing: PartnerPurchasing | None = Field(
        None,
        description="Purchasing terms with the partner (a banner programme); absent: none.",
    )
