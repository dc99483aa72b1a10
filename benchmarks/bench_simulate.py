"""Benchmark: business-years simulated per second per core, and the wall time of the target run.

Target (issue 2): 1,000 paired replications x 60 months of ``scenarios/auto_repair.yaml`` on all
cores in at most 2 seconds on a 2-core machine. Prints medians beside a reference measured in
the same run, and the machine's load (see ``timing.py``); asserts nothing.

Usage: ``python benchmarks/bench_simulate.py [--runs 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from timing import Timing, conditions, timed

import franchise_sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"


def main() -> None:
    """Time one-core and all-core runs and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = franchise_sim.load_scenario(SCENARIO)
    horizon = 60
    cores = os.cpu_count() or 1
    arms = len(scenario.arm_names)
    franchise_sim.simulate(scenario, runs=20, workers=1, horizon_months=horizon)  # warm-up

    def run(workers: int, runs: int) -> Timing:
        return timed(
            lambda: franchise_sim.simulate(
                scenario, runs=runs, workers=workers, horizon_months=horizon
            ),
            args.repeat,
        )

    one_core_runs = max(100, args.runs // 4)
    print(f"scenario: {SCENARIO.name}, arms: {arms}, horizon: {horizon} months")
    print(f"conditions: {conditions()}")
    single = run(1, one_core_runs)
    business_years = one_core_runs * arms * horizon / 12
    print(
        f"one core: {one_core_runs} paired replications in {single.text()} "
        f"= {business_years / single.median:,.0f} business-years per second per core"
    )
    wall = run(cores, args.runs)
    print(f"all {cores} cores: {args.runs} paired replications x {horizon} months in {wall.text()}")


if __name__ == "__main__":
    main()
