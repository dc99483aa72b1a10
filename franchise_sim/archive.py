"""Writing results to a folder: summary.csv, monthly.parquet and manifest.json.

A folder is written completely or not at all: files go to a hidden sibling folder first, which
then replaces the target in one rename. An existing target is replaced only if it holds earlier
results (a manifest.json) or nothing, never an unrelated folder.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from franchise_sim.results import SimulationResults

SUMMARY_FILE = "summary.csv"
MONTHLY_FILE = "monthly.parquet"
MANIFEST_FILE = "manifest.json"


class OutputFolderError(Exception):
    """The output folder cannot be used."""


def manifest(results: SimulationResults, *, source: str | None = None) -> dict[str, Any]:
    """What is needed to replay a run: the resolved scenario, seed, runs, versions, timing."""
    import numpy as np
    import simpy

    from franchise_sim import __version__

    return {
        "franchise_sim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_file": source,
        "scenario_name": results.scenario.name,
        "seed": results.seed,
        "runs": results.runs,
        "horizon_months": results.horizon_months,
        "deterministic": results.deterministic,
        "arms": list(results.arms),
        "run_seconds": round(results.run_seconds, 3),
        "worker_processes": len(results.worker_pids),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "replay": (
            f"franchise-sim run {source or 'SCENARIO'} --runs {results.runs} "
            f"--seed {results.seed} --horizon-months {results.horizon_months}"
            + (" --deterministic" if results.deterministic else "")
        ),
        "scenario": results.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def save_results(
    results: SimulationResults, out_dir: str | Path, *, source: str | None = None
) -> Path:
    """Write the results folder atomically and return its path.

    Raises:
        OutputFolderError: The target exists and is not an earlier results folder, or it
            cannot be written.
    """
    target = Path(out_dir)
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / MANIFEST_FILE).is_file())
    ):
        raise OutputFolderError(
            f"{target}: exists and does not hold franchise-sim results; choose another --out"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; results are meant to be shared
    except OSError as exc:
        raise OutputFolderError(f"{target}: cannot be written ({exc.strerror})") from None
    try:
        results.summary.to_csv(staging / SUMMARY_FILE, index=False, float_format="%.2f")
        results.monthly.to_parquet(staging / MONTHLY_FILE, index=False)
        (staging / MANIFEST_FILE).write_text(
            json.dumps(manifest(results, source=source), indent=2) + "\n", encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputFolderError(f"{target}: cannot be written ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
