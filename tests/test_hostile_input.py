"""Broken and hostile scenario input: one message, exit 2, no traceback, nothing written."""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from franchise_sim.interfaces.cli import main
from franchise_sim.scenario.changes import with_changes
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.files import MAX_FILE_BYTES, parse_scenario
from franchise_sim.scenario.shelf import SLUG_CHARS, slug
from tests.conftest import AUTO_REPAIR, SCENARIOS

SOURCE = AUTO_REPAIR.read_text(encoding="utf-8")


def with_line(pattern: str, line: str) -> str:
    """The auto repair scenario with the first line matching ``pattern`` replaced."""
    text, count = re.subn(pattern, line.replace("\\", "\\\\"), SOURCE, count=1, flags=re.M)
    assert count == 1
    return text


def households(value: str) -> str:
    return with_line(r"^  households:.*$", f"  households: {value}")


def commands(path: str) -> dict[str, list[str]]:
    """Every command that reads a scenario file, given ``path``."""
    return {
        "validate": ["validate", path],
        "run": ["run", path, "--runs", "2", "--workers", "1", "--no-plots"],
        "sweep": ["sweep", path, "--set", "market.addressable_share=0.07", "--runs", "2"],
        "new --from": ["new", "My shop", "--from", path, "--out", "mine.yaml"],
    }


COMMANDS = list(commands("x"))


def refused(result: Result, folder: Path, before: set[str]) -> str:
    """Check the standard refusal and return its message."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.strip(), result.output
    assert {p.name for p in folder.iterdir()} == before  # nothing written
    return result.stderr


def invoke_in(folder: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(folder)
    return CliRunner().invoke(main, args)


# --- special and oversized files ---------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_named_pipe_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    monkeypatch.chdir(tmp_path)
    before = {p.name for p in tmp_path.iterdir()}
    outcome: list[Result] = []
    worker = threading.Thread(
        target=lambda: outcome.append(CliRunner().invoke(main, commands(str(fifo))[command])),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # it blocked opening the pipe: release it, then fail
        with open(fifo, "w", encoding="utf-8"):
            pass
        worker.join(timeout=10)
        pytest.fail(f"`{command}` blocked on a named pipe")
    message = refused(outcome[0], tmp_path, before)
    assert "is a named pipe (FIFO), not a scenario file" in message
    assert message.count("\n") == 1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_device_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    result = invoke_in(tmp_path, commands("/dev/zero")[command], monkeypatch)
    message = refused(result, tmp_path, set())
    assert "/dev/zero: is a device, not a scenario file" in message


@pytest.mark.parametrize("command", COMMANDS)
def test_an_oversized_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(SOURCE + "#" + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    result = invoke_in(tmp_path, commands(str(big))[command], monkeypatch)
    message = refused(result, tmp_path, {"big.yaml"})
    assert "a scenario file is at most 512 KB" in message
    assert message.count("\n") == 1


def test_a_folder_given_to_new_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "folder").mkdir()
    result = invoke_in(tmp_path, ["new", "x", "--from", "folder", "--out", "x.yaml"], monkeypatch)
    assert "folder: is a directory, not a scenario file" in refused(result, tmp_path, {"folder"})


# --- YAML that is too big or deep once expanded ------------------------------------------------


def laughs(levels: int) -> str:
    """A billion-laughs alias bomb: 9 to the power ``levels`` strings from a few lines."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n" + SOURCE


