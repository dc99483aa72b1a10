"""Validation errors in the user's words: pydantic's errors walked back onto the data and its YAML.

Every problem says where it is (line, dotted field) and what would be accepted. The schema is also
navigated here by dotted path (`model_at`, `field_for`, `allowed_keys`), for changes as much as
for files.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from annotated_types import MaxLen, MinLen
from pydantic import BaseModel
from pydantic_core import ErrorDetails
from yaml.nodes import Node

from franchise_sim.scenario.distributions import Distribution
from franchise_sim.scenario.errors import SHOWN_CHARS, Problem, safe_text
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.yaml_source import DataPath, dotted, line_at, raw_text_at

# --- pydantic errors to messages about the user's data -----------------------------------------


def _dist_names() -> tuple[str, ...]:
    """The `dist` tags the schema accepts, read from the distribution models."""
    names: list[str] = []
    for member in _union_members(Distribution):
        if isinstance(member, type) and issubclass(member, BaseModel):
            names.extend(typing.get_args(member.model_fields["dist"].annotation))
    return tuple(names)


def _union_members(annotation: Any) -> list[Any]:
    """Every member of a (nested, possibly ``Annotated``) union, or the type itself."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members: list[Any] = []
        for arg in typing.get_args(annotation):
            members.extend(_union_members(arg))
        return members
    return [annotation]


def _as_model(annotation: Any, data: Any) -> type[BaseModel] | None:
    """The model an annotation applies to ``data``: picks a distribution by its `dist`."""
    models = [
        m for m in _union_members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)
    ]
    if len(models) == 1:
        return models[0]
    if isinstance(data, dict):
        for model in models:
            dist = model.model_fields.get("dist")
            if dist is not None and data.get("dist") in typing.get_args(dist.annotation):
                return model
    return None


def model_at(model: type[BaseModel], path: DataPath, data: Any) -> type[BaseModel] | None:
    """The model that validates the mapping found at ``path`` in the data, if any."""
    annotation: Any = model
    for part in path:
        current = _as_model(annotation, data)
        if current is not None:
            field = field_for(current, part)
            if field is None:
                return None
            annotation = current.model_fields[field].annotation
        else:
            members = _union_members(annotation)
            containers = [m for m in members if typing.get_origin(m) in (dict, tuple, list)]
            if not containers:
                return None
            args = typing.get_args(containers[0])
            annotation = args[-1] if typing.get_origin(containers[0]) is dict else args[0]
        data = _child(data, part)
    return _as_model(annotation, data)


def field_for(model: type[BaseModel], key: str | int) -> str | None:
    """The model field a key of the data fills, by alias or by name."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a mapping validated by ``model`` may hold (aliases where a field has one)."""
    return [info.alias or name for name, info in model.model_fields.items()]


_MISSING = object()


def _child(data: Any, part: str | int) -> Any:
    """The value one step down from ``data``, or a marker when the step is not in the data."""
    if isinstance(data, dict) and isinstance(part, str) and part in data:
        return data[part]
    if isinstance(data, list) and isinstance(part, str) and part.isdigit():
        part = int(part)  # an index read back from a dotted path
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return _MISSING


@dataclass
class _Located:
    """An error's location mapped onto the data, and which union branch it came from."""

    path: DataPath
    value: Any
    branch: str | None = None
    branch_path: DataPath = ()
    branch_value: Any = None


def _locate(loc: Iterable[str | int], data: Any) -> _Located:
    """Walk a pydantic location through the data, dropping steps that are not in the data."""
    path: list[str | int] = []
    branch: str | None = None
    branch_path: DataPath = ()
    branch_value: Any = None
    current = data
    for part in loc:
        child = _child(current, part)
        if child is not _MISSING:
            path.append(int(part) if isinstance(current, list) else part)
            current = child
            continue
        if branch is None and part in ("float", "int"):
            branch, branch_path, branch_value = "number", tuple(path), current
        elif branch is None and isinstance(part, str) and part.startswith("tagged-union["):
            branch, branch_path, branch_value = "distribution", tuple(path), current
    return _Located(tuple(path), current, branch, branch_path, branch_value)


def _matches_branch(found: _Located) -> bool:
    """Whether the union branch an error came from is the one the user's data is written in."""
    if found.branch == "number":
        return not isinstance(found.branch_value, dict | list)
    if found.branch == "distribution":
        return isinstance(found.branch_value, dict)
    return True


def _show(value: Any) -> str:
    """A value as the user would have written it in YAML."""
    if value is _MISSING:
        return "the value"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int) and value.bit_length() > 4 * SHOWN_CHARS:
        return f"a number of about {math.floor(value.bit_length() * math.log10(2)) + 1:,} digits"
    if isinstance(value, int | float):
        return safe_text(repr(value))
    if isinstance(value, str):
        return '"' + safe_text(value).replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return safe_text(str(value))


def _with_value(msg: str, value: Any) -> str:
    """Pydantic's message with its leading "Input" replaced by the value itself."""
    if msg.startswith("Input "):
        return _show(value) + msg[len("Input") :]
    return msg


