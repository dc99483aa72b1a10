"""Benchmark: the wall time of one notebook-explorer update, and its split.

One update re-runs the paired replications, draws the three-panel picture as a PNG and builds
the headline. The explorer loads the compiled count quantiles at its start where numba is
installed (the same numbers, faster): the simulation is timed with numpy's and with them.
Target (issue 11): at most 0.4 s for 500 paired runs on 2 cores, redraw included.
Prints medians of ``--repeat`` beside the target and a reference measured in the same run, and
the load average before and after; asserts nothing. Needs ipywidgets (the ``notebook`` or
``dev`` extra) for the end-to-end figure.

Usage: ``python benchmarks/bench_explorer.py [--runs 500] [--repeat 3] [--scenario PATH]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from timing import against_target, conditions, timed

import franchise_sim
from franchise_sim.analysis.comparison import compare
from franchise_sim.interfaces.explorer import explore, headline, picture
from franchise_sim.interfaces.explorer.view import PICTURE_DPI, Picture
from franchise_sim.model.streams import load_compiled_counts
from franchise_sim.outputs.figures import png_bytes

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"
ROYALTY = "arms.franchise.royalty_rate"
UPDATE_TARGET = 0.4
"""Seconds for one explorer update of 500 paired runs, redraw included, at most (issue 11)."""


def main() -> None:
    """Time the parts of an update and a whole update through the explorer, and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    args = parser.parse_args()
    scenario = franchise_sim.load_scenario(args.scenario)
    cores = os.cpu_count() or 1
    runs = args.runs
    print(f"scenario: {args.scenario.name}, {runs} paired runs, cores: {cores} (default workers)")
    print(f"conditions: {conditions()}")

    with ProcessPoolExecutor(max_workers=cores) as pool:
        franchise_sim.simulate(scenario, runs=4 * cores, workers=cores, executor=pool)  # warm-up
        pooled = timed(
            lambda: franchise_sim.simulate(scenario, runs=runs, workers=cores, executor=pool),
            args.repeat,
        )
    fresh = timed(lambda: franchise_sim.simulate(scenario, runs=runs, workers=cores), args.repeat)
    compiled = None
    if load_compiled_counts():  # as the explorer does at its start, before its pool forks
        with ProcessPoolExecutor(max_workers=cores) as pool:
            franchise_sim.simulate(scenario, runs=4 * cores, workers=cores, executor=pool)
            compiled = timed(
                lambda: franchise_sim.simulate(scenario, runs=runs, workers=cores, executor=pool),
                args.repeat,
            )

    def spawned() -> None:  # how a new pool costs where processes are spawned (macOS, Windows)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=cores, mp_context=context) as pool:
            franchise_sim.simulate(scenario, runs=runs, workers=cores, executor=pool)

    spawn = timed(spawned, args.repeat)
    results = franchise_sim.simulate(scenario, runs=runs, workers=cores)
    drawing = timed(lambda: png_bytes(picture(results), dpi=PICTURE_DPI), args.repeat)
    kept = Picture()  # the explorer's: one figure, redrawn in place with each update's results
    other = franchise_sim.simulate(scenario, runs=runs, workers=cores, seed=scenario.run.seed + 1)
    kept.draw(other)
    shown = iter([results, other] * args.repeat)
    redrawing = timed(lambda: kept.draw(next(shown)), args.repeat)
    summary = timed(lambda: headline(results, compare(results)), args.repeat)
    print(f"simulate, persistent pool (the explorer's): {pooled.text()}")
    if compiled is not None:
        print(f"  the same, compiled counts (the explorer's):  {compiled.text()}")
    print(f"simulate, a new pool per update:             {fresh.text()}")
    print(f"simulate, a new spawned pool per update:     {spawn.text()} (macOS, Windows)")
    print(f"draw the picture and encode the PNG:         {drawing.text()}")
    print(f"  the same, redrawn in place (the explorer's): {redrawing.text()}")
    print(f"headline numbers:                            {summary.text(3)}")
    parts = (compiled or pooled).median + redrawing.median + summary.median
    print(f"sum of the parts' medians:                   {parts:.2f} s")

    explorer = explore(scenario, runs=runs, debounce_seconds=0.0)
    values = iter([0.07, 0.08, 0.09, 0.10, 0.11, 0.12] * args.repeat)

    def update() -> None:
        explorer.sliders[ROYALTY].value = next(values)
        if not explorer.wait(timeout=120.0):
            raise RuntimeError("the explorer did not finish an update in 120 s")

    try:
        whole = timed(update, args.repeat)
    finally:
        explorer.close()
    print(f"one explorer update, slider to picture:      {whole.text()}")
    print(f"  {against_target(whole.median, UPDATE_TARGET, at_most=True, unit=' s')}")
    print(f"conditions after: {conditions()}")


if __name__ == "__main__":
    main()
