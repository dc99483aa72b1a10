"""Benchmark: a million paired runs x 60 months, summary-only, on a local Dask cluster.

Target (issue 11): 1,000,000 paired replications x 60 months of ``scenarios/auto_repair.yaml``
in summary-only mode on a local Dask cluster of this machine (one single-threaded worker
process per core) with peak memory under 2 GB, client and workers together. Prints the wall
time, the rate, and the peak memory: the resident memory of this process and of every process
under it (the nannies and workers of the cluster), sampled every 0.2 s and summed at each
sample, beside the bare-SimPy reference of ``timing.py`` and the bare-SimPy event floor of one
batch (``timing.event_floor``: the events the batch engine fires for it, and no model), both
measured in the same run. Asserts nothing.

A smaller ``--runs`` is extrapolated to a million: the time in proportion to the runs (the
batches are the same size whatever the runs), the memory as what was measured plus what the
client holds per run (the outcome table, closure reasons and event counts: everything else it
holds is flat in runs).

Usage: ``python benchmarks/bench_million.py [--runs 1000000] [--workers N]``
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import psutil
from timing import against_target, conditions, count_events, event_floor, timed

import franchise_sim
from franchise_sim.engine.batch import plans_on_paper, run_batch, scenario_columns
from franchise_sim.engine.executors import dask_cluster
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import summary_batch_size, trajectory_bytes

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"
MILLION = 1_000_000
GB = 1e9
MEMORY_TARGET_GB = 2.0
"""Issue 11: a million runs summary-only with peak memory under 2 GB, client and workers."""


class MemorySampler:
    """Peak resident memory of this process and of all its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self._me = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak_total = 0
        self.peak_client = 0
        self.peak_largest_worker = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        client = self._me.memory_info().rss
        others = []
        for child in self._me.children(recursive=True):
            try:
                others.append(child.memory_info().rss)
            except psutil.Error:  # ended between the listing and the reading
                continue
        self.peak_client = max(self.peak_client, client)
        self.peak_total = max(self.peak_total, client + sum(others))
        self.peak_largest_worker = max(self.peak_largest_worker, max(others, default=0))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def held_per_run(results: SimulationResults) -> float:
    """Bytes the client holds per paired run: outcomes, closure reasons, event counts."""
    held = sum(values.nbytes for values in results.outcomes.values())
    held += results.closure_reasons.nbytes
    held += sum(counts.nbytes for counts in results.shock_counts.values())
    return held / results.runs


def main() -> None:
    """Run the summary-only simulation on a local Dask cluster and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=MILLION)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--horizon-months", type=int, default=60)
    args = parser.parse_args()
    scenario = franchise_sim.load_scenario(SCENARIO)
    horizon, arms = args.horizon_months, len(scenario.arm_names)
    print(f"scenario: {SCENARIO.name}, arms: {arms}, horizon: {horizon} months, summary-only")
    print(f"conditions: {conditions()}")
    width = len(scenario_columns(scenario))  # the columns a run of it keeps
    books = trajectory_bytes(arms, args.runs, horizon, width)
    largest = summary_batch_size(arms, horizon, width)
    print(
        f"{args.runs:,} paired runs; their monthly books ({width} columns) would take "
        f"{books / GB:,.1f} GB; batches of at most {largest:,} runs"
    )
    batch = min(largest, args.runs)
    paper = plans_on_paper(scenario, 1, horizon)
    events = count_events(lambda: run_batch(scenario, 1, range(batch), horizon, False, paper))
    floor = timed(event_floor(horizon, events, processes=10 * batch), 1)
    floor_run = floor.median * (args.runs / batch) / args.workers
    print(
        f"bare-SimPy floor: {events:,} events (one batch of {batch:,}) in {floor.text()}; "
        f"for {args.runs:,} runs on {args.workers} workers about {floor_run:,.1f} s"
    )
    with MemorySampler() as memory:
        started = time.perf_counter()
        with dask_cluster(workers=args.workers) as cluster:
            up = time.perf_counter() - started
            print(f"on {cluster.where}, started in {up:.1f} s")
            franchise_sim.simulate(scenario, runs=20, horizon_months=horizon, workers=1)  # warm
            results = franchise_sim.simulate(
                scenario,
                runs=args.runs,
                horizon_months=horizon,
                executor=cluster.client,
                summary_only=True,
            )
        wall = time.perf_counter() - started
    business_years = args.runs * arms * horizon / 12
    print(
        f"simulation: {results.run_seconds:,.1f} s ({wall:,.1f} s with the cluster's start and "
        f"close) = {business_years / results.run_seconds:,.0f} business-years per second on "
        f"{args.workers} workers ({business_years / results.run_seconds / args.workers:,.0f} "
        f"per worker; the floor allows {floor_run:,.1f} s)"
    )
    peak = against_target(memory.peak_total / GB, MEMORY_TARGET_GB, at_most=True, unit=" GB")
    print(
        f"peak memory: {peak} for client and workers together "
        f"(client {memory.peak_client / GB:.2f} GB, largest other process "
        f"{memory.peak_largest_worker / GB:.2f} GB)"
    )
    if args.runs < MILLION:
        scale = MILLION / args.runs
        more = held_per_run(results) * (MILLION - args.runs)
        print(
            f"extrapolated to {MILLION:,} runs: about {results.run_seconds * scale / 60:,.0f} "
            f"minutes; peak memory about {(memory.peak_total + more) / GB:.2f} GB (what was "
            f"measured plus {held_per_run(results):,.0f} bytes a run the client holds)"
        )
    print(franchise_sim.compare(results).to_text().splitlines()[0])


if __name__ == "__main__":
    main()
