"""The package's architecture, checked: layers that only import downwards, and no import cycles.

Every import of a franchise_sim module counts, wherever it is written (module level, inside a
function, or under ``TYPE_CHECKING``): a lazy import is still an arrow in the design. The layers,
bottom to top, are the sub-packages in ``LAYERS``; a module may import from its own layer and
those below it, never above. The package's ``__init__`` (the public facade, whose names load
lazily) and ``__main__`` stand above every layer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "franchise_sim"
LAYERS = ("scenario", "model", "engine", "analysis", "outputs", "interfaces")
"""Sub-packages from the bottom floor to the top."""
FACADE = {"franchise_sim", "franchise_sim.__main__"}


def module_name(path: Path) -> str:
    """The dotted name of a module file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> list[tuple[str, list[str]]]:
    """The package modules a file imports, each with the names it takes from it."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("franchise_sim")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("franchise_sim"):
                continue
            names = [a.name for a in node.names]
            # `from franchise_sim.x import y` where y is itself a module imports that module
            submodules = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in known]
            found += [(m, []) for m in submodules]
            rest = [n for n in names if f"{node.module}.{n}" not in known]
            if rest or not submodules:
                found.append((node.module, rest))
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    known = set(modules())
    return {
        name: {target for target, _ in imports_of(path, known) if target != name}
        for name, path in modules().items()
    }


def layer(name: str) -> int | None:
    """The floor a module stands on (None for the facade and the bare package)."""
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return groups


def test_cycles_are_found_when_present() -> None:
    """The cycle finder itself: it sees a three-module ring and a self-contained chain has none."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_package_has_no_import_cycles() -> None:
    """No group of modules imports itself round, lazily or not."""
    assert cycles(graph()) == []


def test_every_module_stands_on_a_layer() -> None:
    """Apart from the facade, every module lives in one of the layer sub-packages."""
    stray = [m for m in modules() if m not in FACADE and layer(m) is None]
    assert stray == []


@pytest.mark.parametrize("floor", LAYERS)
def test_no_arrow_points_up(floor: str) -> None:
    """A module imports from its own layer and those below, never from a layer above."""
    up = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if layer(name) == LAYERS.index(floor)
        for target in targets
        if target in FACADE or (layer(target) or 0) > LAYERS.index(floor)
    ]
    assert up == []


def test_no_private_name_is_imported_from_another_module() -> None:
    """Private helpers stay in their module: nobody imports a ``_name`` from elsewhere."""
    known = set(modules())
    taken = [
        f"{name} takes {target}.{n}"
        for name, path in modules().items()
        for target, names in imports_of(path, known)
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert taken == []


DRAW_KEY = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
"""A draw key: the dotted path of the scenario field whose uncertain value is drawn."""


def _draw_keys() -> list[tuple[int, str]]:
    """Every string literal that keys a draw, with its line.

    In ``model/plan.py`` and in the relationships' modules (``terms.draw``).
    """
    files = [
        PACKAGE / "model" / "plan.py",
        *sorted((PACKAGE / "model" / "relationships").glob("*.py")),
    ]
    keys = []
    for node in (n for path in files for n in ast.walk(ast.parse(path.read_text()))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("draw", "coupled"):
                keys += [
                    (arg.lineno, arg.value)
                    for arg in node.args
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and DRAW_KEY.match(arg.value)
                ]
    return keys


def _resolves(path: str) -> bool:
    """Whether a dotted path names a field of the scenario, at the top or within an arm."""
    from franchise_sim.scenario.schema import ArmSpec, Scenario
    from franchise_sim.scenario.validation import field_for, model_at

    parts = tuple(path.split("."))
    for model in (Scenario, ArmSpec):
        at = model_at(model, parts[:-1], {})
        if at is not None and field_for(at, parts[-1]) is not None:
            return True
    return False


def test_every_draw_key_is_the_path_of_a_scenario_field() -> None:
    """Draw keys are the schema's own dotted paths, so a typo cannot pass silently.

    A key typed wrongly would still draw, but from a stream no other arm shares: the arms' common
    random numbers would come apart without an error. The schema is where the names are declared.
    """
    keys = _draw_keys()
    assert len(keys) >= 25  # the finder finds them
    assert [(line, key) for line, key in keys if not _resolves(key)] == []
    assert not _resolves("market.househods")  # and a typo is caught
