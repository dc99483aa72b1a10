"""Reading scenario files: YAML in, a validated `Scenario` out, or one clear error message.

YAML is treated as data only. Every problem is reported as a `ScenarioError` naming the file,
the line and the dotted field path (``arms.franchise.franchise.royalty_rate``).
"""

from __future__ import annotations

import difflib
import math
import os
import stat
import types
import typing
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from annotated_types import MaxLen, MinLen
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from franchise_sim.scenario.distributions import Distribution
from franchise_sim.scenario.schema import UNPRINTABLE_CATEGORIES, Scenario

__all__ = [
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "read_scenario_text",
    "safe_text",
    "validate_file",
]

MAX_PROBLEMS = 10
"""Most problems listed in one message; the rest are counted."""

MAX_FILE_BYTES = 512 * 1024
"""Largest scenario file read. The shipped ones are 9-13 KB; YAML is parsed in pure Python at
about 1 MB a second, so this keeps the rejection of any file under about half a second."""
MAX_NODES = 10_000
"""Most values (scalars, lists, mappings) in a scenario once aliases and merges are expanded;
a shipped scenario holds about 320. Stops an alias bomb ("billion laughs") before it is built."""
MAX_DEPTH = 40
"""Deepest nesting of a scenario, counting ``<<`` merges; a shipped scenario nests 5 deep."""
MAX_NUMBER_CHARS = 100
"""Longest number written in a file; longer is no figure anyone means (and Python refuses to
convert decimal integers of over 4,300 digits)."""
SHOWN_CHARS = 40
"""Longest value copied into a message; longer ones are cut with an ellipsis."""

_YAML_TAG = "tag:yaml.org,2002:"
_MAP_TAG = _YAML_TAG + "map"
_SEQ_TAG = _YAML_TAG + "seq"
_MERGE_TAG = _YAML_TAG + "merge"
_NUMBER_TAGS = frozenset((_YAML_TAG + "int", _YAML_TAG + "float"))
_SCALAR_TAGS = frozenset(
    _YAML_TAG + name for name in ("null", "bool", "int", "float", "str", "binary", "timestamp")
)

_DataPath = tuple[str | int, ...]
"""A position in the scenario data: mapping keys and list indices from the top."""


def safe_text(text: str, limit: int | None = SHOWN_CHARS) -> str:
    r"""Text as it may be printed in a message: control characters escaped, long text cut.

    A newline, tab, escape sequence or bidirectional override is shown as its Python escape
    (``\n``, ``\x1b``, ``\u202e``) so that a name from a file cannot move the cursor or
    recolour the terminal; beyond ``limit`` characters the text is cut and ends in "…".

    Args:
        text: Any text, e.g. a scenario name or a value from a file.
        limit: Most characters kept before escaping; None keeps all.

    Returns:
        The printable text.
    """
    cut = text if limit is None or len(text) <= limit else text[: limit - 1] + "\u2026"
    return "".join(
        ascii(char)[1:-1] if unicodedata.category(char) in UNPRINTABLE_CATEGORIES else char
        for char in cut
    )


class ScenarioError(Exception):
    """A scenario that cannot be used; the message names the file, field and line.

    Attributes:
        problems: One line per problem found, each naming the file and, where known, the line.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)


@dataclass(frozen=True)
class _Problem:
    """One thing wrong with a scenario file."""

    text: str
    path: str = ""
    line: int | None = None

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}, line {self.line}"
        if not self.path or self.text.startswith(self.path + " "):
            return f"{where}: {self.text}"
        return f"{where}: {self.path}: {self.text}"


def _fail(source: str, problems: Sequence[_Problem]) -> ScenarioError:
    """Build the one error that reports every problem, most important (earliest line) first."""
    if not problems:
        return ScenarioError(f"{source}: not a valid scenario")
    ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.path))
    lines = [p.render(source) for p in ordered[:MAX_PROBLEMS]]
    if len(ordered) > MAX_PROBLEMS:
        lines.append(f"{source}: ... and {len(ordered) - MAX_PROBLEMS} more problems")
    if len(ordered) == 1:
        return ScenarioError(lines[0], lines)
    header = f"{source}: {len(ordered)} problems in this scenario file"
    return ScenarioError("\n".join([header, *lines]), lines)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, or a shipped scenario by name.

    Args:
        path: The YAML scenario file, encoded as UTF-8, or the name of a shipped scenario
            (``"auto_repair"``) when no such file exists.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: The file cannot be read, is not valid YAML or is not a valid scenario;
            the message names the file, the line and the field of every problem found.
    """
    source = str(path)
    text = _read_text(path, source)
    if text is None:
        from franchise_sim.scenario.shelf import shipped_scenario, unknown_scenario

        shipped = shipped_scenario(source)
        if shipped is not None:
            return load_scenario(shipped)
        raise ScenarioError(
            f"{safe_text(source, None)}: no such scenario file ({unknown_scenario(source)})"
        )
    return parse_scenario(text, source)


