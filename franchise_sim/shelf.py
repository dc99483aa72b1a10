"""The shelf of shipped scenarios, and new scenario files started from one of them.

The scenarios live in the project's ``scenarios/`` folder; wheels carry them as the package
data ``franchise_sim.shipped_scenarios``. ``new_scenario_text`` copies one with all its source
comments, under a new name and a header that says what to replace.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

DEFAULT_STARTER = "auto_repair"
"""The shipped scenario a new file starts from when none is named."""


class ShelfError(Exception):
    """A scenario named on the shelf does not exist, or a new file cannot be written."""


def shelf_folder() -> Path:
    """Where the shipped scenarios are: inside an installed wheel, else the source checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "shipped_scenarios"
    return installed if installed.is_dir() else package.parent / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    """Every shipped scenario by name (its file name without ``.yaml``)."""
    return {path.stem: path for path in sorted(shelf_folder().glob("*.yaml"))}


def shipped_scenario(name: str) -> Path | None:
    """The shipped scenario a bare name (``auto_repair`` or ``auto_repair.yaml``) refers to.

    A name with folders in it is a path, never a shelf name: None, as for an unknown name.
    """
    given = Path(name)
    if given.name != name or given.suffix not in ("", ".yaml"):
        return None
    return shipped_scenarios().get(given.stem)


def find_scenario(name_or_path: str) -> Path:
    """A scenario file: an existing path, or the name of a shipped scenario.

    Raises:
        ShelfError: Neither a file nor a shipped scenario.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_scenario(name_or_path)
    if shipped is not None:
        return shipped
    shelf = shipped_scenarios()
    raise ShelfError(
        f"{name_or_path}: no such file and no shipped scenario of that name; "
        f"shipped: {', '.join(shelf)}"
    )


def slug(name: str) -> str:
    """A file name for a business name: ``"Jo's Bakery"`` gives ``jo_s_bakery``."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not text:
        raise ShelfError(f"{name!r}: give a name with at least one letter or digit")
    return text


def new_scenario_text(
    name: str, source: Path, *, target: str = "FILE", today: date | None = None
) -> str:
    """The text of a new scenario file called ``name``, copied from ``source`` with its comments.

    The ``name:`` line is replaced, everything else (values and their source comments) kept,
    and a header says where the file came from and what to change.
    """
    text = source.read_text(encoding="utf-8")
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    text, replaced = re.subn(r"(?m)^name:.*$", f'name: "{quoted}"', text, count=1)
    if not replaced:
        raise ShelfError(f"{source}: has no top-level `name:` line to start from")
    header = (
        f"# {name}: a starting scenario for your own business.\n"
        f"# Copied from {source.name} by `franchise-sim new` on {(today or date.today())}.\n"
        "# Replace every figure marked [A] (an assumption) with your own, check the cited ones\n"
        "# against your franchise disclosure document, lender and market, and update the\n"
        f"# description and bls_sector. Then: `franchise-sim validate {target}` and\n"
        f"# `franchise-sim run {target} --report`.\n#\n"
    )
    return header + text
