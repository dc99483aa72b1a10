"""Published reference data shipped with the package, for calibration checks and plots.

``bls_survival_2013_cohort.csv``: share of US private-sector establishments born March 2013
still operating 1 to 5 years later, by sector. Source: US Bureau of Labor Statistics, Business
Employment Dynamics, establishment survival (The Economics Daily, 12 January 2024).
"""

from __future__ import annotations

import csv
from importlib import resources

from franchise_sim.scenario.schema import BlsSector

BLS_SOURCE = (
    "US Bureau of Labor Statistics, Business Employment Dynamics: survival of establishments "
    "born March 2013 (The Economics Daily, 12 Jan 2024)"
)
"""Citation of the BLS survival table."""


BLS_SECTOR_NAMES: dict[str, str] = {
    "total_private": "all private sector",
    "other_services_naics81": "other services (NAICS 81)",
    "retail_trade": "retail trade (NAICS 44-45)",
    "accommodation_food_services": "accommodation and food services (NAICS 72)",
}
"""How each column of the BLS table is named in figures and reports."""


def bls_survival(sector: BlsSector) -> dict[int, float]:
    """Share (0-1) of establishments of ``sector`` still open after each whole year (0-5)."""
    text = resources.files("franchise_sim").joinpath("data/bls_survival_2013_cohort.csv")
    rows = [line for line in text.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    return {int(row["age_years"]): float(row[sector]) / 100.0 for row in csv.DictReader(rows)}