def read_scenario_text(path: str | Path) -> str:
    """The text of a scenario file, checked before it is read.

    Args:
        path: The file, encoded as UTF-8.

    Returns:
        Its text.

    Raises:
        ScenarioError: The file is missing, is not a regular file (a directory, a named pipe,
            a device), is larger than `MAX_FILE_BYTES`, cannot be read or is not UTF-8 text.
    """
    source = str(path)
    text = _read_text(path, source)
    if text is None:
        raise ScenarioError(f"{safe_text(source, None)}: no such file")
    return text


_SPECIAL_FILES = (
    (stat.S_ISDIR, "is a directory, not a scenario file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a scenario file; give a regular YAML file"),
    (stat.S_ISCHR, "is a device, not a scenario file; give a regular YAML file"),
    (stat.S_ISBLK, "is a device, not a scenario file; give a regular YAML file"),
    (stat.S_ISSOCK, "is a socket, not a scenario file; give a regular YAML file"),
)


def _read_text(path: str | Path, source: str) -> str | None:
    """The file's text, None if there is no such file, or a `ScenarioError`.

    The file's kind and size are checked before it is opened, so a named pipe cannot block
    and ``/dev/zero`` or a huge file is refused without reading it.
    """
    shown = safe_text(source, None)
    try:
        info = os.stat(path)
        for is_kind, text in _SPECIAL_FILES:
            if is_kind(info.st_mode):
                raise ScenarioError(f"{shown}: {text}")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{shown}: is not a regular file")
        _check_size(info.st_size, shown)
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # the file may have grown since
    except FileNotFoundError:
        return None
    except PermissionError:
        raise ScenarioError(f"{shown}: cannot be read: permission denied") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(f"{shown}: cannot be read: {reason}") from None
    _check_size(len(raw), shown)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{shown}, line {line}: the file is not UTF-8 text "
            f"(byte 0x{raw[exc.start]:02x} cannot be decoded); save it as UTF-8"
        ) from None


def _check_size(size: int, shown: str) -> None:
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{shown}: is {size / 1024:,.0f} KB; a scenario file is at most "
            f"{MAX_FILE_BYTES // 1024:,} KB (the shipped ones are about 10 KB)"
        )


