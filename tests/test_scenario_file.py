"""Tests of the scenario-file reader: good files load, bad ones name file, field and line.

Bad inputs are built from the shipped example: it is read into plain data, changed, and written
back with ``yaml.safe_dump`` (one key a line), so each test finds the line it expects with its
own text search rather than with the reader's node tree.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_core import ErrorDetails

from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.files import parse_scenario
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.shelf import load_scenario, validate_file
from franchise_sim.scenario.validation import explain

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "auto_repair.yaml"
DISTS = "fixed, uniform, triangular, normal, lognormal, beta"

Key = str | int


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def base() -> dict[str, Any]:
    """The example scenario as plain data, a fresh copy for every test."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def franchise_arm(data: dict[str, Any]) -> str:
    """Name of the first arm with franchise terms."""
    return next(str(name) for name, arm in data["arms"].items() if "franchise" in arm)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)


def line_of(text: str, *path: Key) -> int:
    """1-based line of a key (or list item) in block-style YAML, found by indentation alone."""
    lines = text.splitlines()
    row, indent = -1, -1
    for part in path:
        for i in range(row + 1, len(lines)):
            stripped = lines[i].lstrip()
            depth = len(lines[i]) - len(stripped)
            if not stripped or stripped.startswith("#"):
                continue
            if isinstance(part, int):
                if depth < indent or (depth == indent and not stripped.startswith("- ")):
                    raise AssertionError(f"no item {part} under {path}")
                if stripped.startswith("- ") and depth == indent:
                    if part == 0:
                        row = i
                        break
                    part -= 1
                continue
            if depth <= indent:
                raise AssertionError(f"no key {part!r} in {path}")
            if stripped.startswith(f"{part}:"):
                row, indent = i, depth
                break
        else:
            raise AssertionError(f"{path} not found")
    return row + 1


def set_at(data: dict[str, Any], path: tuple[Key, ...], value: Any) -> dict[str, Any]:
    """A copy of the data with the value at ``path`` replaced."""
    result = copy.deepcopy(data)
    parent: Any = result
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return result