def merge_chain(length: int) -> str:
    """``length`` mappings, each merging the one before with ``<<``."""
    lines = ["chain:", "  c0: &c0 {x: 1}"]
    lines += [f"  c{i}: &c{i} {{<<: *c{i - 1}}}" for i in range(1, length + 1)]
    return "\n".join(lines) + "\n" + SOURCE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (laughs(9), "holds too many values to be a scenario (more than 10,000 values once"),
        (merge_chain(1500), "nested too deeply to be a scenario (more than 40 levels"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply to be a scenario"),
        ("a: [" + "1, " * 20_000 + "1]\n", "holds too many values to be a scenario"),
    ],
    ids=["billion laughs", "merge chain", "deep nesting", "long list"],
)
def test_yaml_too_big_or_deep_is_refused_with_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    result = invoke_in(tmp_path, ["validate", "bad.yaml"], monkeypatch)
    shown = refused(result, tmp_path, {"bad.yaml"})
    assert shown.startswith("bad.yaml: ")
    assert message in shown
    assert shown.count("\n") == 1


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal",
    [
        "1" * 10_000,
        "-" + "9" * 10_000,
        "0x" + "f" * 10_000,
        "0b" + "1" * 40_000,
        "0" + "7" * 10_000,
        ":".join(["59"] * 3000),
        "1_000" * 3000,
        "1." + "5" * 10_000,
    ],
    ids=["decimal", "negative", "hex", "binary", "octal", "sexagesimal", "underscored", "float"],
)
def test_a_huge_number_is_refused_naming_file_field_and_line_with_the_value_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, literal: str
) -> None:
    (tmp_path / "big.yaml").write_text(households(literal), encoding="utf-8")
    result = invoke_in(tmp_path, ["validate", "big.yaml"], monkeypatch)
    message = refused(result, tmp_path, {"big.yaml"})
    line = households(literal).splitlines().index(f"  households: {literal}") + 1
    assert message.startswith(f"big.yaml, line {line}: market.households: `{literal[:39]}…`")
    assert f"is a number {len(literal):,} characters long" in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10**5000, "a number of about 5,001 digits"),
        ("x" * 10_000, '"' + "x" * 39 + '…"'),
    ],
    ids=["integer", "text"],
)
def test_long_values_are_cut_in_messages_about_data_built_in_python(
    value: object, expected: str
) -> None:
    scenario = parse_scenario(SOURCE)
    with pytest.raises(ScenarioError) as caught:
        with_changes(scenario, {"market.households": value})
    assert expected in str(caught.value)
    assert len(str(caught.value)) < 300


# --- messages ----------------------------------------------------------------------------------


def test_a_field_that_cannot_be_uncertain_says_so(tmp_path: Path) -> None:
    text = with_line(
        r"^  cash_floor_usd:.*$",
        "  cash_floor_usd: {dist: uniform, low: 10000, high: 14000}",
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    assert str(caught.value).endswith(
        "owner.cash_floor_usd: cannot be uncertain: give one fixed number, not a distribution"
    )


@pytest.mark.parametrize("count", [11, 13])
def test_seasonality_needs_exactly_twelve(count: int) -> None:
    text = with_line(r"^  seasonality:.*$", f"  seasonality: [{', '.join(['1'] * count)}]")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    assert str(caught.value).endswith(f"has {count} items; it needs exactly 12")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "auto_repiar"], "did you mean auto_repair?"),
        (["validate", "fitnes_studio"], "did you mean fitness_studio?"),
        (["new", "x", "--from", "home_claening"], "did you mean home_cleaning?"),
        (["plot", "results/x", "--only", "dashbord"], "did you mean dashboard?"),
    ],
)
def test_a_mistyped_name_gets_a_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    result = invoke_in(tmp_path, args, monkeypatch)
    assert message in refused(result, tmp_path, set())


def test_new_makes_the_folders_of_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke_in(tmp_path, ["new", "Jo", "--out", "sub/dir/jo.yaml"], monkeypatch)
    assert result.exit_code == 0, result.output
    parse_scenario((tmp_path / "sub" / "dir" / "jo.yaml").read_text(encoding="utf-8"))


