"""The base of every scenario section and the bounded amounts sections hold.

`schema` builds the scenario from these; a relationship's section (``scenario/relationships``)
subclasses `Section` and types its amounts with them too, without importing `schema` (which
imports the relationships' sections for its arms): the layout has no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from franchise_sim.scenario.distributions import LogNormal, Normal, Uncertain, draw_range

MAX_USD_PER_MONTH = 1e9
"""Largest monthly amount of money (payroll, rent, fees, draw)."""
MAX_USD = 1e10
"""Largest one-off amount of money (investment, equity, savings, a repair)."""
MAX_MONTHS = 1200.0
"""Longest duration or time constant: a century (999 months is a common "never")."""
MAX_P_PER_MONTH = 1.0
"""Largest Bass p term: a monthly chance."""
MAX_Q_PER_MONTH = 10.0
"""Largest Bass q: published monthly values are well under 1."""


@dataclass(frozen=True)
class Within:
    """Validator: a fixed value, or every value a distribution can draw, lies in ``[low, high]``.

    A distribution is judged by `draw_range`: its support, or for an unbounded normal or a
    lognormal the extreme draws the runner can make.

    Attributes:
        low: Smallest value allowed.
        high: Largest value allowed.
    """

    low: float
    high: float

    def __call__(self, value: Any) -> Any:
        """Return the value, or raise the error pydantic reports for it."""
        if value is None:
            return value
        lo, hi = draw_range(value)
        if lo < self.low or hi > self.high:
            if isinstance(value, int | float):
                shown = f"{value:g}"
            else:  # a normal or lognormal by its extreme draws, the others by their support
                kind = "draws" if isinstance(value, Normal | LogNormal) else "support"
                shown = f"{kind} [{lo:.6g}, {hi:.6g}]"
            raise PydanticCustomError(
                "out_of_range",
                "{shown} lies outside the allowed range [{low}, {high}]",
                {"shown": shown, "low": f"{self.low:g}", "high": f"{self.high:g}"},
            )
        return value


Share = Annotated[Uncertain, AfterValidator(Within(0.0, 1.0))]
"""A share between 0 and 1, fixed or uncertain."""
Months = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_MONTHS))]
"""A duration in months, fixed or uncertain."""
UsdAmount = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_USD))]
"""A one-off amount of money, fixed or uncertain."""
UsdPerMonth = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_USD_PER_MONTH))]
"""A monthly amount of money, fixed or uncertain."""
PerMonth = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_P_PER_MONTH))]
"""A Bass p term (a monthly chance), fixed or uncertain."""
BassQ = Annotated[Uncertain, AfterValidator(Within(0.0, MAX_Q_PER_MONTH))]
"""A Bass q (word of mouth per month), fixed or uncertain."""


class Section(BaseModel):
    """Base of every scenario section: frozen, unknown keys rejected, no NaN or infinity."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=True
    )
