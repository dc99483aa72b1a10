"""Which sliders the explorer shows, over which ranges, and the scenario a set of values describes.

Plain Python, no widgets: `controls_for` chooses the sliders from a scenario's own values and
`scenario_for` builds the scenario a set of slider values describes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from franchise_sim.scenario.changes import value_at, with_changes
from franchise_sim.scenario.distributions import DistributionModel, mean_of, support_of, with_mean
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.schema import Arm, Scenario

Kind = Literal["percent", "usd", "count", "per_month"]
"""How a control's value reads: a share as a percent, dollars, a count, a monthly chance."""

MARKET = "Market"
"""The heading of the controls every arm shares."""

# --- which sliders, over which ranges (no widgets) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Control:
    """One slider: the field it moves, its range and step, and how its value reads.

    Attributes:
        path: Dotted field path as ``Scenario.with_changes`` takes it.
        label: The control in words with its arm, e.g. ``"Franchise: royalty"``.
        low: Smallest value of the slider.
        high: Largest value of the slider.
        step: Step of the slider.
        value: The scenario's current value (its mean when the field is uncertain).
        kind: How the value reads (``percent``, ``usd``, ``count`` or ``per_month``).
        group: Heading the control sits under: an arm's label or ``"Market"``.
        name: Short name shown on the slider under its heading, e.g. ``"Royalty"``.
        uncertain: The field is a distribution; the slider moves its mean.
        help: One sentence on what the field means, shown when hovering over the slider.
    """

    path: str
    label: str
    low: float
    high: float
    step: float
    value: float
    kind: Kind
    group: str
    name: str
    uncertain: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if not (self.step > 0 and self.low <= self.value <= self.high):
            raise ValueError(
                f"{self.path}: needs step > 0 and low <= value <= high, got "
                f"{self.low} <= {self.value} <= {self.high} by {self.step}"
            )

    @property
    def decimals(self) -> int:
        """Decimals the step needs (of the percent for shares and chances)."""
        unit = self.step * 100 if self.kind in ("percent", "per_month") else self.step
        return max(0, math.ceil(-math.log10(unit) - 1e-9))

    @property
    def readout_format(self) -> str:
        """The value's format for the slider's readout (a d3-format string)."""
        if self.kind in ("percent", "per_month"):
            return f".{self.decimals}%"
        return f"{'$' if self.kind == 'usd' else ''},.{self.decimals}f"

    def format(self, value: float | None = None) -> str:
        """A value (the current one if not given) as the slider shows it: ``6.0%``, ``$35,000``."""
        x = self.value if value is None else value
        if self.kind in ("percent", "per_month"):
            return f"{x:.{self.decimals}%}"
        text = f"{abs(x):,.{self.decimals}f}"
        sign = "-" if x < 0 else ""
        return f"{sign}${text}" if self.kind == "usd" else f"{sign}{text}"


@dataclass(frozen=True, slots=True)
class _ArmControl:
    """Which field of an arm a slider moves, and over what range of its current value."""

    field: str  # path inside the arm, the ``franchise.`` step left out
    name: str
    kind: Kind
    span: Callable[[float], tuple[float, float]] | None  # None: up to the arm's investment
    help: str
    step: float | None = None


FRANCHISE_CONTROLS: tuple[_ArmControl, ...] = (
    _ArmControl(
        "royalty_rate",
        "Royalty",
        "percent",
        lambda v: (0.0, 0.15),
        "Royalty as a share of gross sales.",
        step=0.001,
    ),
    _ArmControl(
        "ad_fund_rate",
        "Ad fund",
        "percent",
        lambda v: (0.0, 0.06),
        "Ad-fund contribution as a share of gross sales.",
        step=0.001,
    ),
    _ArmControl(
        "initial_fee_usd",
        "Initial fee",
        "usd",
        lambda v: (0.0, max(2.0 * v, 50_000.0)),
        "Initial franchise fee, paid at signing (part of the investment).",
    ),
    _ArmControl(
        "brand_awareness_p_per_month",
        "Brand head start",
        "per_month",
        lambda v: (0.0, 3.0 * v if v > 0 else 0.05),
        "Monthly chance that a household tries the business because it already knows the "
        "brand (Bass p added by the brand).",
    ),
    _ArmControl(
        "customization_limit",
        "Customization",
        "percent",
        lambda v: (0.0, 1.0),
        "How far the unit may adapt its offer to local tastes (100% = fully).",
        step=0.01,
    ),
)
"""The sliders of every franchise arm: its terms and what the brand brings."""