def test_new_drops_accents_from_the_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke_in(tmp_path, ["new", "Café Crème"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["cafe_creme.yaml"]
    assert parse_scenario((tmp_path / "cafe_creme.yaml").read_text("utf-8")).name == "Café Crème"


def test_a_long_name_gives_a_short_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "Jo's " + "very " * 100 + "long shop"
    result = invoke_in(tmp_path, ["new", name], monkeypatch)
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.iterdir()
    assert written.name == slug(name) + ".yaml"
    assert len(written.stem) <= SLUG_CHARS
    assert parse_scenario(written.read_text(encoding="utf-8")).name == name


def test_a_long_scenario_file_name_gives_a_short_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_file = tmp_path / ("shop_" * 49 + "x.yaml")  # 251 characters, as long as allowed
    long_file.write_text(SOURCE, encoding="utf-8")
    args = ["run", long_file.name, "--runs", "2", "--workers", "1", "--no-plots", "--quiet"]
    result = invoke_in(tmp_path, args, monkeypatch)
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name == long_file.stem[:SLUG_CHARS].rstrip("_")
    assert (folder / "summary.csv").is_file()


@pytest.mark.parametrize("name", ["Jo's\nBakery", "Jo\x1b[31m", "a\tb", "Jo\u202eyrekab"])
def test_new_refuses_a_name_with_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    message = refused(invoke_in(tmp_path, ["new", name], monkeypatch), tmp_path, set())
    assert "the name cannot hold a newline, tab or other control character" in message
    assert "auto_repair" not in message  # not blamed on the shipped scenario
    assert message.count("\n") == 1
    assert not any(char in message for char in "\x1b\t\u202e")


def test_new_from_a_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "latin1.yaml").write_bytes(SOURCE.replace("Auto repair", "Café").encode("latin-1"))
    args = ["new", "x", "--from", "latin1.yaml", "--out", "x.yaml"]
    message = refused(invoke_in(tmp_path, args, monkeypatch), tmp_path, {"latin1.yaml"})
    assert "latin1.yaml, line 1: the file is not UTF-8 text (byte 0xe9 cannot" in message


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('name: "Jo\\e[2J\\e[31mRed"', "name: holds the control character \\x1b"),
        ('name: "Jo\\u202eyrekab"', "name: holds the control character \\u202e"),
        ('    label: "Own\\nshop"', "label: holds the control character \\n"),
    ],
)
def test_control_characters_in_names_are_refused_and_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, shown: str
) -> None:
    key = line.split(":")[0]
    (tmp_path / "x.yaml").write_text(with_line(rf"^{key}:.*$", line), encoding="utf-8")
    message = refused(
        invoke_in(tmp_path, ["validate", "x.yaml"], monkeypatch), tmp_path, {"x.yaml"}
    )
    assert shown in message
    assert not any(char in message for char in "\x1b\u202e")


def test_an_arm_name_with_an_escape_sequence_is_refused() -> None:
    text = SOURCE.replace("\n  franchise:\n", '\n  "fr\\e[31m":\n', 1)
    assert text != SOURCE
    with pytest.raises(ScenarioError, match=r"the arm name 'fr\\x1b\[31m' holds the control"):
        parse_scenario(text, "x.yaml")


def test_a_file_name_with_an_escape_sequence_is_printed_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke_in(tmp_path, ["validate", "bad\x1b[31m.yaml"], monkeypatch)
    message = refused(result, tmp_path, set())
    assert "bad\\x1b[31m.yaml: no such scenario file" in message
    assert "\x1b" not in message


def test_warnings_are_printed_by_validate_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = with_line(r"^      royalty_rate:.*$", "      royalty_rate: 0.14")
    (tmp_path / "x.yaml").write_text(text, encoding="utf-8")
    checked = invoke_in(tmp_path, ["validate", "x.yaml"], monkeypatch)
    assert checked.exit_code == 0
    assert checked.stderr.startswith("x.yaml: warning: arms.franchise.franchise.royalty_rate:")
    ran = invoke_in(
        tmp_path, ["run", "x.yaml", "--runs", "2", "--workers", "1", "--no-plots"], monkeypatch
    )
    assert ran.exit_code == 0
    assert "warning: arms.franchise.franchise.royalty_rate: 14.0% is above" in ran.stderr


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_headers_cite_what_users_have(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "shared/reference" not in text
    assert "evidence.md" not in text
    data = Path(sys.modules["franchise_sim"].__file__ or "").parent / "data"
    for table in re.findall(r"\b(\w+\.csv)\b", text):
        assert (data / table).is_file(), f"{table} is cited but does not ship"