def delete_at(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    result = copy.deepcopy(data)
    parent: Any = result
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return result


def rename_at(data: dict[str, Any], path: tuple[str, ...], new: str) -> dict[str, Any]:
    """A copy of the data with the key at ``path`` renamed, in place in the key order."""
    result = copy.deepcopy(data)
    parent: Any = result
    for part in path[:-1]:
        parent = parent[part]
    items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return result


def with_raw(data: dict[str, Any], path: tuple[str, ...], raw: str) -> tuple[str, int]:
    """YAML text of the data with the value at ``path`` written as the raw text given.

    Returns the text and the 1-based line of that key.
    """
    text = dump(set_at(data, path, 0))
    line = line_of(text, *path)
    lines = text.splitlines()
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    lines[line - 1] = f"{indent}{path[-1]}: {raw}"
    return "\n".join(lines) + "\n", line


def error_for(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> tuple[str, Path]:
    """Write a scenario file, load it, and return the error message it must raise."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message, "every message names the file"
    assert "Traceback" not in message
    return message, path


# --- good files --------------------------------------------------------------------------------


def test_example_scenario_loads() -> None:
    scenario = load_scenario(EXAMPLE)
    assert isinstance(scenario, Scenario)
    assert scenario.arm_names[0] == "independent"
    assert len(scenario.arm_names) >= 2
    assert not scenario.arm("independent").is_franchise
    assert any(arm.is_franchise for arm in scenario.resolved_arms())
    validate_file(str(EXAMPLE))


def test_round_tripped_example_is_still_valid(base: dict[str, Any]) -> None:
    """Files rewritten by the helpers are valid as they are: failures come from the changes."""
    assert parse_scenario(dump(base)).name == base["name"]


def test_merge_keys_are_followed(base: dict[str, Any]) -> None:
    text, _ = with_raw(base, ("run",), "{<<: {runs: 10, horizon_months: 12}, seed: 7}")
    scenario = parse_scenario(text)
    assert (scenario.run.runs, scenario.run.horizon_months, scenario.run.seed) == (10, 12, 7)


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path, base: dict[str, Any]) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + dump(base).encode("utf-8"))
    assert load_scenario(path).name == base["name"]


# --- the file itself ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="no such scenario file") as info:
        load_scenario(path)
    assert str(path) in str(info.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a directory") as info:
        load_scenario(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text("name: x\n", encoding="utf-8")

    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ScenarioError, match="cannot be read: permission denied") as info:
        load_scenario(path)
    assert str(path) in str(info.value)


def test_not_utf8(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(set_at(base, ("name",), "PLACEHOLDER"))
    raw = text.encode("utf-8").replace(b"PLACEHOLDER", b"Caf\xe9 Moderne")
    message, _ = error_for(tmp_path, raw)
    assert f"line {line_of(text, 'name')}: the file is not UTF-8 text" in message


def test_error_is_raised_without_chained_exceptions(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# --- YAML that is not a scenario document ------------------------------------------------------


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(base, ("operations", "rent_usd_per_month"), "5500: 3")
    column = text.splitlines()[line - 1].rindex(":") + 1
    message, path = error_for(tmp_path, text)
    assert message.startswith(f"{path}, line {line}, column {column}: YAML syntax error:")
    assert "mapping values are not allowed here" in message


def test_unclosed_bracket_names_where_it_opened() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario("name: x\nseasonality: [1, 2\nrun: {}\n")
    message = str(info.value)
    assert message.startswith("<string>, line 3, column 4: YAML syntax error:")
    assert "started on line 2" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("# only a comment\n\n", "the file is empty"),
        ("- name: x\n- name: y\n", "line 1: the top level must be a mapping of sections"),
        ("just words\n", "line 1: the top level must be a mapping of sections"),
        ("name: a\n---\nname: b\n", "line 2, column 1: a scenario file holds one YAML document"),
        ("name: a\nlabel: b\x00c\n", "line 2: the file contains a character that YAML does not"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ],
)
def test_not_a_scenario_document(tmp_path: Path, text: str, expected: str) -> None:
    message, path = error_for(tmp_path, text)
    assert message.startswith(f"{path}")
    assert expected in message


def test_top_level_list_is_named(tmp_path: Path) -> None:
    message, _ = error_for(tmp_path, "- 1\n- 2\n")
    assert message.endswith("not a list")


# --- duplicate keys ----------------------------------------------------------------------------


def test_duplicate_key_in_section(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(base)
    first = line_of(text, "operations", "rent_usd_per_month")
    lines = text.splitlines()
    lines.insert(first, "  rent_usd_per_month: 1")
    message, path = error_for(tmp_path, "\n".join(lines) + "\n")
    assert message == (
        f"{path}, line {first + 1}: operations.rent_usd_per_month: duplicate key "
        f"`rent_usd_per_month` (already given on line {first}); "
        "YAML would silently keep only the last one"
    )


def test_duplicate_top_level_section(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(base) + "name: Second name\n"
    last = len(text.splitlines())
    message, _ = error_for(tmp_path, text)
    assert f"line {last}: name: duplicate key `name` (already given on line 1)" in message


def test_duplicate_key_in_flow_mapping(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(
        base, ("market", "households"), "{dist: uniform, low: 1000, low: 2000, high: 3000}"
    )
    message, _ = error_for(tmp_path, text)
    assert f"line {line}: market.households.low: duplicate key `low`" in message


def test_duplicate_keys_are_all_reported(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(base)
    lines = text.splitlines()
    rent = line_of(text, "operations", "rent_usd_per_month")
    seed = line_of(text, "run", "seed")
    lines.insert(rent, "  rent_usd_per_month: 1")
    lines.insert(seed, "  seed: 2")
    message, _ = error_for(tmp_path, "\n".join(lines) + "\n")
    assert "2 problems" in message
    assert f"line {seed + 1}: run.seed: duplicate key" in message
    assert f"line {rent + 2}: operations.rent_usd_per_month: duplicate key" in message


# --- tags: YAML is data ------------------------------------------------------------------------


def test_python_object_payload_is_rejected_and_not_run(
    tmp_path: Path, base: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def spy(command: str) -> int:
        calls.append(command)
        return 0

    monkeypatch.setattr(os, "system", spy)
    payload = "!!python/object/apply:os.system ['echo pwned']"
    # Control: an unsafe loader really would run this payload.
    yaml.unsafe_load(f"x: {payload}\n")
    assert calls == ["echo pwned"]
    calls.clear()

    text, line = with_raw(base, ("market", "households"), payload)
    message, path = error_for(tmp_path, text)
    assert calls == []
    assert message.startswith(
        f"{path}, line {line}: market.households: unsupported tag `!!python/object/apply:os.system`"
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!python/object/new:builtins.dict {}", "!!python/object/new:builtins.dict"),
        ("!!set {a, b}", "!!set"),
        ("!include other.yaml", "!include"),
    ],
)
def test_other_tags_are_rejected(
    tmp_path: Path, base: dict[str, Any], raw: str, shown: str
) -> None:
    text, line = with_raw(base, ("customers", "loyal_share"), raw)
    message, _ = error_for(tmp_path, text)
    assert f"line {line}: customers.loyal_share: unsupported tag `{shown}`" in message


def test_alias_loop_is_reported(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(base, ("market", "seasonality"), "&s [1, *s]")
    message, _ = error_for(tmp_path, text)
    assert f"line {line}: market.seasonality.1: an alias refers to the value" in message


# --- unknown keys ------------------------------------------------------------------------------


def test_unknown_key_suggests_the_close_match(tmp_path: Path, base: dict[str, Any]) -> None:
    arm = franchise_arm(base)
    terms = ("arms", arm, "franchise")
    text = dump(rename_at(base, (*terms, "royalty_rate"), "royalty_rat"))
    message, path = error_for(tmp_path, text)
    typo = line_of(text, *terms, "royalty_rat")
    assert (
        f"{path}, line {typo}: arms.{arm}.franchise.royalty_rat: "
        "unknown key; did you mean `royalty_rate`?"
    ) in message.splitlines()
    parent = line_of(text, *terms)
    assert (
        f"{path}, line {parent}: arms.{arm}.franchise.royalty_rate: missing required field"
    ) in message.splitlines()


def test_unknown_top_level_section_is_suggested(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(rename_at(base, ("market",), "markte"))
    message, _ = error_for(tmp_path, text)
    assert f"line {line_of(text, 'markte')}: markte: unknown key; did you mean `market`?" in message


def test_unknown_key_inside_a_distribution(tmp_path: Path, base: dict[str, Any]) -> None:
    dist = {"dist": "triangular", "lo": 1000, "mode": 2000, "high": 3000}
    text = dump(set_at(base, ("market", "households"), dist))
    message, _ = error_for(tmp_path, text)
    assert (
        f"line {line_of(text, 'market', 'households', 'lo')}: market.households.lo: "
        "unknown key; did you mean `low`?"
    ) in message
    assert (
        f"line {line_of(text, 'market', 'households')}: market.households.low: "
        "missing required field"
    ) in message


def test_unknown_key_in_arm_override(tmp_path: Path, base: dict[str, Any]) -> None:
    arm = franchise_arm(base)
    data = copy.deepcopy(base)
    data["arms"][arm].setdefault("owner", {})["draw_usd_per_mnth"] = 4000
    text = dump(data)
    message, _ = error_for(tmp_path, text)
    line = line_of(text, "arms", arm, "owner", "draw_usd_per_mnth")
    assert (
        f"line {line}: arms.{arm}.owner.draw_usd_per_mnth: "
        "unknown key; did you mean `draw_usd_per_month`?"
    ) in message


def test_unknown_key_without_close_match(tmp_path: Path, base: dict[str, Any]) -> None:
    data = copy.deepcopy(base)
    data["operations"]["zebra_count"] = 3
    text = dump(data)
    message, _ = error_for(tmp_path, text)
    line = line_of(text, "operations", "zebra_count")
    assert f"line {line}: operations.zebra_count: unknown key" in message
    assert "did you mean" not in message


# --- wrong values ------------------------------------------------------------------------------


def test_out_of_range_share_in_commented_example(tmp_path: Path) -> None:
    """The example exactly as shipped, comments and all, with one value changed."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    row = next(i for i, s in enumerate(lines) if s.startswith("  addressable_share:"))
    lines[row] = "  addressable_share: 1.4   # a share above one"
    message, path = error_for(tmp_path, "\n".join(lines) + "\n", name="x.yaml")
    assert message == (
        f"{path}, line {row + 1}: market.addressable_share: "
        "1.4 lies outside the allowed range [0, 1]"
    )


def test_out_of_range_franchise_term(tmp_path: Path, base: dict[str, Any]) -> None:
    arm = franchise_arm(base)
    path = ("arms", arm, "franchise", "royalty_rate")
    text = dump(set_at(base, path, 1.4))
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, *path)}: arms.{arm}.franchise.royalty_rate: "
        "1.4 is no royalty a franchisor charges: published ones run 1-15% of sales "
        "(franchise_sim/data/franchise_terms.csv), and at most 0.3 is accepted; a share is "
        "written as a fraction (7% is 0.07)"
    )


