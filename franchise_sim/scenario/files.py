"""Reading scenario files: YAML in, a validated `Scenario` out, or one clear error message.

YAML is treated as data only. Every problem is reported as a `ScenarioError` naming the file,
the line and the dotted field path (``arms.franchise.franchise.royalty_rate``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import ValidationError

from franchise_sim.scenario.errors import ScenarioError, safe_text, scenario_error
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.validation import explain, kind_of
from franchise_sim.scenario.yaml_source import DataBuilder, compose, node_line

"""Most problems listed in one message; the rest are counted."""

MAX_FILE_BYTES = 512 * 1024
"""Largest scenario file read. The shipped ones are 9-13 KB; YAML is parsed in pure Python at
about 1 MB a second, so this keeps the rejection of any file under about half a second."""
"""Most values (scalars, lists, mappings) in a scenario once aliases and merges are expanded;
a shipped scenario holds about 320. Stops an alias bomb ("billion laughs") before it is built."""
"""Deepest nesting of a scenario, counting ``<<`` merges; a shipped scenario nests 5 deep."""
"""Longest number written in a file; longer is no figure anyone means (and Python refuses to
convert decimal integers of over 4,300 digits)."""
"""Longest value copied into a message; longer ones are cut with an ellipsis."""


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
    text = read_text_or_none(path, source)
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


def read_text_or_none(path: str | Path, source: str) -> str | None:
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
    root = compose(text, source)
    builder = DataBuilder()
    try:
        data = builder.build(root, ())
    except RecursionError:
        raise ScenarioError(f"{source}: the file is nested too deeply to be a scenario") from None
    if builder.problems:
        raise scenario_error(source, builder.problems)
    if not isinstance(data, dict):
        kind = kind_of(data)
        raise ScenarioError(
            f"{source}, line {node_line(root)}: the top level must be a mapping of sections "
            f"(`name:`, `market:`, `arms:` ...), not {kind}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(source, explain(exc.errors(), data, root)) from None
