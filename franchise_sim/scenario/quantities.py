"""The quantities a scenario holds: their bounds, their types and the base of every section.

Shared by the schema and by each relationship's section (``scenario/relationships``), so that
a section written in its own module bounds its numbers as the schema does, with the same
messages, and the schema stays the one place that assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from franchise_sim.scenario.distributions import LogNormal, Normal, Uncertain, draw_range

# --- Bounds ------------------------------------------------------------------------------------
# Every number a scenario holds is bounded, generously, by what a single local business can mean
# and so that the model's arithmetic can never overflow, turn to NaN or ask for a random count it
# cannot draw: the largest mean of a count is households x visits per customer x the largest
# season factor (12) = 1e8 x 100 x 12 = 1.2e11, well under randomness.LARGEST_COUNT_MEAN; the
# largest month of sales, 1e9 visits x 1e6 USD, and 360 months of it stay far inside a float.

MAX_HOUSEHOLDS = 1e8
"""Most households within reach: about the whole United States (131 million households)."""
MAX_VISITS_PER_CUSTOMER = 100.0
"""Most visits per customer per month: three a day."""
MAX_CAPACITY_VISITS = 1e9
"""Most visits a unit can serve in a month."""
MAX_SPEND_PER_VISIT_USD = 1e6
"""Largest average ticket."""
MAX_USD_PER_MONTH = 1e9
"""Largest monthly amount of money (payroll, rent, fees, draw)."""
MAX_USD = 1e10
"""Largest one-off amount of money (investment, equity, savings, a repair)."""
MAX_P_PER_MONTH = 1.0
"""Largest Bass p term: a monthly chance."""
MAX_Q_PER_MONTH = 10.0
"""Largest Bass q: published monthly values are well under 1."""
MAX_MONTHS = 1200.0
"""Longest duration or time constant: a century (999 months is a common "never")."""
MAX_TERM_YEARS = 50.0
"""Longest franchise term: the published range is 3-20 years (franchise_terms.csv)."""
MAX_ROYALTY_RATE = 0.3
"""Highest royalty accepted: published royalties run 1-15% of sales (Blair & Lafontaine 2005,
in franchise_sim/data/franchise_terms.csv), so twice the top of that range cannot be meant."""
MAX_AD_FUND_RATE = 0.2
"""Highest ad-fund rate accepted: published rates are 1-4% of sales (franchise_terms.csv)."""
MAX_LOCAL_MARKETING_RATE = 0.3
"""Highest required local advertising: agreements ask 1-3% of sales (franchise_terms.csv)."""
MAX_SEASON_FACTOR = 1000.0
"""Largest relative demand of one month (the twelve are rescaled to average 1)."""
MAX_SEED = 2**64 - 1
"""Largest master seed."""
MAX_TREND_PER_YEAR = 0.2
"""Largest yearly growth or decline of a market's size: 20% a year, either way."""
MAX_RIVALS = 1000
"""Most rival firms already in a market at opening."""
MAX_VISITS_TO_LEARN = MAX_CAPACITY_VISITS * MAX_MONTHS
"""Largest number of visits a learning curve may take: a century at the largest capacity."""


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
