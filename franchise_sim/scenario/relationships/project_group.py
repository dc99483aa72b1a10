"""A project group with other firms: a joint bid, a shared training programme, a joint product.

The terms of an arm's ``project_group`` section: when the project runs and what it costs the
owner in hours and money, how it is organised (a leader, assigned roles), its chances, and what
it brings when it succeeds. Figures marked [H] come from Kale, Dyer & Singh (2002), Strategic
Management Journal 23(8): 63% of alliances succeed where the firm has a dedicated alliance
function against 50% where it has not (``../shared/reference/evidence.md``); every other default
is a stated assumption.
"""

from __future__ import annotations

from pydantic import Field

from franchise_sim.scenario.quantities import MAX_MONTHS, PerMonth, Section, Share, UsdPerMonth

STRUCTURED_SUCCESS_SHARE = 0.63
"""Success with a dedicated function running the alliance (Kale, Dyer & Singh 2002) [H]."""
UNSTRUCTURED_SUCCESS_SHARE = 0.50
"""Success without one (Kale, Dyer & Singh 2002) [H]."""


class ProjectGroup(Section):
    """A time-boxed project with other small firms, and what it brings if it succeeds."""

    start_month: int = Field(
        1, ge=1, le=int(MAX_MONTHS), description="Month of trading the project starts in."
    )
    duration_months: int = Field(
        6, ge=1, le=int(MAX_MONTHS), description="Months it runs if it does not stall."
    )
    owner_hours_per_month: float = Field(
        15.0,
        ge=0,
        le=744,
        description="The owner's hours a month while it runs (meetings, the owner's share of "
        "the work); stated assumption.",
    )
    cost_usd_per_month: UsdPerMonth = Field(
        300.0,
        description="The business's share of the project's money costs a month while it runs "
        "(materials, a shared trainer, bid preparation); stated assumption.",
    )
    has_leader: bool = Field(
        True, description="A named leader runs the group (half of the lift of structure)."
    )
    roles_assigned: bool = Field(
        True, description="Each firm's role is assigned (the other half of the lift)."
    )
    unstructured_success_share: Share = Field(
        UNSTRUCTURED_SUCCESS_SHARE,
        description="Chance the project succeeds with neither a leader nor roles: 50% of "
        "alliances succeed without a dedicated alliance function (Kale, Dyer & Singh 2002) [H].",
    )
    structured_success_share: Share = Field(
        STRUCTURED_SUCCESS_SHARE,
        description="Chance with both: 63% with a dedicated function (Kale, Dyer & Singh 2002) "
        "[H]. A leader alone or roles alone give half the lift: stated assumption.",
    )
    stall_share: Share = Field(
        0.2,
        description="Chance the project stalls and runs `stall_months` longer, costing more, "
        "before it succeeds or fails; stated assumption.",
    )
    stall_months: int = Field(3, ge=0, le=int(MAX_MONTHS), description="Months a stall adds.")
    quality_gain_share: Share = Field(
        0.03,
        description="New ideas and methods: the rise in customers' satisfaction from the "
        "month after a success on (a factor 1 + this); stated assumption.",
    )
    sales_usd_per_month: UsdPerMonth = Field(
        0.0,
        description="Project revenue a month after a success (a joint contract's share), for "
        "`sales_months`; variable costs and any royalty apply; stated assumption.",
    )
    sales_months: int = Field(
        12, ge=0, le=int(MAX_MONTHS), description="Months the project revenue lasts."
    )
    awareness_p_per_month: PerMonth = Field(
        0.0,
        description="Added awareness (Bass p a month) after a success, from the joint "
        "product's publicity; stated assumption.",
    )

    def success_share(self) -> tuple[Share, Share, float]:
        """The two chances and the lift of structure used (0, 0.5 or 1)."""
        lift = 0.5 * self.has_leader + 0.5 * self.roles_assigned
        return self.unstructured_success_share, self.structured_success_share, lift