ARM_CONTROLS: tuple[_ArmControl, ...] = (
    _ArmControl(
        "financing.owner_equity_usd",
        "Starting capital",
        "usd",
        None,
        "Owner's own money put in at the start; the investment is ${investment:,.0f} and a "
        "loan covers the rest.",
    ),
    _ArmControl(
        "financing.loan_rate_per_year",
        "Loan rate",
        "percent",
        lambda v: (0.0, 0.15),
        "Nominal annual interest rate of the start-up loan.",
        step=0.001,
    ),
)
"""The sliders of every arm: how it is financed."""

RELATIONSHIP_CONTROLS: tuple[_ArmControl, ...] = (
    _ArmControl(
        "partnership.referral_share",
        "Referral share",
        "percent",
        lambda v: (0.0, max(3.0 * v, 0.05)),
        "Share of the partner's customers it refers to the business each month.",
        step=0.001,
    ),
    _ArmControl(
        "partnership.partnership_costs_usd_per_month",
        "Partnership costs",
        "usd",
        lambda v: (0.0, max(2.0 * v, 500.0)),
        "What keeping the partnership up costs the business each month.",
    ),
    _ArmControl(
        "project_group.cost_usd_per_month",
        "Project costs",
        "usd",
        lambda v: (0.0, max(2.0 * v, 500.0)),
        "The business's share of the project's costs each month it runs.",
    ),
    _ArmControl(
        "project_group.sales_usd_per_month",
        "Project sales",
        "usd",
        lambda v: (0.0, max(2.0 * v, 2_000.0)),
        "Sales a successful project brings each month.",
    ),
    _ArmControl(
        "outsourcing.missed_call_share",
        "Missed calls",
        "percent",
        lambda v: (0.0, 1.0),
        "Share of calls the owner would miss without the line (after hours, on a job).",
        step=0.01,
    ),
    _ArmControl(
        "outsourcing.provider.monthly_fee_usd",
        "Answering fee",
        "usd",
        lambda v: (0.0, max(2.0 * v, 1_000.0)),
        "The answering service's monthly fee for its included minutes.",
    ),
    _ArmControl(
        "outsourcing.in_house.staff_usd_per_month",
        "In-house line staff",
        "usd",
        lambda v: (0.0, max(2.0 * v, 2_000.0)),
        "What staffing the line in-house costs each month.",
    ),
    _ArmControl(
        "trade_association.dues_usd_per_year",
        "Association dues",
        "usd",
        lambda v: (0.0, max(2.0 * v, 1_000.0)),
        "The association's dues a year.",
    ),
    _ArmControl(
        "trade_association.participation_share",
        "Participation",
        "percent",
        lambda v: (0.0, 1.0),
        "How much of what the association offers the owner takes part in.",
        step=0.01,
    ),
    _ArmControl(
        "marketing_alliance.cost_share",
        "Alliance cost share",
        "percent",
        lambda v: (0.0, 1.0),
        "The business's share of the joint campaigns' cost.",
        step=0.01,
    ),
    _ArmControl(
        "marketing_alliance.mail_pieces_per_month",
        "Mail pieces",
        "count",
        lambda v: (0.0, max(2.0 * v, 2_000.0)),
        "Pieces of joint direct mail sent each month.",
    ),
)
"""The sliders of an arm's relationships besides a franchise: a key term or two of each form
it holds (those of a section or part the arm does not hold are left out)."""


def controls_for(scenario: Scenario) -> tuple[Control, ...]:
    """The sliders of a scenario: the market, then every arm (``independent`` first).

    Ranges follow the scenario's own values and always contain them: royalty 0-15%, ad fund
    0-6%, initial fee 0 to twice the fee (at least 50,000 USD), brand head start 0 to three
    times its value (0-5% a month when it is 0), customization 0-100%, households a quarter to
    twice the value, starting capital 0 to the larger of twice the value and the arm's total
    investment, loan rate 0-15%. A range widens to take a value outside it.

    Args:
        scenario: The scenario to explore.

    Returns:
        The market's control, then for each franchise arm its royalty, ad fund, initial fee,
        brand head start and customization limit, for every arm its starting capital and
        loan rate, then the key terms of each relationship it holds
        (`RELATIONSHIP_CONTROLS`).
    """
    controls = [
        _control(
            scenario,
            "market.households",
            MARKET,
            "Households",
            "count",
            lambda v: (0.25 * v, 2.0 * v),
            help="Households within reach of the location.",
            floor_at_step=True,
        )
    ]
    for arm in scenario.resolved_arms():
        investment = arm.total_investment_usd()
        specs = (FRANCHISE_CONTROLS if arm.is_franchise else ()) + ARM_CONTROLS
        held = tuple(s for s in RELATIONSHIP_CONTROLS if _holds(arm, s.field))
        for spec in specs + held:
            span = spec.span if spec.span is not None else partial(_up_to_investment, investment)
            helped = spec.help.format(investment=investment)
            controls.append(
                _control(
                    scenario,
                    f"arms.{arm.name}.{spec.field}",
                    arm.label,
                    spec.name,
                    spec.kind,
                    span,
                    step=spec.step,
                    help=helped,
                )
            )
    return tuple(controls)


