"""Changing a scenario by dotted paths: "what if the royalty were 8%?" as one validated step.

``with_changes`` makes a changed copy of a scenario (changing frozen data is a function). A path
names a field the way the scenario file writes it (``market.households``,
``arms.franchise.financing.owner_equity_usd``). Under an arm with franchise terms the
``franchise.`` step may be left out, so ``arms.franchise.royalty_rate`` means
``arms.franchise.franchise.royalty_rate``. A field an arm does not override yet gets an override.
The result is a new scenario validated like a file; the original is never touched. A path may step
into a distribution (``spend_per_visit_usd.mode``).

A change says which arms it reaches (``reached_arms``) and never skips one silently. A path into
a shared section (``financing.owner_equity_usd``) reaches the arms that take the shared value;
when an arm sets its own value there the change is refused, naming the arm and the paths to use
instead: ``arms.*.financing.owner_equity_usd`` sets the field in every arm (in the shared section
for the arms that take it from there, and in each arm's own value for the others), and
``arms.independent.financing.owner_equity_usd`` in one arm. Under ``arms.*`` a franchise term
(``arms.*.royalty_rate``) is set in every arm with franchise terms. Some shared fields are used
by one kind of arm only, and reach only those arms: a franchise arm takes its concept from
``franchise.template`` (of ``concept`` it uses only ``adaptation_months``), and only a franchise
arm starts from ``market.local_taste_gap``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from franchise_sim.scenario.errors import ScenarioError, scenario_error
from franchise_sim.scenario.schema import (
    FINANCING_FIELDS,
    FORMAT_FIELDS,
    OVERRIDABLE_SECTIONS,
    ArmSpec,
    FranchiseTerms,
    Scenario,
)
from franchise_sim.scenario.validation import allowed_keys, explain, field_for, model_at

SOURCE = "with_changes"
"""How errors from a change name their origin (there is no file)."""

EVERY_ARM = "*"
"""The arm step of a path that names a field in every arm: ``arms.*.financing.owner_equity_usd``."""

TEMPLATE_CONCEPT_FIELDS = frozenset({"adaptation_months"})
"""The fields of ``concept`` a franchise arm uses; it takes the rest from ``franchise.template``."""

FRANCHISE_ONLY_FIELDS = frozenset({("market", "local_taste_gap")})
"""Shared fields only franchise arms use (an independent starts from its concept's mismatch)."""

Path = tuple[str, ...]

ArmField = tuple[str, Path]
"""A field of one arm: the arm's name and the path as the arm sees it (``financing.x``)."""


@dataclass(frozen=True, slots=True)
class _Reach:
    """Where a change of one dotted path writes, and the arms it would miss."""

    targets: tuple[tuple[Path, tuple[str, ...]], ...]  # a path written, the arms that take it
    missed: tuple[tuple[str, tuple[Path, ...]], ...]  # an arm, its own values the change misses


def with_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A new scenario with the given fields set, validated as a whole.

    Args:
        scenario: The scenario to start from; it is not changed.
        changes: Dotted field paths and their new values. A value may be a number, text, a
            distribution (a model or a mapping with ``dist``) or a whole section. A path under
            ``arms.*`` sets the field in every arm that has it (see ``target_paths``).

    Returns:
        The changed, validated scenario.

    Raises:
        ScenarioError: A path names no field of the scenario, a shared path would miss an arm
            that sets its own value there, or a new value is invalid; the message names the
            path and says what is wrong (and, for a missed arm, which paths to use).
    """
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    problems: list[str] = []
    for dotted, value in changes.items():
        try:
            paths = target_paths(scenario, dotted)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        for path in paths:
            _set(data, path, _plain(value))
    if problems:
        raise ScenarioError("\n".join(problems), problems)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(SOURCE, explain(exc.errors(), data, None)) from None


def target_paths(scenario: Scenario, dotted: str) -> tuple[Path, ...]:
    """The full paths in the scenario's data that a change of ``dotted`` writes.

    One path, except under ``arms.*``: there the shared section's path when some arm takes
    the field from it, and the arm's own path for each arm that sets its own value.

    Args:
        scenario: The scenario the path belongs to.
        dotted: A path as ``with_changes`` accepts it.

    Returns:
        The paths as their parts, the ``franchise`` step filled in where it was left out.

    Raises:
        ScenarioError: The path names no field, or it is a shared path that some arm sets its
            own value of (the change would not reach that arm); the message names the arms and
            the paths to use.
    """
    reach = _reach(scenario, dotted)
    if reach.missed:
        raise ScenarioError(_missed_message(scenario, dotted, reach.missed))
    return tuple(path for path, _ in reach.targets)


def reached_arms(scenario: Scenario, dotted: str) -> tuple[str, ...]:
    """The arms a change of ``dotted`` reaches, in the scenario's arm order.

    ``arms.franchise.royalty_rate`` reaches ``franchise``; ``market.households`` every arm;
    ``concept.quality`` only the arms without franchise terms; ``arms.*.financing.x`` every
    arm. For a shared path that some arm sets its own value of (a change ``with_changes``
    refuses) these are the arms that take the shared value.

    Args:
        scenario: The scenario the path belongs to.
        dotted: A path as ``with_changes`` accepts it.

    Returns:
        The names of the arms whose value the change sets.

    Raises:
        ScenarioError: The path names no field.
    """
    reached = {arm for _, arms in _reach(scenario, dotted).targets for arm in arms}
    return tuple(arm for arm in scenario.arm_names if arm in reached)


def changed_fields(scenario: Scenario, dotted: str) -> frozenset[ArmField]:
    """The fields a change of ``dotted`` sets, each as an arm and the path as the arm sees it.

    ``financing.owner_equity_usd`` and ``arms.independent.financing.owner_equity_usd`` both set
    ``("independent", ("financing", "owner_equity_usd"))``; a field outside the arms
    (``market.households``) is set for every arm that uses it. Two changes that set the same
    field of an arm, or one inside the other, cannot be varied apart.

    Raises:
        ScenarioError: As ``target_paths``.
    """
    reach = _reach(scenario, dotted)
    if reach.missed:
        raise ScenarioError(_missed_message(scenario, dotted, reach.missed))
    return frozenset(
        (arm, path[2:] if path[0] == "arms" else path)
        for path, arms in reach.targets
        for arm in arms
    )


def expand_path(scenario: Scenario, dotted: str) -> Path:
    """The full path a dotted path names, checked against the schema and the scenario's arms.

    Args:
        scenario: The scenario the path belongs to (its arms and distributions matter).
        dotted: A path such as ``arms.franchise.royalty_rate``, naming one arm (a path under
            ``arms.*`` names several; see ``target_paths``).

    Returns:
        The path as its parts, with the ``franchise`` step filled in where it was left out.

    Raises:
        ScenarioError: The path names no field; the message suggests the closest one.
    """
    parts = _parts(dotted)
    if parts[0] == "arms" and len(parts) >= 2:
        arm = parts[1]
        if arm == EVERY_ARM:
            raise ScenarioError(
                f"{SOURCE}: {dotted}: names a field of every arm; target_paths gives each path"
            )
        if arm not in scenario.arms:
            raise ScenarioError(
                f"{SOURCE}: arms.{arm}: no such arm; the arms are "
                + ", ".join(f"`{name}`" for name in scenario.arm_names)
                + f" (or `{EVERY_ARM}` for every arm)"
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
    arm overrides it or takes the shared value; ``arms.*.financing.owner_equity_usd`` gives
    each arm's, by arm name.

    Args:
        scenario: The scenario to read.
        dotted: A path as ``with_changes`` accepts it.

    Returns:
        A number, text, a distribution model or a section model; for a path under ``arms.*``
        a mapping from each arm it reaches to that arm's value.

    Raises:
        ScenarioError: The path names no field.
    """
    parts = _parts(dotted)
    if parts[:2] == ["arms", EVERY_ARM]:
        rest = ".".join(parts[2:])
        return {
            arm: value_at(scenario, f"arms.{arm}.{rest}") for arm in reached_arms(scenario, dotted)
        }
    path = expand_path(scenario, dotted)
    node: Any = scenario
    if path[0] == "arms" and len(path) >= 3:
        node, path = scenario.arm(path[1]), path[2:]
    elif path[0] == "arms":
        return scenario.arms[path[1]] if len(path) == 2 else scenario.arms
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def _parts(dotted: str) -> list[str]:
    """The steps of a dotted path, refused when it is empty or has an empty step."""
    parts: list[str] = dotted.split(".") if dotted else []
    if not parts or any(not part for part in parts):
        raise ScenarioError(f"{SOURCE}: `{dotted}` is not a dotted field path")
    return parts


def _reach(scenario: Scenario, dotted: str) -> _Reach:
    """Where a change of ``dotted`` writes, which arms take each path, and which it misses."""
    parts = _parts(dotted)
    if parts[:2] == ["arms", EVERY_ARM]:
        return _every_arm(scenario, dotted, parts[2:])
    path = expand_path(scenario, dotted)
    if path[0] == "arms":
        return _Reach(((path, scenario.arm_names if len(path) == 1 else (path[1],)),), ())
    users = [arm for arm in scenario.arm_names if _uses(scenario, arm, path)]
    if path[0] not in OVERRIDABLE_SECTIONS:
        return _Reach(((path, tuple(users)),), ())
    own = {arm: _own_values(scenario, arm, path) for arm in users}
    return _Reach(
        ((path, tuple(arm for arm in users if not own[arm])),),
        tuple((arm, own[arm]) for arm in users if own[arm]),
    )


def _every_arm(scenario: Scenario, dotted: str, rest: list[str]) -> _Reach:
    """The reach of ``arms.*.<rest>``: the field in every arm that has it."""
    if not rest:
        raise ScenarioError(
            f"{SOURCE}: {dotted}: name a field after `arms.*`, "
            "e.g. arms.*.financing.owner_equity_usd"
        )
    head, inner = rest[0], ".".join(rest)
    targets: list[tuple[Path, tuple[str, ...]]] = []
    if head in OVERRIDABLE_SECTIONS:
        shared = expand_path(scenario, inner)
        takers: list[str] = []
        for arm in scenario.arm_names:
            if not _uses(scenario, arm, shared):
                continue
            if _own_values(scenario, arm, shared):
                targets.append((expand_path(scenario, f"arms.{arm}.{inner}"), (arm,)))
            else:
                takers.append(arm)
        if takers:
            targets.insert(0, (shared, tuple(takers)))
    elif head in ArmSpec.model_fields or head in FranchiseTerms.model_fields:
        terms = head == "franchise" or head not in ArmSpec.model_fields
        for arm in scenario.arm_names:
            if not (terms and scenario.arms[arm].franchise is None):
                targets.append((expand_path(scenario, f"arms.{arm}.{inner}"), (arm,)))
    elif head in Scenario.model_fields:
        raise ScenarioError(
            f"{SOURCE}: {dotted}: no arm sets its own `{head}`, every arm takes the shared one; "
            f"use {inner}"
        )
    else:
        known = [*ArmSpec.model_fields, *FranchiseTerms.model_fields]
        raise ScenarioError(f"{SOURCE}: arms.{EVERY_ARM}.{head}: " + _unknown(head, known))
    if not targets:  # every scenario has an independent and a franchise arm; kept as a guard
        raise ScenarioError(f"{SOURCE}: {dotted}: no arm has this field")
    return _Reach(tuple(targets), ())


def _uses(scenario: Scenario, arm: str, path: Path) -> bool:
    """Whether ``arm`` uses the shared field at ``path`` at all.

    A franchise arm takes its concept from the template, unless its ``template`` mechanism is
    switched off; the local taste gap is where a template starts, and an independent's own
    starting mismatch depends on it only when the two are correlated.
    """
    terms = scenario.arms[arm].franchise
    own_concept = terms is None or not terms.mechanisms.template
    if path[0] == "concept" and len(path) > 1 and path[1] not in TEMPLATE_CONCEPT_FIELDS:
        return own_concept
    if path[:2] in FRANCHISE_ONLY_FIELDS:
        correlated = bool(scenario.arm(arm).concept.mismatch_taste_gap_correlation)
        return not own_concept or correlated
    return True


def _own_values(scenario: Scenario, arm: str, path: Path) -> tuple[Path, ...]:
    """The paths where ``arm`` sets its own value of the shared field (or section) at ``path``.

    An arm's override replaces a field whole, so an override of ``spend_per_visit_usd`` is
    the arm's own value of ``spend_per_visit_usd.mode`` too. A franchise arm's format
    (``franchise.format``) is its own value of the fields it gives; with the ``format`` or
    ``financing`` mechanism switched off, the arm's own values of those fields are dropped and
    it takes the shared ones.
    """
    spec = scenario.arms[arm]
    terms, section = spec.franchise, path[0]
    override = getattr(spec, section, None)
    fields = (
        list(override.model_dump(by_alias=True, exclude_none=True))
        if isinstance(override, BaseModel)
        else []
    )
    found: list[Path] = []
    if terms is not None:
        if not terms.mechanisms.format:
            fields = [f for f in fields if f not in FORMAT_FIELDS.get(section, ())]
        if not terms.mechanisms.financing and section in FINANCING_FIELDS:
            held = FINANCING_FIELDS[section]
            fields = [] if held is None else [f for f in fields if f not in held]
        if terms.mechanisms.format and terms.format is not None:
            given = terms.format.model_dump(by_alias=True, exclude_none=True)
            found += [
                ("arms", arm, "franchise", "format", field)
                for field in FORMAT_FIELDS.get(section, ())
                if field in given
            ]
    found += [("arms", arm, section, field) for field in fields]
    return tuple(found) if len(path) == 1 else tuple(p for p in found if p[-1] == path[1])


def _missed_message(
    scenario: Scenario, dotted: str, missed: Sequence[tuple[str, tuple[Path, ...]]]
) -> str:
    """Why a shared path is refused: the arms it would miss, and the paths to use instead."""
    arms = [arm for arm, _ in missed]
    own = ", ".join(".".join(path) for _, paths in missed for path in paths)
    named = " and ".join(f"`{arm}`" for arm in arms)
    takers = [arm for arm in scenario.arm_names if arm not in arms]
    one = (takers or arms)[0]
    who = (
        f"arm {named} sets its own value"
        if len(arms) == 1
        else f"arms {named} set their own values"
    )
    them = "it" if len(arms) == 1 else "them"
    return (
        f"{SOURCE}: {dotted}: {who} ({own}), so this change would not reach {them}; "
        f"use arms.{EVERY_ARM}.{dotted} to set it in every arm, or arms.{one}.{dotted} for one arm"
    )


def _check(path: Path, data: dict[str, Any]) -> None:
    """Raise a `ScenarioError` unless every step of ``path`` is a field the schema allows."""
    node: Any = data
    for depth, part in enumerate(path):
        here = path[:depth]
        model = model_at(Scenario, here, data)
        if here == ("arms",):
            model = None  # the arm names were checked by the caller
        elif model is not None and field_for(model, part) is None:
            raise ScenarioError(
                f"{SOURCE}: {'.'.join(path[: depth + 1])}: " + _unknown(part, allowed_keys(model))
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
    """A value as the scenario data holds it: models as mappings, numpy scalars as Python.

    Mappings and lists are copied, so a value set at several paths, or stepped into by a later
    change, never changes the caller's object or another path's value.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return value.item()
    if isinstance(value, dict | list):
        return copy.deepcopy(value)
    return value
