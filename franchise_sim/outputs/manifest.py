"""What a folder records about the run that made it: enough to replay it exactly.

The resolved scenario, the seed, the run settings, the versions of franchise-sim and of what it
runs on, and the command line that replays the run (``manifest``) or the sweep
(``sweep_manifest``).
"""

from __future__ import annotations

import platform
import shlex
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from franchise_sim.analysis.comparison import choose_baseline
from franchise_sim.engine.results import SimulationResults, tool_version
from franchise_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


def manifest(
    results: SimulationResults, *, source: str | None = None, baseline: str | None = None
) -> dict[str, Any]:
    """What is needed to replay a run: the resolved scenario, seed, runs, versions, timing.

    Args:
        results: The results of the run.
        source: The scenario file simulated, for the replay command.
        baseline: The arm the others are compared with (``independent`` if None), recorded so
            that figures and reports drawn again from the folder compare the same way.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    import numpy as np
    import simpy

    chosen = choose_baseline(results.arms, baseline)
    default = choose_baseline(results.arms)

    return {
        "franchise_sim_version": tool_version(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_file": source,
        "scenario_name": results.scenario.name,
        "seed": results.seed,
        "runs": results.runs,
        "horizon_months": results.horizon_months,
        "deterministic": results.deterministic,
        "summary_only": results.summary_only,
        "arms": list(results.arms),
        "baseline": chosen,
        "run_seconds": round(results.run_seconds, 3),
        "worker_processes": len(results.worker_pids),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "replay": (
            f"franchise-sim run {source or 'SCENARIO'} --runs {results.runs} "
            f"--seed {results.seed} --horizon-months {results.horizon_months}"
            + (" --deterministic" if results.deterministic else "")
            + (" --summary-only" if results.summary_only else "")
            + (f" --baseline {shlex.quote(chosen)}" if chosen != default else "")
        ),
        "scenario": results.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def sweep_manifest(
    frame: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    source: str | None = None,
    charts: Sequence[str] = (),
) -> dict[str, Any]:
    """What is needed to replay a sweep: grid, seed, runs, horizon, version and a command line."""
    attrs = frame.attrs
    grid: dict[str, list[Any]] = attrs["grid"]
    options = [
        "--set " + shlex.quote(f"{path}={','.join(map(_yaml, values))}")
        for path, values in grid.items()
    ]
    options += [
        f"--runs {attrs['runs']}",
        f"--seed {attrs['seed']}",
        f"--horizon-months {attrs['horizon_months']}",
        *(f"--metric {metric}" for metric in charts),
    ]
    arms = attrs.get("arms") or []
    baseline = attrs.get("baseline")
    if baseline is not None and arms and baseline != choose_baseline(arms):
        options.append(f"--baseline {shlex.quote(baseline)}")
    record: dict[str, Any] = {
        "franchise_sim_version": tool_version(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": "sweep",
        "scenario_file": source,
        "scenario_name": attrs.get("scenario"),
        "grid": grid,
        "points": attrs["points"],
        "seed": attrs["seed"],
        "runs": attrs["runs"],
        "horizon_months": attrs["horizon_months"],
        "arms": attrs.get("arms"),
        "baseline": attrs.get("baseline"),
        "reached": attrs.get("reached"),
        "charts": list(charts),
        "run_seconds": attrs.get("run_seconds"),
        "replay": f"franchise-sim sweep {shlex.quote(source or 'SCENARIO')} " + " ".join(options),
    }
    if scenario is not None:
        record["scenario"] = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return record


def _yaml(value: Any) -> str:
    """A value as a YAML scalar that reads back as the same value."""
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()