def validate_file(path: str | Path) -> None:
    """Check a scenario file without keeping the result.

    Args:
        path: The YAML scenario file.

    Raises:
        ScenarioError: The file is not a usable scenario; see `load_scenario`.
    """
    load_scenario(path)


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text.

    Args:
        text: The YAML document.
        source: Name of the text's origin (usually the file name), used in error messages.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: The text is not valid YAML or is not a valid scenario.
    """
    root = _compose(text, source)
    builder = _Builder()
    try:
        data = builder.build(root, ())
    except RecursionError:
        raise ScenarioError(f"{source}: the file is nested too deeply to be a scenario") from None
    if builder.problems:
        raise _fail(source, builder.problems)
    if not isinstance(data, dict):
        kind = _kind(data)
        raise ScenarioError(
            f"{source}, line {_line(root)}: the top level must be a mapping of sections "
            f"(`name:`, `market:`, `arms:` ...), not {kind}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, _explain(exc.errors(), data, root)) from None


# --- YAML text to node tree to plain data ------------------------------------------------------


class _TooComplexError(Exception):
    """The YAML holds more values, or nests deeper, than any scenario."""


_TOO_DEEP = f"more than {MAX_DEPTH} levels, counting aliases and `<<` merges"
_TOO_BIG = f"more than {MAX_NODES:,} values once aliases and `<<` merges are expanded"


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that stops composing at `MAX_NODES` values or `MAX_DEPTH` levels."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._nodes += 1
        self._depth += 1
        try:
            if self._nodes > MAX_NODES:
                raise _TooComplexError(_TOO_BIG)
            if self._depth > MAX_DEPTH:
                raise _TooComplexError(_TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_complex(source: str, reason: str) -> ScenarioError:
    if reason == _TOO_DEEP:
        return ScenarioError(f"{source}: the file is nested too deeply to be a scenario ({reason})")
    return ScenarioError(
        f"{source}: the file holds too many values to be a scenario ({reason}; "
        "a scenario holds a few hundred)"
    )


def _compose(text: str, source: str) -> Node:
    """Parse the text into a node tree with positions, or raise a `ScenarioError`.

    The tree is refused if, with aliases and ``<<`` merges expanded, it holds more than
    `MAX_NODES` values or nests deeper than `MAX_DEPTH`: nothing later has to walk a huge or
    deep structure.
    """
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)
        root = loader.get_single_node()
    except _TooComplexError as exc:
        raise _too_complex(source, str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(_syntax_message(exc, source)) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ScenarioError(
            f"{source}, line {line}: the file contains a character that YAML does not allow "
            f"(#x{exc.character if isinstance(exc.character, int) else 0:04x})"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: the file is nested too deeply to be a scenario") from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise ScenarioError(f"{source}: the file is empty; a scenario needs its sections")
    reason = _expanded_size(root)
    if reason:
        raise _too_complex(source, reason)
    return root


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: Node) -> str:
    """Why the tree, aliases and merges expanded, is too big or deep for a scenario; or "".

    Walks the graph once without recursion, memoising each shared node's size and depth; an
    alias loop counts nothing here (the builder reports it).
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        kids = _children(node)
        if finished:
            open_nodes.discard(key)
            size[key] = 1 + sum(size.get(id(kid), 0) for kid in kids)
            depth[key] = 1 + max((depth.get(id(kid), 0) for kid in kids), default=0)
            if size[key] > MAX_NODES:
                return _TOO_BIG
            if depth[key] > MAX_DEPTH:
                return _TOO_DEEP
            continue
        if key in size or key in open_nodes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in kids if id(kid) not in size)
    return ""


def _syntax_message(exc: yaml.MarkedYAMLError, source: str) -> str:
    """Describe a YAML syntax error with its line and column."""
    mark = exc.problem_mark or exc.context_mark
    where = source if mark is None else f"{source}, line {mark.line + 1}, column {mark.column + 1}"
    if isinstance(exc, yaml.composer.ComposerError) and exc.problem == "but found another document":
        return f"{where}: a scenario file holds one YAML document; remove this second one (`---`)"
    problem = exc.problem or exc.context or "invalid YAML"
    text = f"{where}: YAML syntax error: {problem}"
    if exc.problem and exc.context:
        text += f" ({exc.context}"
        if exc.context_mark is not None and exc.context_mark is not mark:
            text += f" that started on line {exc.context_mark.line + 1}"
        text += ")"
    return text


def _line(node: Node) -> int | None:
    """The 1-based line where a node starts."""
    mark = node.start_mark
    return None if mark is None else int(mark.line) + 1


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


def _dotted(path: Iterable[str | int]) -> str:
    return ".".join(safe_text(str(part)) for part in path)