def test_distribution_support_out_of_range(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(
        set_at(base, ("market", "addressable_share"), {"dist": "uniform", "low": 0.5, "high": 1.5})
    )
    message, _ = error_for(tmp_path, text)
    assert (
        f"line {line_of(text, 'market', 'addressable_share')}: market.addressable_share: "
        "support [0.5, 1.5] lies outside the allowed range [0, 1]"
    ) in message


@pytest.mark.parametrize(
    ("path", "raw", "shown"),
    [
        (("operations", "rent_usd_per_month"), ".nan", ".nan"),
        (("market", "households"), ".inf", ".inf"),
        (("run", "discount_rate_per_year"), "-.inf", "-.inf"),
    ],
)
def test_non_finite_numbers(
    tmp_path: Path, base: dict[str, Any], path: tuple[str, ...], raw: str, shown: str
) -> None:
    text, line = with_raw(base, path, raw)
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line}: {'.'.join(path)}: "
        f"{shown} is not allowed: numbers must be finite (no .nan or .inf)"
    )


def test_non_finite_list_item_names_its_index(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(set_at(base, ("market", "seasonality", 3), float("nan")))
    message, file = error_for(tmp_path, text)
    line = line_of(text, "market", "seasonality", 3)
    assert text.splitlines()[line - 1].strip() == "- .nan"
    # One problem only: the list's length error caused by the dropped item is not repeated.
    assert message == (
        f"{file}, line {line}: market.seasonality.3: "
        ".nan is not allowed: numbers must be finite (no .nan or .inf)"
    )


def test_non_finite_inside_distribution(tmp_path: Path, base: dict[str, Any]) -> None:
    dist = {"dist": "normal", "mean": float("nan"), "sd": 50.0}
    text = dump(set_at(base, ("customers", "spend_per_visit_usd"), dist))
    message, _ = error_for(tmp_path, text)
    line = line_of(text, "customers", "spend_per_visit_usd", "mean")
    assert f"line {line}: customers.spend_per_visit_usd.mean: .nan is not allowed" in message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("run", "runs"), "many", '"many" should be a whole number'),
        (("run", "horizon_months"), 12.5, "12.5 should be a whole number"),
        (("arms", "independent", "label"), 5, "5 should be text"),
        (("operations", "rent_usd_per_month"), [1, 2], "a list of 2 items should be a number"),
        (("market",), 5, "5 should be a mapping of `key: value` entries"),
        (("bls_sector",), "retail", "\"retail\" should be 'total_private'"),
        (("events", "enabled"), "sometimes", '"sometimes" should be true or false'),
    ],
)
def test_wrong_types(
    tmp_path: Path, base: dict[str, Any], path: tuple[str, ...], value: Any, expected: str
) -> None:
    text = dump(set_at(base, path, value))
    message, _ = error_for(tmp_path, text)
    assert f"line {line_of(text, *path)}: {'.'.join(path)}: {expected}" in message


