"""The shelf of shipped scenarios, loading one by name or a file by path, and new files from one.

The scenarios live in the project's ``scenarios/`` folder; wheels carry them as the package
data ``franchise_sim.shipped_scenarios``. ``new_scenario_text`` copies one with all its source
comments, under a new name and a header that says what to replace.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

from franchise_sim.scenario.errors import ScenarioError, safe_text
from franchise_sim.scenario.files import parse_scenario, read_scenario_text, read_text_or_none
from franchise_sim.scenario.schema import Scenario, control_character

DEFAULT_STARTER = "auto_repair"
"""The shipped scenario a new file starts from when none is named."""

SLUG_CHARS = 60
"""Longest file or folder name made from a name (a file system allows 255 bytes)."""


class ShelfError(Exception):
    """A scenario named on the shelf does not exist, or a new file cannot be written."""


def shelf_folder() -> Path:
    """Where the shipped scenarios are: inside an installed wheel, else the source checkout."""
    package = Path(__file__).resolve().parent.parent
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
    if path.exists():
        return path  # a folder or special file: reading it says why it is refused
    raise ShelfError(
        f"{safe_text(name_or_path, None)}: no such file; {unknown_scenario(name_or_path)}"
    )


def unknown_scenario(name: str) -> str:
    """Say that no shipped scenario has this name: the closest one, then all of them."""
    shelf = list(shipped_scenarios())
    close = difflib.get_close_matches(Path(name).stem, shelf, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    return f"no shipped scenario of that name; {guess}shipped: {', '.join(shelf)}"


def slug(name: str) -> str:
    """A file name for a business name: ``"Jo's Café"`` gives ``jo_s_cafe``.

    Accents are dropped (NFKD to ASCII), every other run of non-alphanumerics becomes ``_``,
    and the result is cut to `SLUG_CHARS` characters.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    text = text[:SLUG_CHARS].rstrip("_")
    if not text:
        raise ShelfError(
            f"{safe_text(name)!r}: give a name with at least one letter or digit (A-Z, 0-9)"
        )
    return text


def short_name(stem: str) -> str:
    """A file's stem cut to `SLUG_CHARS` characters, for a folder named after it."""
    return stem if len(stem) <= SLUG_CHARS else stem[:SLUG_CHARS].rstrip(" ._-") or "scenario"


def check_business_name(name: str) -> None:
    """Refuse a name that cannot be a scenario's one-line title.

    Raises:
        ShelfError: The name is empty or holds a newline or other control character.
    """
    if not name.strip():
        raise ShelfError("the name is empty; give the business's name, e.g. \"Jo's Bakery\"")
    bad = control_character(name)
    if bad is not None:
        raise ShelfError(
            f"{safe_text(name)}: the name cannot hold a newline, tab or other control "
            f"character (found {bad!a}); give it on one line"
        )


def new_scenario_text(
    name: str, source: Path, *, target: str = "FILE", today: date | None = None
) -> str:
    """The text of a new scenario file called ``name``, copied from ``source`` with its comments.

    The ``name:`` line is replaced, everything else (values and their source comments) kept,
    and a header says where the file came from and what to change.

    Raises:
        ShelfError: The name holds a control character, or the source has no ``name:`` line.
        ScenarioError: The source cannot be read (see `read_scenario_text`).
    """
    check_business_name(name)
    text = read_scenario_text(source)
    quoted = json.dumps(name, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
    text, replaced = re.subn(r"(?m)^name:.*$", lambda _: f"name: {quoted}", text, count=1)
    if not replaced:
        raise ShelfError(
            f"{safe_text(str(source), None)}: has no top-level `name:` line to start from"
        )
    header = (
        f"# {name}: a starting scenario for your own business.\n"
        f"# Copied from {source.name} by `franchise-sim new` on {(today or date.today())}.\n"
        "# Replace every figure marked [A] (an assumption) with your own, check the cited ones\n"
        "# against your franchise disclosure document, lender and market, and update the\n"
        f"# description and bls_sector. Then: `franchise-sim validate {target}` and\n"
        f"# `franchise-sim run {target} --report`.\n#\n"
    )
    return header + text


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
    text = read_text_or_none(path, source)
    if text is None:
        shipped = shipped_scenario(source)
        if shipped is not None:
            return load_scenario(shipped)
        raise ScenarioError(
            f"{safe_text(source, None)}: no such scenario file ({unknown_scenario(source)})"
        )
    return parse_scenario(text, source)


def validate_file(path: str | Path) -> None:
    """Check a scenario file without keeping the result.

    Args:
        path: The YAML scenario file.

    Raises:
        ScenarioError: The file is not a usable scenario; see `load_scenario`.
    """
    load_scenario(path)