class _Builder:
    """Turns a composed node tree into plain dicts, lists and scalars, noting problems.

    Only standard YAML scalars, sequences and mappings are accepted; any other tag is a problem,
    as is a key written twice in one mapping. A node reached through several aliases is built
    once, so alias chains cannot blow up.
    """

    def __init__(self) -> None:
        self.problems: list[_Problem] = []
        self._scalars = SafeConstructor()
        self._done: dict[int, Any] = {}
        self._active: set[int] = set()

    def build(self, node: Node, path: _DataPath) -> Any:
        key = id(node)
        if key in self._done:
            return self._done[key]
        if key in self._active:
            self._note(node, path, "an alias refers to the value that contains it (a loop)")
            return None
        self._active.add(key)
        try:
            value = self._build(node, path)
        finally:
            self._active.discard(key)
        self._done[key] = value
        return value

    def _note(self, node: Node, path: _DataPath, text: str) -> None:
        self.problems.append(_Problem(text, _dotted(path), _line(node)))

    def _unsupported(self, node: Node, path: _DataPath) -> None:
        self._note(
            node,
            path,
            f"unsupported tag `{_show_tag(node.tag)}`: a scenario file holds plain data only "
            "(numbers, text, true/false, lists and mappings)",
        )

    def _build(self, node: Node, path: _DataPath) -> Any:
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self._unsupported(node, path)
                return None
            if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
                self._note(
                    node,
                    path,
                    f"`{safe_text(node.value)}` is a number {len(node.value):,} characters "
                    f"long: far too large to be meant (write at most {MAX_NUMBER_CHARS})",
                )
                return None
            try:
                return self._scalars.construct_object(node)
            except Exception:
                shown = safe_text(str(node.value))
                self._note(node, path, f"cannot read `{shown}` as {_show_tag(node.tag)}")
                return None
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                self._unsupported(node, path)
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                self._unsupported(node, path)
                return None
            return self._mapping(node, path)
        self._unsupported(node, path)  # pragma: no cover - PyYAML only composes the three kinds
        return None

    def _mapping(self, node: MappingNode, path: _DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int | None] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in first_line:
                earlier = first_line[key]
                self._note(
                    key_node,
                    (*path, key),
                    f"duplicate key `{key}` (already given on line {earlier}); "
                    "YAML would silently keep only the last one",
                )
                continue
            first_line[key] = _line(key_node)
            result[key] = self.build(value_node, (*path, key))
        for merged in self._merge_sources(merges, path):
            for key, value in merged.items():
                result.setdefault(key, value)
        return result

    def _key(self, node: Node, path: _DataPath) -> str | None:
        """A mapping key as written in the file: keys are names, so always text."""
        if not isinstance(node, ScalarNode):
            self._note(node, path, "a mapping key must be a plain name, not a list or mapping")
            return None
        if node.tag not in _SCALAR_TAGS:
            self._unsupported(node, path)
            return None
        return str(node.value)

    def _merge_sources(self, merges: list[Node], path: _DataPath) -> list[dict[str, Any]]:
        """Mappings pulled in with ``<<:``, the first taking precedence."""
        sources: list[dict[str, Any]] = []
        for value_node in merges:
            nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in nodes:
                merged = self.build(source, path)
                if isinstance(merged, dict):
                    sources.append(merged)
                elif merged is not None or source.tag == _YAML_TAG + "null":
                    self._note(source, path, "`<<` must merge a mapping or a list of mappings")
        return sources