def test_yes_no_words_read_as_booleans_are_explained(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(base, ("arms", "independent", "label"), "no")
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line}: arms.independent.label: "
        "`no` should be text; YAML reads it as false, so quote it"
    )


def test_exponent_without_dot_is_explained(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(base, ("owner", "cash_floor_usd"), "5.5e3")
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line}: owner.cash_floor_usd: "
        '"5.5e3" should be a number; YAML reads `5.5e3` as text: write `5500`'
    )


# --- fields that take a number or a distribution -----------------------------------------------


def test_text_for_uncertain_value_reports_the_number_branch_once(
    tmp_path: Path, base: dict[str, Any]
) -> None:
    path = ("customers", "spend_per_visit_usd")
    text = dump(set_at(base, path, "lots"))
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line_of(text, *path)}: customers.spend_per_visit_usd: "
        f'"lots" should be a number or a distribution (a mapping with `dist`: {DISTS})'
    )


def test_bad_field_of_distribution_reports_only_the_distribution_branch(
    tmp_path: Path, base: dict[str, Any]
) -> None:
    dist = {"dist": "triangular", "low": "cheap", "mode": 380, "high": 460}
    text = dump(set_at(base, ("customers", "spend_per_visit_usd"), dist))
    message, file = error_for(tmp_path, text)
    line = line_of(text, "customers", "spend_per_visit_usd", "low")
    assert message == (
        f'{file}, line {line}: customers.spend_per_visit_usd.low: "cheap" should be a number'
    )


