"""How a business wins and keeps customers: Bass diffusion and two loyalty segments.

Pure functions and one small state class, advanced a month at a time as aggregated flows, and
the arrays over a batch's replications that the compiled month reads (`CustomerArrays`).

* Acquisition follows the Bass (1969) model: a non-customer starts buying at the hazard
  ``p + q N / m``, with ``p`` from awareness (location, advertising, brand), ``q`` from word of
  mouth and ``m`` the market potential. One month is advanced with the exact solution of the Bass
  equation from the current state, so with perfect retention the expected customer base follows
  the closed-form curve ``m F(t)``.
* Retention is heterogeneous: customers are loyal or casual, each segment with its own yearly
  retention. A cohort's retention therefore rises over time as its casual members leave first,
  as in Fader and Hardie's shifted-beta-geometric evidence (about 63% in year one rising to 85%).
* Dissatisfaction raises every customer's exit hazard and weakens word of mouth.
* Former customers may form a lapsed pool, won back at a fraction of the adoption hazard
  (Libai, Muller & Peres 2009), instead of rejoining the potential customers at the full rate.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

_EXP_OVERFLOW = 700.0
"""Largest exponent `bass_step_share` raises e to (math.exp overflows just above 709)."""


def bass_share(months: float, p: float, q: float) -> float:
    """Closed-form Bass adoption share ``F(t)`` after ``months`` from zero (Bass 1969).

    ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``.
    """
    if p <= 0.0:
        return 0.0
    decay = math.exp(-(p + q) * months)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_step_share(share: float, p: float, q: float) -> float:
    """Adoption share one month later, solving the Bass equation exactly from ``share``.

    The Bass equation ``F' = (p + qF)(1 - F)`` has ``(p + qF) / (1 - F)`` growing as
    ``e^{(p+q)t}``; inverting that after one month gives the new share.
    """
    if share >= 1.0:
        return 1.0
    if p <= 0.0 and share <= 0.0:
        return 0.0
    if p + q > _EXP_OVERFLOW:  # e^(p+q) overflows; the ratio dwarfs p and q: all adopt
        return 1.0
    ratio = (p + q * share) / (1.0 - share) * math.exp(p + q)
    return (ratio - p) / (q + ratio)


def expected_new_customers(potential: float, customers: float, p: float, q: float) -> float:
    """Expected adopters this month among the non-customers of a market of ``potential``."""
    if potential <= 0.0 or customers >= potential:
        return 0.0
    share = customers / potential
    return potential * (bass_step_share(share, p, q) - share)


def adoption_share(potential: float, customers: float, p: float, q: float) -> float:
    """Share of this month's non-customers who adopt, by the exact Bass step.

    ``(F1 - F0) / (1 - F0)`` with ``F0 = customers / potential`` and ``F1`` one month on.
    """
    if potential <= 0.0 or customers >= potential:
        return 0.0
    share = customers / potential
    return (bass_step_share(share, p, q) - share) / (1.0 - share)


def win_back_share(adoption: float, winback_share: float) -> float:
    """Share of lapsed customers won back this month, at a fraction of the adoption hazard.

    A non-customer adopting with probability ``a`` in a month meets the integrated hazard
    ``-ln(1 - a)``; a lapsed customer meets ``winback_share`` of it, so comes back with
    probability ``1 - (1 - a)^winback_share`` (Libai, Muller & Peres 2009: lapsed customers
    return far more slowly than new ones adopt).
    """
    if adoption >= 1.0:
        return 1.0 if winback_share > 0.0 else 0.0
    return float(1.0 - (1.0 - adoption) ** winback_share)


def retention_hazard_per_month(retention_per_year: float) -> float:
    """Constant monthly exit hazard that keeps ``retention_per_year`` of customers a year."""
    return -math.log(retention_per_year) / 12.0


def churn_probability(hazard_per_month: float, satisfaction: float, sensitivity: float) -> float:
    """Chance a customer leaves this month, the hazard raised by dissatisfaction.

    ``1 - exp(-h (1 + sensitivity (1 - satisfaction)))``; ``satisfaction`` is clipped to [0, 1].
    """
    dissatisfaction = 1.0 - min(1.0, max(0.0, satisfaction))
    return 1.0 - math.exp(-hazard_per_month * (1.0 + sensitivity * dissatisfaction))


def learning_curve(potential: float, starting_share: float, months: float, tau: float) -> float:
    """Quality after ``months`` of learning: ``potential (1 - (1 - s0) e^{-t/tau})``.

    Learning by doing uses the same curve with cumulative visits served for ``months`` and
    the visits it takes to learn for ``tau`` (Argote & Epple 1990).
    """
    return potential * (1.0 - (1.0 - starting_share) * math.exp(-months / tau))


def mismatch_after(start: float, floor: float, months: float, tau: float) -> float:
    """Distance from local tastes after adapting for ``months``, never below ``floor``."""
    if start <= floor:
        return start
    return floor + (start - floor) * math.exp(-months / tau)


def adstock_decay(half_life_months: float) -> float:
    """Share of last month's advertising effect still working this month."""
    return float(0.5 ** (1.0 / half_life_months))


class CustomerArrays(NamedTuple):
    """A business's customers and the rates that move them, for the compiled month.

    Arrays over a batch's replications, `business.Business`'s own
    (`compiled_month.win_and_lose` changes the first five in place).
    """

    loyal: NDArray[np.float64]
    casual: NDArray[np.float64]
    lapsed: NDArray[np.float64]
    retained: NDArray[np.float64]
    advertising_p: NDArray[np.float64]
    decay: NDArray[np.float64]
    marketing_p: NDArray[np.float64]
    last_marketing_usd: NDArray[np.float64]
    innovation: NDArray[np.float64]
    imitation: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    loyal_hazard: NDArray[np.float64]
    casual_hazard: NDArray[np.float64]
    visit_rate: NDArray[np.float64]
    loyal_share: NDArray[np.float64]