def _find_key(node: MappingNode, key: str, seen: set[int]) -> tuple[Node, Node] | None:
    """The key and value nodes of ``key`` in a mapping, following ``<<`` merges."""
    if id(node) in seen:
        return None
    seen.add(id(node))
    merges: list[Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            merges.append(value_node)
        elif isinstance(key_node, ScalarNode) and str(key_node.value) == key:
            return key_node, value_node
    for value_node in merges:
        nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in nodes:
            if isinstance(source, MappingNode) and (found := _find_key(source, key, seen)):
                return found
    return None


def _node_at(root: Node, path: _DataPath) -> tuple[Node | None, int | None]:
    """The node at ``path`` (None if the file lacks it) and the line of the deepest part found.

    The line of a mapping entry is its key's line; of a list item, the item's own line.
    """
    node, line = root, _line(root)
    for part in path:
        if isinstance(node, MappingNode) and isinstance(part, str):
            found = _find_key(node, part, set())
            if found is None:
                return None, line
            key_node, node = found
            line = _line(key_node)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = _line(node)
        else:
            return None, line
    return node, line


def _raw_text(root: Node | None, path: _DataPath) -> str | None:
    """The text of the scalar at ``path`` exactly as written in the file (None without one)."""
    if root is None:
        return None
    node, _ = _node_at(root, path)
    return str(node.value) if isinstance(node, ScalarNode) else None


def _line_of(root: Node | None, path: _DataPath) -> int | None:
    """The line of the deepest part of ``path`` found in the file (None without one)."""
    return None if root is None else _node_at(root, path)[1]


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


def _model_at(model: type[BaseModel], path: _DataPath, data: Any) -> type[BaseModel] | None:
    """The model that validates the mapping found at ``path`` in the data, if any."""
    annotation: Any = model
    for part in path:
        current = _as_model(annotation, data)
        if current is not None:
            field = _field(current, part)
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


def _field(model: type[BaseModel], key: str | int) -> str | None:
    """The model field a key of the data fills, by alias or by name."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
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

    path: _DataPath
    value: Any
    branch: str | None = None
    branch_path: _DataPath = ()
    branch_value: Any = None


def _locate(loc: Iterable[str | int], data: Any) -> _Located:
    """Walk a pydantic location through the data, dropping steps that are not in the data."""
    path: list[str | int] = []
    branch: str | None = None
    branch_path: _DataPath = ()
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
) -> tuple[_DataPath, str]:
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


def _length_limits(path: _DataPath, data: dict[str, Any]) -> tuple[int | None, int | None]:
    """The least and most items the list field at ``path`` takes (None where unlimited)."""
    model = _model_at(Scenario, path[:-1], data) if path else None
    name = _field(model, path[-1]) if model is not None else None
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


def _unknown_key(path: _DataPath, data: dict[str, Any]) -> str:
    """Say a key is unknown, suggesting the allowed key it was probably meant to be."""
    key = str(path[-1]) if path else ""
    model = _model_at(Scenario, path[:-1], data)
    if model is None:
        return "unknown key"
    parent = data
    for part in path[:-1]:
        parent = _child(parent, part)
    allowed = _allowed_keys(model)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    present = set(parent) if isinstance(parent, dict) else set()
    unused = [k for k in allowed if k not in present]
    if 0 < len(unused) <= 5:
        return "unknown key; keys not yet given here: " + ", ".join(f"`{k}`" for k in unused)
    return "unknown key"


def _explain(errors: list[ErrorDetails], data: dict[str, Any], root: Node | None) -> list[_Problem]:
    """One problem per field of the user's data, from the branch the user actually wrote.

    ``root`` is the file's node tree, which gives line numbers; None for data built in Python.
    """
    located = [(error, _locate(error["loc"], data)) for error in errors]
    covered = {f.branch_path for _, f in located if f.branch is not None and _matches_branch(f)}
    # An error from a union branch the data is not written in only speaks when no other does.
    chosen = [(e, f) for e, f in located if _matches_branch(f) or f.branch_path not in covered]
    described = [
        _describe(error, found, data, _raw_text(root, found.path)) for error, found in chosen
    ]
    paths = [path for path, _ in described]
    problems: dict[str, _Problem] = {}
    for (error, _), (path, text) in zip(chosen, described, strict=True):
        dotted = _dotted(path)
        if dotted in problems:
            continue
        if error["type"] in ("too_short", "too_long") and any(
            other[: len(path)] == path and len(other) > len(path) for other in paths
        ):
            continue  # the list is short only because an item of it failed, reported already
        line = _line_of(root, path[:-1] if error["type"] == "missing" else path)
        if error["type"] == "missing" and len(path) == 1:
            line = None  # a whole section missing: no line of the file is to blame
        problems[dotted] = _Problem(text, dotted, line)
    return list(problems.values())


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a single value ({_show(value)})"