def test_mapping_without_dist_lists_the_distributions(tmp_path: Path, base: dict[str, Any]) -> None:
    path = ("market", "households")
    text = dump(set_at(base, path, {"low": 1000, "high": 2000}))
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line_of(text, *path)}: market.households: "
        f"a distribution needs a `dist` key, one of: {DISTS}"
    )


def test_unknown_distribution_name(tmp_path: Path, base: dict[str, Any]) -> None:
    path = ("market", "households")
    text = dump(set_at(base, path, {"dist": "gamma", "shape": 2.0}))
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line_of(text, *path, 'dist')}: market.households.dist: "
        f'"gamma" is not a distribution; use one of: {DISTS}'
    )


def test_distribution_own_check(tmp_path: Path, base: dict[str, Any]) -> None:
    path = ("customers", "spend_per_visit_usd")
    dist = {"dist": "triangular", "low": 500, "mode": 380, "high": 460}
    text = dump(set_at(base, path, dist))
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, *path)}: customers.spend_per_visit_usd: "
        "triangular needs low <= mode <= high and low < high"
    )


# --- missing fields and whole-scenario rules ---------------------------------------------------


def test_missing_field_points_at_its_section(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(delete_at(base, ("customers", "loyal_share")))
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line_of(text, 'customers')}: customers.loyal_share: missing required field"
    )


def test_missing_section(tmp_path: Path, base: dict[str, Any]) -> None:
    message, file = error_for(tmp_path, dump(delete_at(base, ("market",))))
    assert message == f"{file}: market: missing required field"


def test_missing_nested_section(tmp_path: Path, base: dict[str, Any]) -> None:
    arm = franchise_arm(base)
    terms = ("arms", arm, "franchise")
    text = dump(delete_at(base, (*terms, "template")))
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, *terms)}: arms.{arm}.franchise.template: missing required field"
    )


def test_missing_independent_arm(tmp_path: Path, base: dict[str, Any]) -> None:
    text = dump(delete_at(base, ("arms", "independent")))
    message, file = error_for(tmp_path, text)
    assert message == (
        f"{file}, line {line_of(text, 'arms')}: "
        "arms needs an `independent` arm, the baseline of every comparison"
    )


def test_a_scenario_needs_no_franchise_arm(base: dict[str, Any]) -> None:
    # Two independents compared (with and without a relationship, say) are a scenario too.
    data = copy.deepcopy(base)
    for arm in data["arms"].values():
        arm.pop("franchise", None)
    scenario = Scenario.model_validate(data)
    assert not any(arm.is_franchise for arm in scenario.resolved_arms())


