"""YAML text to a node tree to plain data, bounded, with the line of every value.

YAML is treated as data only (PyYAML's safe loader, with limits on size and depth that stop an
alias bomb before it is built); the node tree is kept so that errors can name lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from franchise_sim.scenario.errors import Problem, ScenarioError, safe_text

"""Most problems listed in one message; the rest are counted."""

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
"""Longest value copied into a message; longer ones are cut with an ellipsis."""

YAML_TAG = "tag:yaml.org,2002:"
_MAP_TAG = YAML_TAG + "map"
_SEQ_TAG = YAML_TAG + "seq"
_MERGE_TAG = YAML_TAG + "merge"
_NUMBER_TAGS = frozenset((YAML_TAG + "int", YAML_TAG + "float"))
_SCALAR_TAGS = frozenset(
    YAML_TAG + name for name in ("null", "bool", "int", "float", "str", "binary", "timestamp")
)

DataPath = tuple[str | int, ...]
"""A position in the scenario data: mapping keys and list indices from the top."""


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


def compose(text: str, source: str) -> Node:
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


def node_line(node: Node) -> int | None:
    """The 1-based line where a node starts."""
    mark = node.start_mark
    return None if mark is None else int(mark.line) + 1


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG) if tag.startswith(YAML_TAG) else tag


def dotted(path: Iterable[str | int]) -> str:
    """A data path written as dotted text, each part made safe to print."""
    return ".".join(safe_text(str(part)) for part in path)


class DataBuilder:
    """Turns a composed node tree into plain dicts, lists and scalars, noting problems.

    Only standard YAML scalars, sequences and mappings are accepted; any other tag is a problem,
    as is a key written twice in one mapping. A node reached through several aliases is built
    once, so alias chains cannot blow up.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()
        self._done: dict[int, Any] = {}
        self._active: set[int] = set()

    def build(self, node: Node, path: DataPath) -> Any:
        """The plain data of ``node`` (found at ``path``), noting problems instead of raising."""
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

    def _note(self, node: Node, path: DataPath, text: str) -> None:
        self.problems.append(Problem(text, dotted(path), node_line(node)))

    def _unsupported(self, node: Node, path: DataPath) -> None:
        self._note(
            node,
            path,
            f"unsupported tag `{_show_tag(node.tag)}`: a scenario file holds plain data only "
            "(numbers, text, true/false, lists and mappings)",
        )

    def _build(self, node: Node, path: DataPath) -> Any:
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

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
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
            first_line[key] = node_line(key_node)
            result[key] = self.build(value_node, (*path, key))
        for merged in self._merge_sources(merges, path):
            for key, value in merged.items():
                result.setdefault(key, value)
        return result

    def _key(self, node: Node, path: DataPath) -> str | None:
        """A mapping key as written in the file: keys are names, so always text."""
        if not isinstance(node, ScalarNode):
            self._note(node, path, "a mapping key must be a plain name, not a list or mapping")
            return None
        if node.tag not in _SCALAR_TAGS:
            self._unsupported(node, path)
            return None
        return str(node.value)

    def _merge_sources(self, merges: list[Node], path: DataPath) -> list[dict[str, Any]]:
        """Mappings pulled in with ``<<:``, the first taking precedence."""
        sources: list[dict[str, Any]] = []
        for value_node in merges:
            nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in nodes:
                merged = self.build(source, path)
                if isinstance(merged, dict):
                    sources.append(merged)
                elif merged is not None or source.tag == YAML_TAG + "null":
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


def node_at(root: Node, path: DataPath) -> tuple[Node | None, int | None]:
    """The node at ``path`` (None if the file lacks it) and the line of the deepest part found.

    The line of a mapping entry is its key's line; of a list item, the item's own line.
    """
    node, line = root, node_line(root)
    for part in path:
        if isinstance(node, MappingNode) and isinstance(part, str):
            found = _find_key(node, part, set())
            if found is None:
                return None, line
            key_node, node = found
            line = node_line(key_node)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node_line(node)
        else:
            return None, line
    return node, line


def raw_text_at(root: Node | None, path: DataPath) -> str | None:
    """The text of the scalar at ``path`` exactly as written in the file (None without one)."""
    if root is None:
        return None
    node, _ = node_at(root, path)
    return str(node.value) if isinstance(node, ScalarNode) else None


def line_at(root: Node | None, path: DataPath) -> int | None:
    """The line of the deepest part of ``path`` found in the file (None without one)."""
    return None if root is None else node_at(root, path)[1]
