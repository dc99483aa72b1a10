"""A scenario that cannot be used: the one error that names file, line and field.

`ScenarioError` carries every problem found, one line each, most important first; `safe_text`
copies a user's value into a message safely (cut, unprintable characters escaped).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from franchise_sim.scenario.schema import UNPRINTABLE_CATEGORIES

MAX_PROBLEMS = 10
"""Most problems listed in one message; the rest are counted."""

"""Largest scenario file read. The shipped ones are 9-13 KB; YAML is parsed in pure Python at
about 1 MB a second, so this keeps the rejection of any file under about half a second."""
"""Most values (scalars, lists, mappings) in a scenario once aliases and merges are expanded;
a shipped scenario holds about 320. Stops an alias bomb ("billion laughs") before it is built."""
"""Deepest nesting of a scenario, counting ``<<`` merges; a shipped scenario nests 5 deep."""
"""Longest number written in a file; longer is no figure anyone means (and Python refuses to
convert decimal integers of over 4,300 digits)."""
SHOWN_CHARS = 40
"""Longest value copied into a message; longer ones are cut with an ellipsis."""


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
class Problem:
    """One thing wrong with a scenario file."""

    text: str
    path: str = ""
    line: int | None = None

    def render(self, source: str) -> str:
        """The problem as one line of a message about ``source``."""
        where = source if self.line is None else f"{source}, line {self.line}"
        if not self.path or self.text.startswith(self.path + " "):
            return f"{where}: {self.text}"
        return f"{where}: {self.path}: {self.text}"


def scenario_error(source: str, problems: Sequence[Problem]) -> ScenarioError:
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
