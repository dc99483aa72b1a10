"""The terms of a marketing alliance: joint campaigns with other local firms, their cost split.

An arm's ``marketing_alliance`` section: the joint campaigns (direct mail, shared events,
cross-promotion), the member's share of their cost, the responses of a shared and of a bought
list, how much of its own marketing the member drops while in the alliance, partners that
free-ride or leave, and the option of vetting them first (`model.relationships.
marketing_alliance` acts on it). Figures are tagged H (peer-reviewed), M (survey or vendor data)
or L (secondary citation), as in the project's evidence notes; the rest are stated assumptions.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from franchise_sim.scenario.distributions import Uncertain
from franchise_sim.scenario.quantities import Section, Share, UsdPerMonth, Within

MAX_PIECES_PER_MONTH = 1e7
"""Most mail pieces a month: every household of a large metropolitan area."""
MAX_COST_PER_PIECE_USD = 100.0
"""Largest cost of one mail piece: a catalogue, far above a postcard."""
MAX_HOURS_PER_MONTH = 744.0
"""Hours in the longest month."""
MAX_PARTNERS = 20
"""Most partner firms in one alliance."""

PiecesPerMonth = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_PIECES_PER_MONTH))]
"""Mail pieces a month, fixed or uncertain."""
UsdPerPiece = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_COST_PER_PIECE_USD))]
"""The cost of one mail piece, fixed or uncertain."""
HoursPerMonth = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_HOURS_PER_MONTH))]
"""Hours a month of the owner's time, fixed or uncertain."""
Hours = Annotated[Uncertain, AfterValidator(Within(0.0, 12 * MAX_HOURS_PER_MONTH))]
"""A one-off number of the owner's hours (at most a year's), fixed or uncertain."""


class AllianceVetting(Section):
    """Checking the partners' record with firms that worked with them before signing."""

    owner_hours: Hours = Field(
        12.0,
        description="The owner's hours the checks take, in all (calls to the partners' past "
        "partners, suppliers and customers); stated assumption: a dozen hours.",
    )
    months: int = Field(
        1, ge=1, le=12, description="Months from opening the checks' hours are spread over."
    )
    bad_partner_reduction_share: Share = Field(
        0.26,
        description="Share by which vetting lowers the chance of a bad partner: alliances "
        "succeed 63% of the time with a dedicated alliance function against 50% without (Kale, "
        "Dyer & Singh 2002 [H]), failures falling from 50% to 37%, a 26% cut; stated "
        "assumption that vetting does as much.",
    )


class MarketingAlliance(Section):
    """Joint campaigns with other local firms whose cost the member shares.

    Each month the campaigns send mail pieces and run shared events and cross-promotion; the
    member pays its share of their cost, customers answer the mail, and the campaigns add to
    the member's awareness. Partners that free-ride leave the member a larger share; partners
    leave at random, and when the last has gone the alliance is dissolved: the campaigns stop
    and the member's own marketing is restored.
    """

    partners: int = Field(
        1,
        ge=1,
        le=MAX_PARTNERS,
        description="Partner firms besides the member; stated assumption: one (two-firm "
        "co-op marketing is the usual example [M/L]).",
    )
    cost_share: Share = Field(
        0.5,
        description="The member's share of the campaigns' cost; the partners share the rest "
        "equally. A 50:50 split is the usual co-op example; vendor programmes reimburse "
        "50-100% of a partner's campaign [M/L].",
    )
    mail_pieces_per_month: PiecesPerMonth = Field(
        1000.0,
        description="Direct-mail pieces the whole campaign sends a month; stated assumption: "
        "about 1,000, a few mail routes a month.",
    )
    cost_per_piece_usd: UsdPerPiece = Field(
        0.18,
        description="Cost of one mail piece: saturation mail costs about 0.18 USD a piece "
        "(USPS EDDM 2015 [M]); printing comes on top (stated assumption to add).",
    )
    events_usd_per_month: UsdPerMonth = Field(
        0.0,
        description="The whole alliance's monthly cost of shared events and cross-promotion "
        "on social networks; stated assumption.",
    )
    house_list_share: Share = Field(
        0.5,
        description="Share of the pieces sent to the partners' shared (house) customer lists, "
        "the rest to a bought prospect list; stated assumption.",
    )
    house_list_response_share: Share = Field(
        0.046,
        description="Share of pieces to a house list that answer: 4.1-5.1% (DMA 2003, 2016 "
        "[M]), here the middle; each answer is taken as a new customer.",
    )
    prospect_list_response_share: Share = Field(
        0.0225,
        description="Share of pieces to a bought prospect list that answer: 1.6-2.9% (DMA "
        "2003, 2016 [M]), here the middle.",
    )
    exposure_share: Share = Field(
        0.75,
        description="Share of the whole campaign's advertising effect that falls to the member "
        "(a reader of a joint mailer or a visitor of a shared event notices most of its "
        "firms), at the member's own advertising effect per 1,000 USD; stated assumption.",
    )
    own_marketing_cut_share: Share = Field(
        0.0,
        description="Share of its own planned marketing the member drops while in the "
        "alliance, restored when it dissolves; stated assumption (0: none).",
    )
    coordination_hours_per_month: HoursPerMonth = Field(
        2.0,
        description="The owner's hours a month the alliance takes (planning campaigns with "
        "the partners) while it lasts; stated assumption.",
    )
    bad_partner_share: Share = Field(
        0.25,
        description="Chance that a partner of unknown record free-rides; stated assumption, "
        "below the 50% of alliances that fail without a dedicated alliance function (Kale, "
        "Dyer & Singh 2002 [H]), free-riding being one cause of failure among several.",
    )
    bad_partner_withheld_share: Share = Field(
        0.5,
        description="Share of its part of the cost a free-riding partner withholds, which the "
        "member covers to keep the campaigns going; stated assumption.",
    )
    partner_exit_rate_per_year: Share = Field(
        0.15,
        description="Yearly chance that a partner leaves the alliance, a constant hazard; "
        "stated assumption: about 10% of small employers have quit an alliance (NFIB [M]), "
        "and the hazard of ending rises to a mid-term peak and then falls (Park & Russo 1996 "
        "[H]), which a constant hazard averages.",
    )
    vetting: AllianceVetting | None = Field(
        None,
        description="Check the partners' record before signing (40% of small firms had a "
        "social tie to their partner beforehand, NFIB [M]); absent: partners of unknown "
        "record.",
    )
