"""Benchmark: the batch engine's business-years per second per core, and the 1,000 x 60 target.

Targets (issue 11): at least 20,000 business-years per second per core on
``scenarios/auto_repair.yaml``; 1,000 paired runs x 60 months in at most 0.3 s wall on 2 cores,
in a fresh process after warm-up (``bench_simulate.py`` times that one in fresh processes).
Each figure is printed beside its target and the bare-SimPy event floor
measured in the same run: a bare environment with the same calendar (five phase events a month)
and as many events as the batch engine fired, each a timeout resuming a process, and no model.
The per-replication engine it replaced ran at about 2,000 business-years per second per core
on this machine (issue 11; measured before its deletion). Medians of interleaved calls (see
``timing.py``); asserts nothing.

It also says what a batch's second arm costs (an independent and its identical twin, on the
same plans, against the independent alone) at ``runs / 2`` and ``runs`` replications: the part
that does not grow with the replications is what merging a batch's arms into one actor's arrays
could save.

Usage: ``python benchmarks/bench_engine.py [--runs 1000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml
from timing import Timing, against_target, conditions, count_events, event_floor, timed

from franchise_sim.engine.batch import (
    cyclic_gc_paused,
    plans_on_paper,
    relationships_in_use,
    run_plans,
)
from franchise_sim.engine.runner import simulate
from franchise_sim.model.batch_plan import BatchPlan, plan_batch
from franchise_sim.model.streams import CountQuantiles
from franchise_sim.scenario.files import parse_scenario
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.shelf import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"
HORIZON = 60
RATE_TARGET = 20_000.0
"""Business-years per second per core, at least (issue 11)."""
WALL_TARGET = 0.3
"""Seconds for 1,000 paired runs x 60 months on 2 cores, at most (issue 11)."""


def _plans(runs: int, start: int = 0, scenario: Scenario | None = None) -> BatchPlan:
    scenario = scenario or load_scenario(SCENARIO)
    paper = plans_on_paper(scenario, 1, HORIZON)
    return plan_batch(
        scenario,
        seed=1,
        replications=range(start, start + runs),
        horizon_months=HORIZON,
        on_paper=paper,
    )


def _beside(timing: Timing, floor: Timing) -> str:
    ratio = timing.median / statistics.median(floor.seconds)
    return f"{timing.text()}; {ratio:.1f}x its bare-SimPy floor ({floor.median * 1000:.0f} ms)"


def twin_independents() -> Scenario:
    """``auto_repair`` with its franchise arm replaced by a second, identical independent."""
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["arms"] = {"independent": data["arms"]["independent"], "twin": {"label": "Twin"}}
    return parse_scenario(yaml.safe_dump(data), "auto_repair with twin independents")


def arms_or_replications(runs: int, repeat: int) -> None:
    """Print what a batch's second arm costs at ``runs / 2`` and at ``runs`` replications.

    The arms share the market, the events and their plans; a second arm adds its own business,
    lender and owner. Its cost at two sizes splits it into a part per replication and a part
    per batch: the latter is all that merging a batch's arms into one actor's arrays could save.
    """
    twins = twin_independents()
    plans: dict[tuple[int, int], BatchPlan] = {}
    for size in (runs // 2, runs):
        both = _plans(size, scenario=twins)
        plans[size, 2] = both
        plans[size, 1] = dataclasses.replace(both, units=both.units[:1])
    for plan in plans.values():
        run_plans(plan, ())  # warm-up
    seconds: dict[tuple[int, int], list[float]] = {key: [] for key in plans}
    for _ in range(repeat):  # interleaved: the machine's speed drifts
        for key, plan in plans.items():
            started = time.perf_counter()
            run_plans(plan, ())
            seconds[key].append(time.perf_counter() - started)
    ms = {key: 1000 * statistics.median(values) for key, values in seconds.items()}
    half, whole = (ms[runs // 2, 2] - ms[runs // 2, 1]), (ms[runs, 2] - ms[runs, 1])
    print(
        f"a batch's second arm (an identical independent, medians of {repeat}, interleaved): "
        f"{half:.0f} ms at {runs // 2} replications ({ms[runs // 2, 1]:.0f} ms for one arm), "
        f"{whole:.0f} ms at {runs} ({ms[runs, 1]:.0f} ms for one arm)\n"
        f"  its part per batch, what merging the arms into one actor's arrays could save: "
        f"{2 * half - whole:.0f} ms"
    )


def main() -> None:
    """Time the engine in one process and the target run on two cores; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    arms = len(scenario.arm_names)
    runs = args.runs
    business_years = runs * arms * HORIZON / 12
    print(f"scenario: {SCENARIO.name}, arms: {arms}, horizon: {HORIZON} months, batch: {runs}")
    print(f"conditions: {conditions()}")

    paper = plans_on_paper(scenario, 1, HORIZON)
    used = relationships_in_use(scenario)  # the relationships (and columns) simulate runs with
    draws: dict[str, float] = {}

    def plan_and_run(counts: CountQuantiles) -> Callable[[], object]:
        def step() -> object:
            with cyclic_gc_paused():  # as run_batch does
                started = time.perf_counter()
                plans = _plans(runs)
                draws["plan"] = time.perf_counter() - started
                return run_plans(plans, used, counts=counts)

        return step

    numpy_counts = CountQuantiles()
    compiled_counts = CountQuantiles(compiled=True)
    plan_and_run(numpy_counts)()  # warm-up (and the compiled kernels loaded)
    plan_and_run(compiled_counts)()
    events = count_events(plan_and_run(numpy_counts))
    floor = timed(event_floor(HORIZON, events, processes=10 * runs), args.repeat)
    print(f"bare-SimPy floor: {events:,} events of one batch of {runs} in {floor.text()}")
    for name, counts in (("numpy", numpy_counts), ("numba", compiled_counts)):
        if name == "numba" and not counts.compiled:
            print("numba: not installed (pip install -e .[fast])")
            continue
        cpu: list[float] = []

        def step(counts: CountQuantiles = counts, cpu: list[float] = cpu) -> None:
            started = time.process_time()
            plan_and_run(counts)()
            cpu.append(time.process_time() - started)

        timing = timed(step, args.repeat)
        rate = business_years / timing.median
        cpu_rate = business_years / statistics.median(cpu)
        print(
            f"one core, {name} count quantiles: {runs} paired runs in {_beside(timing, floor)} "
            f"(drawing the plans {draws['plan']:.2f} s of it)\n"
            f"  wall: {against_target(rate, RATE_TARGET, at_most=False, unit=' b-y/s/core')}\n"
            f"  CPU time {statistics.median(cpu):.2f} s: "
            f"{against_target(cpu_rate, RATE_TARGET, at_most=False, unit=' b-y/s/core')}\n"
            f"  the bare-SimPy floor of the same events: "
            f"{business_years / floor.median:,.0f} business-years/s/core"
        )

    arms_or_replications(runs, args.repeat)

    cores = min(2, os.cpu_count() or 1)
    simulate(scenario, runs=runs, workers=cores, horizon_months=HORIZON)  # warm-up
    own_pool = timed(
        lambda: simulate(scenario, runs=runs, workers=cores, horizon_months=HORIZON), args.repeat
    )
    print(
        f"{runs} paired runs x {HORIZON} months on {cores} cores, a pool of its own: "
        f"{_beside(own_pool, floor)}\n"
        f"  {against_target(own_pool.median, WALL_TARGET, at_most=True, unit=' s')} "
        f"(the floor's share on {cores} cores: {floor.median / cores:.2f} s)"
    )
    with ProcessPoolExecutor(max_workers=cores) as pool:
        simulate(scenario, runs=runs, workers=cores, horizon_months=HORIZON, executor=pool)
        warm = timed(
            lambda: simulate(
                scenario, runs=runs, workers=cores, horizon_months=HORIZON, executor=pool
            ),
            args.repeat,
        )
    print(
        f"{runs} paired runs x {HORIZON} months on {cores} cores, a warm pool: "
        f"{_beside(warm, floor)}\n"
        f"  {against_target(warm.median, WALL_TARGET, at_most=True, unit=' s')}"
    )
    print(f"conditions after: {conditions()}")
    del paper


if __name__ == "__main__":
    main()
