"""Changing a scenario by dotted paths: "what if the royalty were 8%?" as one validated step.

``apply_changes`` is behind ``Scenario.with_changes``. A path names a field the way the scenario
file writes it (``market.households``, ``arms.franchise.financing.owner_equity_usd``). Under an
arm with franchise terms the ``franchise.`` step may be left out, so
``arms.franchise.royalty_rate`` means ``arms.franchise.franchise.royalty_rate``. A field an arm
does not override yet gets an override. The result is a new scenario validated like a file; the
original is never touched. A path may step into a distribution (``spend_per_visit_usd.mode``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from franchise_sim.scenario import ArmSpec, FranchiseTerms, Scenario
from franchise_sim.scenario_file import (
    ScenarioError,
    _allowed_keys,
    _explain,
    _fail,
    _field,
    _model_at,
)

SOURCE = "with_changes"
"""How errors from a change name their origin (there is no file)."""

Path = tuple[str, ...]


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A new scenario with the given fields set, validated as a whole.

    Args:
        scenario: The scenario to start from; it is not changed.
        changes: Dotted field paths and their new values. A value may be a number, text, a
            distribution (a model or a mapping with ``dist``) or a whole section.

    Returns:
        The changed, validated scenario.

    Raises:
        ScenarioError: A path names no field of the scenario, or a new value is invalid; the
            message names the path and says what is wrong.
    """
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    problems: list[str] = []
    for dotted, value in changes.items():
        try:
            path = expand_path(scenario, dotted)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        _set(data, path, _plain(value))
    if problems:
        raise ScenarioError("\n".join(problems), problems)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _fail(SOURCE, _explain(exc.errors(), data, None)) from None


def expand_path(scenario: Scenario, dotted: str) -> Path:
    """The full path a dotted path names, checked against the schema and the scenario's arms.

    Args:
        scenario: The scenario the path belongs to (its arms and distributions matter).
        dotted: A path such as ``arms.franchise.royalty_rate``.

    Returns:
        The path as its parts, with the ``franchise`` step filled in where it was left out.

    Raises:
        ScenarioError: The path names no field; the message suggests the closest one.
    """
    parts: list[str] = dotted.split(".") if dotted else []
    if not parts or any(not part for part in parts):
        raise ScenarioError(f"{SOURCE}: `{dotted}` is not a dotted field path")
    if parts[0] == "arms" and len(parts) >= 2:
        arm = parts[1]
        if arm not in scenario.arms:
            raise ScenarioError(
                f"{SOURCE}: arms.{arm}: no such arm; the arms are "
                + ", ".join(f"`{name}`" for name in scenario.arm_names)
            )
        if len(parts) >= 3 and parts[2] not in ArmSpec.model_fields:
            has_terms = scenario.arms[arm].franchise is not None
            if parts[2] not in FranchiseTerms.model_fields:
                known = [*ArmSpec.model_fields, *(FranchiseTerms.model_fields if has_terms else ())]
                raise ScenarioError(
                    f"{SOURCE}: {'.'.join(parts[:3])}: " + _unknown(parts[2], known)
                )
            if not has_terms:
                raise ScenarioError(f"{SOURCE}: {dotted}: the `{arm}` arm has no franchise terms")
            parts.insert(2, "franchise")
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    _check(tuple(parts), data)
    return tuple(parts)


def value_at(scenario: Scenario, dotted: str) -> Any:
    """The value a dotted path has in the scenario, arms resolved against the shared sections.

    ``arms.franchise.financing.owner_equity_usd`` gives the franchise arm's equity whether the
    arm overrides it or takes the shared value.

    Args:
        scenario: The scenario to read.
        dotted: A path as ``with_changes`` accepts it.

    Returns:
        A number, text, a distribution model or a section model.

    Raises:
        ScenarioError: The path names no field.
    """
    path = expand_path(scenario, dotted)
    node: Any = scenario
    if path[0] == "arms" and len(path) >= 3:
        node, path = scenario.arm(path[1]), path[2:]
    elif path[0] == "arms":
        return scenario.arms[path[1]] if len(path) == 2 else scenario.arms
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def _check(path: Path, data: dict[str, Any]) -> None:
    """Raise a `ScenarioError` unless every step of ``path`` is a field the schema allows."""
    node: Any = data
    for depth, part in enumerate(path):
        here = path[:depth]
        model = _model_at(Scenario, here, data)
        if here == ("arms",):
            model = None  # the arm names were checked by the caller
        elif model is not None and _field(model, part) is None:
            raise ScenarioError(
                f"{SOURCE}: {'.'.join(path[: depth + 1])}: " + _unknown(part, _allowed_keys(model))
            )
        elif model is None and not (isinstance(node, dict) and part in node):
            where = ".".join(here)
            if isinstance(node, dict) and node:
                keys = ", ".join(f"`{k}`" for k in node)
                raise ScenarioError(f"{SOURCE}: {where} has no `{part}`; it has {keys}")
            raise ScenarioError(f"{SOURCE}: {where} is a single value; it has no `{part}`")
        node = node.get(part) if isinstance(node, dict) else None


def _unknown(key: str, allowed: Sequence[str]) -> str:
    """Say a field is unknown, suggesting the closest allowed one or listing them."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean `{close[0]}`?"
    return "unknown field; the fields here are " + ", ".join(f"`{k}`" for k in allowed)


def _set(data: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``path`` in nested mappings, creating the mappings an arm override needs."""
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _plain(value: Any) -> Any:
    """A value as the scenario data holds it: models as mappings, numpy scalars as Python."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return value.item()
    return value
