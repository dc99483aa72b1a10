"""Calibration figures: simulated survival of each arm against the BLS curve of its sector.

Prints, for years 1-5, the share of businesses still open in each arm, the BLS reference for
the sector the scenario names, and the independent arm's deviation in percentage points.

Usage: ``python benchmarks/survival_vs_bls.py [SCENARIO] [--runs 8000] [--seed S]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import franchise_sim
from franchise_sim.analysis.reference import bls_survival

DEFAULT = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"


def main() -> None:
    """Simulate and print the survival table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--runs", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    scenario = franchise_sim.load_scenario(args.scenario)
    results = franchise_sim.simulate(scenario, runs=args.runs, seed=args.seed)
    bls = bls_survival(scenario.bls_sector)
    alive = results.series("alive")
    print(f"{scenario.name}: {results.runs:,} paired runs, seed {results.seed}")
    header = f"{'year':>4} {'BLS ' + scenario.bls_sector:>30}"
    header += "".join(f"{arm:>14}" for arm in results.arms) + f"{'indep. - BLS':>14}"
    print(header)
    independent = results.arm_index("independent")
    for year in range(1, 6):
        month = 12 * year
        if month > results.horizon_months:
            break
        shares = alive[:, :, month - 1].mean(axis=1)
        row = f"{year:>4} {bls[year]:>30.1%}" + "".join(f"{s:>14.1%}" for s in shares)
        row += f"{100 * (shares[independent] - bls[year]):>+12.1f} pt"
        print(row)


if __name__ == "__main__":
    main()