def test_no_franchise_arm_is_needed_but_a_second_arm_is(
    tmp_path: Path, base: dict[str, Any]
) -> None:
    data = copy.deepcopy(base)
    for arm in data["arms"].values():
        arm.pop("franchise", None)
    path = tmp_path / "no_franchise.yaml"
    path.write_text(dump(data), encoding="utf-8")
    assert not any(arm.is_franchise for arm in load_scenario(path).resolved_arms())
    text = dump(data | {"arms": {"independent": data["arms"]["independent"]}})
    message, _ = error_for(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, 'arms')}: arms needs at least one arm besides `independent` to "
        "compare with"
    )


def test_independent_arm_with_franchise_terms(tmp_path: Path, base: dict[str, Any]) -> None:
    terms = base["arms"][franchise_arm(base)]["franchise"]
    text = dump(set_at(base, ("arms", "independent", "franchise"), terms))
    message, _ = error_for(tmp_path, text)
    line = line_of(text, "arms", "independent", "franchise")
    assert message.endswith(
        f"line {line}: arms.independent.franchise: "
        "the `independent` arm cannot have franchise terms"
    )


def test_arm_override_error_uses_its_where_path(base: dict[str, Any]) -> None:
    """An override that fails only once merged with the shared section names the arm's field.

    No schema rule fails that way today, so the error is built as `Scenario` raises it.
    """
    arm = franchise_arm(base)
    data = set_at(base, ("arms", arm, "operations"), {"rent_usd_per_month": 7})
    text = dump(data)
    where = f"arms.{arm}.operations.rent_usd_per_month.float"
    error: ErrorDetails = {
        "type": "arm_override",
        "loc": (),
        "msg": f"{where}: Input should be at least the payroll",
        "input": data,
        "ctx": {"where": where, "msg": "Input should be at least the payroll"},
    }
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert root is not None
    problems = explain([error], data, root)
    assert [p.render("f.yaml") for p in problems] == [
        f"f.yaml, line {line_of(text, 'arms', arm, 'operations', 'rent_usd_per_month')}: "
        f"arms.{arm}.operations.rent_usd_per_month: 7 should be at least the payroll"
    ]


def test_unknown_key_merged_in_with_anchor(tmp_path: Path, base: dict[str, Any]) -> None:
    text, line = with_raw(base, ("run",), "{<<: {runz: 10}, seed: 7}")
    message, _ = error_for(tmp_path, text)
    assert f"line {line}: run.runz: unknown key; did you mean `runs`?" in message


# --- many problems at once ---------------------------------------------------------------------


def test_many_problems_are_listed_in_file_order_and_capped(
    tmp_path: Path, base: dict[str, Any]
) -> None:
    data = copy.deepcopy(base)
    fields = [(section, name) for section in ("operations", "investment") for name in base[section]]
    assert len(fields) > 10, "the example needs more than ten fields here for this test"
    for section, name in fields:
        data[section][name] = "x"
    text = dump(data)
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == f"{path}: {len(fields)} problems in this scenario file"
    assert len(lines) == 1 + 10 + 1
    assert lines[-1] == f"{path}: ... and {len(fields) - 10} more problems"
    listed = [int(m.group(1)) for m in (re.search(r", line (\d+):", s) for s in lines[1:-1]) if m]
    assert len(listed) == 10
    assert listed == sorted(listed)
    first = next(iter(base["operations"]))
    assert lines[1].startswith(f"{path}, line {line_of(text, 'operations', first)}: operations.")
    assert info.value.problems == tuple(lines[1:])


# --- the string entry point --------------------------------------------------------------------


def test_parse_scenario_names_its_source(base: dict[str, Any]) -> None:
    text = dump(set_at(base, ("run", "runs"), 0))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    assert str(info.value).startswith(f"<string>, line {line_of(text, 'run', 'runs')}: run.runs:")
    with pytest.raises(ScenarioError, match=r"^pasted, line \d+: run\.runs: 0 should be greater"):
        parse_scenario(text, source="pasted")
