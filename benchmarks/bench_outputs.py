"""Benchmark: time to draw every figure, write the report and save a results folder.

What ``franchise-sim run --report`` adds after simulating, for ``scenarios/auto_repair.yaml``
at 1,000 paired runs x 60 months: each figure's drawing and PNG encoding, the HTML report, the
data files, and reading the folder back (what ``plot`` and ``report`` start with). Prints
figures; asserts nothing.

Usage: ``python benchmarks/bench_outputs.py [--runs 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from timing import conditions, timed

import franchise_sim
from franchise_sim.engine.results import SimulationResults
from franchise_sim.outputs.figures import FIGURES, FigureSpec, png_bytes, render
from franchise_sim.outputs.folders import load_results, save_results
from franchise_sim.outputs.manifest import manifest
from franchise_sim.outputs.report import html_report

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"


def _figure_png(spec: FigureSpec, results: SimulationResults) -> bytes:
    return png_bytes(spec.draw(results))


def main() -> None:
    """Time each output step and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = franchise_sim.simulate(franchise_sim.load_scenario(SCENARIO), runs=args.runs)

    def seconds(step: Callable[[], object]) -> float:
        return timed(step, args.repeat).median

    print(
        f"{results.scenario.name}: {results.runs:,} paired runs x {results.horizon_months} months"
    )
    print(f"conditions: {conditions()}")
    print(f"median of {args.repeat}, seconds")
    for spec in FIGURES:
        one = seconds(partial(_figure_png, spec, results))
        print(f"  figure {spec.name:<16} {one:6.2f}")
    images = render(results)
    record = manifest(results)
    print(f"  {'every figure':<23} {seconds(lambda: render(results)):6.2f}")
    print(f"  {'report.html':<23} {seconds(lambda: html_report(results, record, images)):6.2f}")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "results"

        def data_only() -> Path:
            return save_results(results, target, figures=False, force=True)

        print(f"  {'data files':<23} {seconds(data_only):6.2f}")
        print(f"  {'read back':<23} {seconds(lambda: load_results(target)):6.2f}")
        full = seconds(lambda: save_results(results, target, report=True, force=True))
        print(f"  {'folder with report':<23} {full:6.2f}")


if __name__ == "__main__":
    main()
