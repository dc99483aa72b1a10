"""Shared fixtures: the shipped scenarios and small variants of them built in Python."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from franchise_sim.engine.pool import release_workers
from franchise_sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
AUTO_REPAIR = ROOT / "scenarios" / "auto_repair.yaml"
BASE = ROOT / "tests" / "data" / "auto_repair_before_v2.yaml"
"""The auto repair scenario as shipped before model v2, every v2 mechanism off: the base
against which a test switches one mechanism on (the shipped file has them all on)."""

Variant = Callable[[dict[str, Any]], Scenario]


@pytest.fixture(autouse=True)
def no_kept_workers() -> Iterator[None]:
    """Each test starts and ends with no pool kept between runs (`engine.pool.kept_pool`).

    A kept worker holds the code of when it was forked, so an earlier test's pool would not
    see this test's monkeypatches, and a test counting pools or processes counts its own.
    """
    release_workers()
    yield
    release_workers()


def printed_by(code: str, timeout: float = 120.0) -> str:
    """What a fresh Python process running ``code`` prints, stripped (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=timeout
    )
    return done.stdout.strip()


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in nested dicts, creating mappings on the way."""
    keys = path.split(".")
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


@pytest.fixture(scope="session")
def auto_repair_data() -> dict[str, Any]:
    """The test base (`BASE`: auto repair before model v2) as plain data."""
    data: dict[str, Any] = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def auto_repair(auto_repair_data: dict[str, Any]) -> Scenario:
    """The validated test base (auto repair before model v2)."""
    return Scenario.model_validate(auto_repair_data)


@pytest.fixture(scope="session")
def shipped_auto_repair() -> Scenario:
    """The shipped auto repair scenario, every model v2 mechanism on."""
    return Scenario.model_validate(yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def variant(auto_repair_data: dict[str, Any]) -> Variant:
    """Build the test base (auto repair before model v2) with fields changed by dotted path."""

    def build(changes: dict[str, Any]) -> Scenario:
        data = copy.deepcopy(auto_repair_data)
        for path, value in changes.items():
            set_path(data, path, value)
        return Scenario.model_validate(data)

    return build
