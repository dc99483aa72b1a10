"""Benchmark: this tree against an earlier revision, interleaved, in the same conditions.

The machine's own speed moves by more than most changes do (the bare-SimPy reference of
``timing.py`` has taken 5.8 ms at one hour and 13 ms at another), so a figure measured today
cannot be set against one measured last week. This script checks the earlier revision out
into a temporary folder (``git worktree``) and alternates the two trees, a fresh Python process
each time, with this environment's packages: in each, ``simulate`` of 1,000 paired runs of
``scenarios/auto_repair.yaml`` on one core, then on two (the pool included), each once to warm
up and then three times, keeping the middle time, each call counted as a new process's towards
loading the compiled kernels (`streams.forget_arm_months`, where the tree has it). It prints
both trees' medians over the rounds and their ratio (below 1: this tree is faster). Asserts
nothing.

With ``--compiled``, each process loads the compiled kernels first (numba, the ``fast``
extra), as a long session has them.

Usage: ``python benchmarks/bench_against.py [--rev REV] [--rounds 7] [--runs 1000] [--compiled]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from timing import conditions, in_fresh_process

ROOT = Path(__file__).resolve().parent.parent

ONE_TREE = """
import sys, time
sys.path.insert(0, sys.argv[1])
import franchise_sim
from franchise_sim.model import streams
scenario = franchise_sim.load_scenario(sys.argv[1] + "/scenarios/auto_repair.yaml")
runs = int(sys.argv[2])
if sys.argv[3] == "compiled":  # loaded first, as a long session has them
    assert streams.load_compiled_counts(), "numba is not installed (the fast extra)"
forget = getattr(streams, "forget_arm_months", lambda: None)  # each call a new process's
def middle(workers):
    forget()
    franchise_sim.simulate(scenario, runs=runs, workers=workers, horizon_months=60)
    times = []
    for _ in range(3):
        forget()
        started = time.perf_counter()
        franchise_sim.simulate(scenario, runs=runs, workers=workers, horizon_months=60)
        times.append(time.perf_counter() - started)
    return sorted(times)[1]
print(middle(1), middle(2))
"""
"""One fresh process on one tree: the middle of three timed calls on one core, then on two."""


def one_sample(tree: Path, runs: int, counts: str) -> tuple[float, float]:
    """Seconds of ``simulate`` on one core and on two, in a new process on ``tree``.

    ``counts`` is "numpy" (a new process's for a run of this size) or "compiled" (the kernels
    loaded first).
    """
    one, two = in_fresh_process(ONE_TREE, tree, runs, counts)
    return one, two


def main() -> None:
    """Check the revision out, alternate the two trees, print their medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rev", default="HEAD~1", help="the earlier revision (default HEAD~1)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument(
        "--compiled", action="store_true", help="load the compiled kernels first in each process"
    )
    args = parser.parse_args()
    counts = "compiled" if args.compiled else "numpy"
    print(f"conditions: {conditions()}; count quantiles: {counts}")
    with tempfile.TemporaryDirectory(prefix="franchise-sim-against-") as folder:
        earlier = Path(folder) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(earlier), args.rev],
            check=True,
            capture_output=True,
        )
        try:
            samples: dict[str, list[tuple[float, float]]] = {"earlier": [], "this": []}
            for _ in range(args.rounds):
                samples["earlier"].append(one_sample(earlier, args.runs, counts))
                samples["this"].append(one_sample(ROOT, args.runs, counts))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)],
                check=False,
                capture_output=True,
            )
    medians = {
        name: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
        for name, runs in samples.items()
    }
    for name, label in (("earlier", args.rev), ("this", "this tree")):
        one, two = medians[name]
        print(
            f"{label}: {args.runs} paired runs x 60 months in {one:.3f} s on one core, "
            f"{two:.3f} s on two (medians of {args.rounds} interleaved rounds)"
        )
    one = medians["this"][0] / medians["earlier"][0]
    two = medians["this"][1] / medians["earlier"][1]
    print(f"this tree / {args.rev}: {one:.3f} on one core, {two:.3f} on two (below 1: faster)")
    print(f"conditions after: {conditions()}")


if __name__ == "__main__":
    main()