def _holds(arm: Arm, field: str) -> bool:
    """Whether the arm holds the section (and part) ``field`` lies in: none of them is None."""
    node: object = arm
    for part in field.split(".")[:-1]:
        node = getattr(node, part, None)
        if node is None:
            return False
    return True


def _up_to_investment(investment: float, value: float) -> tuple[float, float]:
    """Starting capital from 0 to twice its value or the whole investment, if more."""
    return (0.0, max(2.0 * value, investment))


def _control(
    scenario: Scenario,
    path: str,
    group: str,
    name: str,
    kind: Kind,
    span: Callable[[float], tuple[float, float]],
    *,
    step: float | None = None,
    help: str = "",
    floor_at_step: bool = False,
) -> Control:
    """A control over ``span(value)``, widened to hold the value and aligned to its step."""
    raw = value_at(scenario, path)
    value = mean_of(raw)
    lo_support, hi_support = support_of(raw)
    low, high = span(value)
    low, high = min(low, value), max(high, value)
    step = step if step is not None else _nice_step((high - low) / 200)
    low = _tidy(step * math.floor(low / step + 1e-9))
    high = _tidy(step * math.ceil(high / step - 1e-9))
    if floor_at_step and low < step <= value:
        low = step
    uncertain = lo_support != hi_support
    return Control(
        path=path,
        label=f"{group}: {name.lower()}" + (" (mean)" if uncertain else ""),
        low=min(low, value),
        high=max(high, value),
        step=step,
        value=value,
        kind=kind,
        group=group,
        name=name + (" (mean)" if uncertain else ""),
        uncertain=uncertain,
        help=help,
    )


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= raw * (1 - 1e-9):
            return _tidy(factor * power)
    return _tidy(10.0 * power)  # pragma: no cover - the loop always returns


def _tidy(x: float) -> float:
    """``x`` without the float noise of step arithmetic (``0.15000000000000002`` is ``0.15``)."""
    return float(f"{x:.12g}")


def scenario_for(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with the fields at the given paths set to the given values.

    A field holding a distribution keeps its family, moved so its mean is the value (see
    ``distributions.with_mean``); where the family cannot have that mean, or its moved spread
    would leave the field's allowed range (a share's beyond 1), the field is fixed at the value.
    A value equal to the field's current one (its mean) leaves the field exactly as it is.

    Args:
        scenario: The scenario to start from; it is not changed.
        values: Dotted field paths (as ``Scenario.with_changes`` takes them) and new values.

    Returns:
        The changed, validated scenario (``scenario`` itself when nothing changes).

    Raises:
        ScenarioError: A path names no numeric field, or the values make the scenario invalid;
            the message names the field and says what is wrong.
    """
    changes: dict[str, Any] = {}
    moved: list[str] = []
    for path, value in values.items():
        current = value_at(scenario, path)
        if isinstance(current, bool) or not isinstance(current, int | float | DistributionModel):
            raise ScenarioError(f"{path}: not a number or a distribution; a slider cannot move it")
        if mean_of(current) == value:
            continue
        if isinstance(current, int) and float(value).is_integer():
            changes[path] = int(value)
        elif isinstance(current, DistributionModel):
            try:
                changes[path] = with_mean(current, float(value))
                moved.append(path)
            except ValueError:
                changes[path] = float(value)
        else:
            changes[path] = float(value)
    if not changes:
        return scenario
    try:
        return with_changes(scenario, changes)
    except ScenarioError:
        if not moved:
            raise
    for path in moved:  # a moved spread may leave its field's range: fix such fields instead
        try:
            with_changes(scenario, {path: changes[path]})
        except ScenarioError:
            changes[path] = float(values[path])
    return with_changes(scenario, changes)