def _describe(
    error: ErrorDetails, found: _Located, data: dict[str, Any], raw: str | None
) -> tuple[DataPath, str]:
    """The user's field path and a human sentence for one pydantic error.

    ``raw`` is the value's text as written in the file, when it is a single scalar.
    """
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    path, value = found.path, found.value
    dists = ", ".join(_dist_names())
    if kind == "missing":
        missing = error["loc"][-1] if error["loc"] else ""
        return (*path, missing), "missing required field"
    if kind == "extra_forbidden":
        return path, _unknown_key(path, data)
    if kind == "union_tag_not_found":
        return path, f"a distribution needs a `dist` key, one of: {dists}"
    if kind == "union_tag_invalid":
        if isinstance(value, dict) and "dist" in value:
            path = (*path, "dist")
            return path, f"{_show(value['dist'])} is not a distribution; use one of: {dists}"
        return path, f"unknown distribution; `dist` must be one of: {dists}"
    if kind == "finite_number":
        return path, f"{_show(value)} is not allowed: numbers must be finite (no .nan or .inf)"
    if kind == "float_type" and isinstance(value, dict) and "dist" in value:
        return path, "cannot be uncertain: give one fixed number, not a distribution"
    if kind in ("float_type", "float_parsing"):
        text = f"{_show(value)} should be a number"
        if found.branch == "number":
            text += f" or a distribution (a mapping with `dist`: {dists})"
        if isinstance(value, str) and (number := _as_number(value)) is not None:
            text += f"; YAML reads `{value}` as text: write `{number}`"
        return path, text
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, f"{_show(value)} should be a whole number"
    if kind == "string_type":
        if isinstance(value, bool) and raw is not None:
            return path, f"`{raw}` should be text; YAML reads it as {_show(value)}, so quote it"
        return path, f"{_show(value)} should be text"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return path, "should not be empty"
    if kind == "bool_type":
        return path, f"{_show(value)} should be true or false"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if found.branch == "distribution":
            return path, f"{_show(value)} should be a number or a distribution (`dist`: {dists})"
        return path, f"{_show(value)} should be a mapping of `key: value` entries"
    if kind in ("tuple_type", "list_type"):
        return path, f"{_show(value)} should be a list"
    if kind in ("too_short", "too_long") and "actual_length" in ctx:
        low, high = _length_limits(path, data)
        if low is not None and low == high:
            need = f"exactly {low}"
        elif kind == "too_short":
            need = f"at least {ctx.get('min_length', low)}"
        else:
            need = f"at most {ctx.get('max_length', high)}"
        return path, f"has {ctx['actual_length']} items; it needs {need}"
    if kind == "value_error":
        return path, error["msg"].removeprefix("Value error, ")
    if kind == "arm_override":
        where = str(ctx.get("where", ""))
        inner = _locate(where.split(".") if where else (), data)
        return inner.path, _with_value(str(ctx.get("msg", error["msg"])), inner.value)
    if kind == "missing_arm":
        return ("arms",), error["msg"]
    if kind == "independent_franchise":
        return _locate(("arms", "independent", "franchise"), data).path, error["msg"]
    return path, _with_value(error["msg"], value)


def _length_limits(path: DataPath, data: dict[str, Any]) -> tuple[int | None, int | None]:
    """The least and most items the list field at ``path`` takes (None where unlimited)."""
    model = model_at(Scenario, path[:-1], data) if path else None
    name = field_for(model, path[-1]) if model is not None else None
    if model is None or name is None:
        return None, None
    low = high = None
    for rule in model.model_fields[name].metadata:
        if isinstance(rule, MinLen):
            low = rule.min_length
        elif isinstance(rule, MaxLen):
            high = rule.max_length
    return low, high


def _as_number(text: str) -> str | None:
    """A number that YAML 1.1 reads as text (``1e5``), rewritten so that it reads as a number."""
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _unknown_key(path: DataPath, data: dict[str, Any]) -> str:
    """Say a key is unknown, suggesting the allowed key it was probably meant to be."""
    key = str(path[-1]) if path else ""
    model = model_at(Scenario, path[:-1], data)
    if model is None:
        return "unknown key"
    parent = data
    for part in path[:-1]:
        parent = _child(parent, part)
    allowed = allowed_keys(model)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    present = set(parent) if isinstance(parent, dict) else set()
    unused = [k for k in allowed if k not in present]
    if 0 < len(unused) <= 5:
        return "unknown key; keys not yet given here: " + ", ".join(f"`{k}`" for k in unused)
    return "unknown key"


def explain(errors: list[ErrorDetails], data: dict[str, Any], root: Node | None) -> list[Problem]:
    """One problem per field of the user's data, from the branch the user actually wrote.

    ``root`` is the file's node tree, which gives line numbers; None for data built in Python.
    """
    located = [(error, _locate(error["loc"], data)) for error in errors]
    covered = {f.branch_path for _, f in located if f.branch is not None and _matches_branch(f)}
    # An error from a union branch the data is not written in only speaks when no other does.
    chosen = [(e, f) for e, f in located if _matches_branch(f) or f.branch_path not in covered]
    described = [
        _describe(error, found, data, raw_text_at(root, found.path)) for error, found in chosen
    ]
    paths = [path for path, _ in described]
    problems: dict[str, Problem] = {}
    for (error, _), (path, text) in zip(chosen, described, strict=True):
        field_path = dotted(path)
        if field_path in problems:
            continue
        if error["type"] in ("too_short", "too_long") and any(
            other[: len(path)] == path and len(other) > len(path) for other in paths
        ):
            continue  # the list is short only because an item of it failed, reported already
        line = line_at(root, path[:-1] if error["type"] == "missing" else path)
        if error["type"] == "missing" and len(path) == 1:
            line = None  # a whole section missing: no line of the file is to blame
        problems[field_path] = Problem(text, field_path, line)
    return list(problems.values())


def kind_of(value: Any) -> str:
    """What kind of YAML value ``value`` is, in words (``a list``, ``a number``...)."""
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a single value ({_show(value)})"
