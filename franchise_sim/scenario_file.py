"""Reading scenario files (placeholder: full error reporting in progress)."""

from __future__ import annotations

from pathlib import Path

import yaml

from franchise_sim.scenario import Scenario


class ScenarioError(Exception):
    """A scenario that cannot be used; the message names the file, field and line."""


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return Scenario.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
