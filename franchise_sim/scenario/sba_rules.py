"""The SBA 7(a) program's published rules by loan size: spread caps, guaranteed shares, fees.

Rules the scenario is validated against (a loan's spread must keep under its cap) and the money
arithmetic charges (the guarantee fee). Sources: the shipped ``sba_7a_loans.csv`` [SBA] and the
SBA fee notice for fiscal year 2025 [A].
"""

from __future__ import annotations

import math

SBA_SPREAD_CAPS: tuple[tuple[float, float], ...] = (
    (50_000.0, 0.065),
    (250_000.0, 0.06),
    (350_000.0, 0.045),
    (math.inf, 0.03),
)
"""Largest spread over prime a 7(a) lender may charge, by loan size: (loan up to, cap)
(sba_7a_loans.csv, 2023 rule) [SBA]."""

SBA_GUARANTEED_SHARE: tuple[tuple[float, float], ...] = ((150_000.0, 0.85), (math.inf, 0.75))
"""Share of a 7(a) loan the SBA guarantees: 85% up to 150k USD, 75% above (sba_7a_loans.csv)
[SBA]."""

SBA_GUARANTEE_FEE_TIERS: tuple[tuple[float, float], ...] = (
    (150_000.0, 0.02),
    (700_000.0, 0.03),
    (math.inf, 0.035),
)
"""Up-front guarantee fee on the guaranteed portion of a 7(a) loan over 12 months, by loan size:
2% up to 150k, 3% to 700k, 3.5% above (3.75% on a guaranteed portion over 1M USD). SBA fee
notice for fiscal year 2025; not in the shipped table, so a stated assumption [A] to check
against the current year's notice."""
SBA_GUARANTEE_FEE_ABOVE_1M = 0.0375
"""Fee rate on the part of the guaranteed portion above 1M USD (fiscal year 2025) [A]."""


def sba_tier(loan_usd: float, tiers: tuple[tuple[float, float], ...]) -> float:
    """The value of the first tier whose upper bound holds the loan."""
    return next(value for upper, value in tiers if loan_usd <= upper)


def sba_max_spread(loan_usd: float) -> float:
    """The largest spread over prime allowed on a 7(a) loan of this size."""
    return sba_tier(loan_usd, SBA_SPREAD_CAPS)


def sba_guaranteed_share(loan_usd: float) -> float:
    """The share of a 7(a) loan of this size the SBA guarantees."""
    return sba_tier(loan_usd, SBA_GUARANTEED_SHARE)
