"""What drove the outcomes: each run's realised inputs, and what sets the worst runs apart.

The model draws every uncertain input of a replication from uniforms keyed by the seed, the
replication and the input, so the inputs a run met can be recovered after the fact by drawing
its plan again: nothing extra is stored and nothing is re-simulated.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from franchise_sim.engine.results import SimulationResults, is_month_counter
from franchise_sim.model.books import SHOCK_NAMES
from franchise_sim.model.plan import plan_replication

if TYPE_CHECKING:
    import pandas as pd


def event_columns(results: SimulationResults) -> tuple[str, ...]:
    """Random events counted per run in the results summary.

    The shared ones, then those the relationships count (brand shocks hit franchises only).
    """
    counted = (name for name in results.counter_names if not is_month_counter(name))
    return (*SHOCK_NAMES, *counted)


def realised_inputs(results: SimulationResults) -> pd.DataFrame:
    """The inputs each run actually met, one row per (arm, replication).

    Columns are the realised plan: ``market.*`` and ``events.*`` (shared by every arm of a
    replication) and the arm's own numbers (``spend_per_visit_usd``, ``quality_potential``,
    ``patience_months``, ``franchise.royalty_rate`` ...). Only inputs that differ between runs
    are kept: a fixed input explains nothing.

    Args:
        results: What ``simulate`` returned.

    Returns:
        A tidy table with ``arm`` and ``replication`` first.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for replication in range(results.runs):
        plan = plan_replication(
            results.scenario,
            seed=results.seed,
            replication=replication,
            horizon_months=results.horizon_months,
            deterministic=results.deterministic,
        )
        shared = _numbers(plan.market, "market.") | _numbers(plan.events, "events.")
        for unit in plan.units:
            own = _numbers(unit, "")
            if unit.franchise is not None:
                own |= _numbers(unit.franchise, "franchise.")
            rows.append({"arm": unit.arm, "replication": replication} | shared | own)
    table = pd.DataFrame(rows)
    varying = [
        c for c in table.columns[2:] if table.groupby("arm")[c].nunique(dropna=True).max() > 1
    ]
    order = {arm: i for i, arm in enumerate(results.arms)}
    table = table.sort_values(
        ["arm", "replication"], key=lambda c: c.map(order) if c.name == "arm" else c
    )
    return table[["arm", "replication", *varying]].reset_index(drop=True)


def _numbers(plan: Any, prefix: str) -> dict[str, float]:
    """The numeric fields of a plan dataclass, named with ``prefix``."""
    return {
        prefix + field.name: float(value)
        for field in dataclasses.fields(plan)
        if isinstance(value := getattr(plan, field.name), int | float)
        and not isinstance(value, bool)
    }


def worst_runs(
    results: SimulationResults, *, metric: str = "npv", share: float = 0.1
) -> pd.DataFrame:
    """How the worst runs of each arm differ from the others, input by input and event by event.

    The worst runs of an arm are those whose ``metric`` is at or below its ``share`` quantile.
    For every realised input and event count, the table gives the mean over the worst runs and
    over the others, and the worst runs' mean percentile among all of the arm's runs: 0.5 is
    typical, near 0 means the worst runs met low values of it, near 1 high values.

    Args:
        results: What ``simulate`` returned.
        metric: A numeric column of ``results.summary`` (``npv``, ``final_cash`` ...).
        share: The share of runs counted as worst, between 0 and 1.

    Returns:
        One row per (arm, driver), with columns ``arm``, ``driver``, ``worst_mean``,
        ``others_mean`` and ``worst_percentile``; within an arm the drivers that set the worst
        runs apart the most come first.

    Raises:
        ValueError: ``share`` is not strictly between 0 and 1, or ``metric`` is not numeric.
    """
    import pandas as pd

    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be strictly between 0 and 1, not {share}")
    summary = results.summary
    if metric not in summary.columns or not pd.api.types.is_numeric_dtype(summary[metric]):
        raise ValueError(f"{metric!r} is not a numeric column of the results summary")
    table = realised_inputs(results).merge(
        summary[["arm", "replication", metric, *event_columns(results)]], on=["arm", "replication"]
    )
    drivers = [c for c in table.columns if c not in ("arm", "replication", metric)]
    rows: list[dict[str, Any]] = []
    for arm in results.arms:
        runs = table[table["arm"] == arm]
        values = runs[metric].to_numpy(dtype=float)
        worst = values <= np.nanquantile(values, share)
        for driver in drivers:
            column = runs[driver].astype(float)
            if column.nunique() < 2:
                continue
            percentile = column.rank(pct=True, method="average").to_numpy()
            rows.append(
                {
                    "arm": arm,
                    "driver": driver,
                    "worst_mean": float(column[worst].mean()),
                    "others_mean": float(column[~worst].mean()),
                    "worst_percentile": float(percentile[worst].mean()),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["arm", "driver", "worst_mean", "others_mean", "worst_percentile"]
    )
    frame["_apart"] = (frame["worst_percentile"] - 0.5).abs()
    frame["_arm"] = frame["arm"].map({arm: i for i, arm in enumerate(results.arms)})
    frame = frame.sort_values(["_arm", "_apart"], ascending=[True, False])
    return frame.drop(columns=["_apart", "_arm"]).reset_index(drop=True)
