"""The shelf of shipped scenarios, its calibration against BLS, and `franchise-sim new`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from franchise_sim.analysis.reference import bls_survival
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.cli import main
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.shelf import (
    ShelfError,
    find_scenario,
    load_scenario,
    shipped_scenarios,
    slug,
)
from tests.conftest import AUTO_REPAIR, SCENARIOS

RUN_KEYS = {"runs", "seed"}  # run settings, not figures about the business
REQUIRED_SHELF = {"auto_repair", "quick_service_restaurant", "home_cleaning", "fitness_studio"}


def test_the_shelf_holds_the_four_businesses() -> None:
    assert set(shipped_scenarios()) >= REQUIRED_SHELF
    assert {p.stem for p in SCENARIOS} == set(shipped_scenarios())


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_figure_of_a_shipped_scenario_says_where_it_comes_from(path: Path) -> None:
    """Each line that sets a number carries a source tag, or [A] for a stated assumption."""
    unsourced = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code, _, comment = line.partition("#")
        sets_a_figure = re.search(r":\s*[-\d.{\[]", code) is not None
        if sets_a_figure and code.split(":")[0].strip() not in RUN_KEYS:
            cited = re.search(r"\[(A|BLS|FT|SBA|EV)\]", comment) is not None
            if not cited:
                unsourced.append(f"line {number}: {line.strip()}")
    assert unsourced == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_has_both_arms_and_a_bls_sector(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.arm_names[0] == "independent"
    assert any(scenario.arm(a).is_franchise for a in scenario.arm_names)
    assert bls_survival(scenario.bls_sector)[1] > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_independent_first_year_survival_is_near_its_bls_sector(path: Path) -> None:
    scenario = load_scenario(path)
    results = simulate(scenario, runs=2000, horizon_months=12)
    alive = results.series("alive")[results.arm_index("independent"), :, 11]
    bls = bls_survival(scenario.bls_sector)[1]
    assert abs(alive.mean() - bls) <= 0.08, f"{alive.mean():.1%} against BLS {bls:.1%}"


def test_find_scenario_by_path_or_shipped_name(tmp_path: Path) -> None:
    assert find_scenario("auto_repair") == shipped_scenarios()["auto_repair"]
    assert find_scenario("auto_repair.yaml").name == "auto_repair.yaml"
    assert find_scenario(str(AUTO_REPAIR)) == AUTO_REPAIR
    with pytest.raises(ShelfError, match="shipped: auto_repair"):
        find_scenario("bakery")
    with pytest.raises(ShelfError):  # a path with folders is never a shelf name
        find_scenario(str(tmp_path / "auto_repair.yaml"))


def test_slug() -> None:
    assert slug("Jo's Bakery & Café") == "jo_s_bakery_cafe"
    with pytest.raises(ShelfError):
        slug("!!!")


def test_new_writes_a_commented_valid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        main, ["new", 'Jo\'s "Corner" Bakery', "--from", "quick_service_restaurant"]
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / "jo_s_corner_bakery.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.startswith('# Jo\'s "Corner" Bakery: a starting scenario')
    assert "[A]" in text
    assert "[FT]" in text
    scenario = load_scenario(written)
    assert scenario.name == 'Jo\'s "Corner" Bakery'
    shipped = load_scenario(shipped_scenarios()["quick_service_restaurant"])
    assert scenario.model_copy(update={"name": shipped.name}) == shipped
    assert runner.invoke(main, ["validate", str(written)]).exit_code == 0
    again = runner.invoke(main, ["new", "Jo's Corner Bakery"])
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert written.read_text(encoding="utf-8") == text


def test_new_from_a_users_file_and_bad_sources(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "mine.yaml"
    result = runner.invoke(main, ["new", "My shop", "--from", str(AUTO_REPAIR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_scenario(out).name == "My shop"
    missing = runner.invoke(main, ["new", "X", "--from", "bakery", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "no shipped scenario of that name" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(AUTO_REPAIR.read_text().replace("royalty_rate: 0.06", "royalty_rate: 2"))
    bad = runner.invoke(main, ["new", "Y", "--from", str(broken), "--out", str(tmp_path / "y")])
    assert bad.exit_code == 2
    assert "royalty_rate" in bad.output
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()


def test_load_scenario_takes_a_shipped_name_when_no_file_has_it() -> None:
    for name, path in shipped_scenarios().items():
        assert load_scenario(name) == load_scenario(path)
        assert load_scenario(f"{name}.yaml") == load_scenario(path)
    with pytest.raises(
        ScenarioError, match=r"no such scenario file \(no shipped scenario of that name"
    ):
        load_scenario("no_such_business")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario("elsewhere/auto_repair.yaml")  # a path with folders is never a shelf name
