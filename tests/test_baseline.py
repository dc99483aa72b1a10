"""Any arm as the baseline, every pair of arms, any number of arms, no franchise arm required.

Issue 12 compares three to five strategies in one run in any pairing: ``compare(baseline=)``
and ``--baseline ARM`` choose the arm the others are set against, the comparison lists every
pair, the report and the dashboard hold a paired-difference panel per compared arm, and a
scenario needs no franchise arm (two independents compare as well).
"""

from __future__ import annotations

import copy
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from franchise_sim.analysis.comparison import (
    BaselineError,
    Comparison,
    Contrast,
    choose_baseline,
    compare,
    verdict,
)
from franchise_sim.analysis.statistics import Interval
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.cli import main
from franchise_sim.interfaces.notebook import Results, load_results
from franchise_sim.outputs import figures
from franchise_sim.outputs.folders import save_results
from franchise_sim.outputs.manifest import manifest
from franchise_sim.outputs.report import html_report
from franchise_sim.scenario.schema import Scenario
from tests.conftest import AUTO_REPAIR

RUNS, HORIZON, SEED = 30, 24, 7


def _shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8"))
    return data


def four_arms() -> dict[str, Any]:
    """The shipped auto repair shop with a second franchise arm and a second independent."""
    data = _shipped()
    data["name"] = "Auto repair, four ways"
    budget = copy.deepcopy(data["arms"]["franchise"])
    budget["label"] = "Budget brand"
    budget["franchise"]["royalty_rate"] = 0.04
    data["arms"]["budget"] = budget
    data["arms"]["lean"] = {
        "label": "Lean independent",
        "operations": {"marketing_usd_per_month": 800},
    }
    return data


def two_independents() -> dict[str, Any]:
    """The shipped auto repair shop as two independent shops, one spending more on marketing."""
    data = _shipped()
    data["name"] = "Two independents"
    data["arms"] = {
        "independent": {"label": "Independent shop"},
        "marketing": {
            "label": "Independent, more marketing",
            "operations": {"marketing_usd_per_month": 3000},
        },
    }
    return data


@pytest.fixture(scope="module")
def four() -> SimulationResults:
    scenario = Scenario.model_validate(four_arms())
    return simulate(scenario, runs=RUNS, seed=SEED, workers=1, horizon_months=HORIZON)


@pytest.fixture(scope="module")
def no_franchise() -> SimulationResults:
    scenario = Scenario.model_validate(two_independents())
    return simulate(scenario, runs=RUNS, seed=SEED, workers=1, horizon_months=HORIZON)


def _by_hand(results: SimulationResults, arm: str, baseline: str) -> dict[str, float]:
    """The paired differences of ``arm`` minus ``baseline``, straight from the outcomes."""
    out = results.outcomes
    i, b = results.arm_index(arm), results.arm_index(baseline)
    npv = out["npv"][i] - out["npv"][b]
    open_i = results.alive_at(HORIZON)[i]
    open_b = results.alive_at(HORIZON)[b]
    return {
        "npv_mean": float(np.mean(npv)),
        "npv_median": float(np.median(npv)),
        "better": float(np.mean(out["npv"][i] > out["npv"][b])),
        "survival_points": float(np.mean(100.0 * open_i - 100.0 * open_b)),
        "cash_flow": float(
            np.mean(out["cumulative_owner_cash_flow"][i] - out["cumulative_owner_cash_flow"][b])
        ),
    }


def _figures_of(c: Contrast, horizon: int = HORIZON) -> dict[str, float]:
    return {
        "npv_mean": c.npv.estimate,
        "npv_median": c.npv_median_difference.estimate,
        "better": c.probability_npv_better,
        "survival_points": c.survival_points[horizon].estimate,
        "cash_flow": c.owner_cash_flow.estimate,
    }


# --- the numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", ["independent", "franchise", "lean"])
def test_each_contrast_is_exactly_the_paired_difference_from_the_chosen_baseline(
    four: SimulationResults, baseline: str
) -> None:
    comparison = compare(four, baseline)
    assert comparison.baseline == baseline
    others = [a for a in four.arms if a != baseline]
    assert [c.arm for c in comparison.contrasts] == others
    assert [v.arm for v in comparison.verdicts] == others
    for c, v in zip(comparison.contrasts, comparison.verdicts, strict=True):
        assert c.baseline == baseline
        assert _figures_of(c) == _by_hand(four, c.arm, baseline)
        assert v.baseline == baseline
        assert v.baseline_label == four.labels[baseline]
        assert v.npv_mean_difference == c.npv


def _negated(i: Interval) -> Interval:
    return Interval(-i.estimate, -i.high, -i.low, i.level)


def test_the_other_way_round_every_difference_changes_sign_exactly(
    four: SimulationResults,
) -> None:
    (a_on_b,) = [c for c in compare(four, "budget").contrasts if c.arm == "franchise"]
    (b_on_a,) = [c for c in compare(four, "franchise").contrasts if c.arm == "budget"]
    assert b_on_a.npv == _negated(a_on_b.npv)
    assert b_on_a.npv_median_difference == _negated(a_on_b.npv_median_difference)
    assert b_on_a.owner_cash_flow == _negated(a_on_b.owner_cash_flow)
    assert b_on_a.final_cash == _negated(a_on_b.final_cash)
    for month, gap in a_on_b.survival_points.items():
        assert b_on_a.survival_points[month] == _negated(gap)
    npv = four.outcomes["npv"]
    ties = float(np.mean(npv[four.arm_index("franchise")] == npv[four.arm_index("budget")]))
    assert a_on_b.probability_npv_better + b_on_a.probability_npv_better + ties == 1.0


def test_every_pair_is_listed_once_with_its_own_paired_differences(
    four: SimulationResults,
) -> None:
    comparison = compare(four, "franchise")
    pairs = [(p.arm, p.baseline) for p in comparison.pairs]
    assert len(pairs) == 6
    assert {frozenset(p) for p in pairs} == {frozenset(p) for p in combinations(four.arms, 2)}
    assert comparison.pairs[:3] == comparison.contrasts
    for pair in comparison.pairs:
        assert _figures_of(pair) == _by_hand(four, pair.arm, pair.baseline)
    frame = comparison.pairs_frame()
    assert len(frame.groupby(["arm", "baseline"])) == 6
    row = frame[
        (frame["arm"] == "lean")
        & (frame["baseline"] == "budget")
        & (frame["metric"] == "median_difference_npv")
        & (frame["statistic"] == "estimate")
    ]
    assert row["value"].tolist() == [_by_hand(four, "lean", "budget")["npv_median"]]


def test_the_default_baseline_is_the_independent_and_an_unknown_one_names_the_arms(
    four: SimulationResults,
) -> None:
    assert compare(four).to_text() == compare(four, "independent").to_text()
    assert choose_baseline(("a", "b")) == "a"
    with pytest.raises(BaselineError) as caught:
        compare(four, "frnchise")
    assert str(caught.value) == (
        "no arm 'frnchise' to compare with; the arms are independent, franchise, budget, lean"
    )
    with pytest.raises(BaselineError):
        verdict(four, baseline="nope")
    assert verdict(four, "independent", baseline="lean").baseline == "lean"


def test_the_text_shows_every_pair_for_three_arms_or_more(four: SimulationResults) -> None:
    text = compare(four, "lean").to_text()
    assert "Budget brand minus Lean independent: paired, 95% intervals" in text
    table = text.split("Every pair: paired, 95% intervals\n", 1)[1].split("\n\n", 1)[0]
    rows = table.splitlines()[1:]
    assert len(rows) == 6
    assert rows[0].lstrip().startswith("Independent shop minus Lean independent")
    two = compare(
        simulate(Scenario.model_validate(_shipped()), runs=5, seed=1, workers=1, horizon_months=12)
    )
    assert "Every pair" not in two.to_text()


# --- the pictures and the report ----------------------------------------------------------------


def _difference_axes(page: Any) -> list[Any]:
    return [ax for ax in page.axes if "paired difference" in ax.get_title()]


def test_a_four_arm_dashboard_holds_a_paired_panel_for_each_compared_arm(
    four: SimulationResults,
) -> None:
    page = figures.dashboard(four, baseline="franchise")
    panels = _difference_axes(page)
    assert len(panels) == 3
    against = "minus Automotive-service franchise (USD)"
    for ax, arm in zip(panels, ("independent", "budget", "lean"), strict=True):
        assert ax.get_xlabel().replace("\n", " ").endswith(f"{four.labels[arm]} {against}")
    assert len(page.axes) == 4 + 3 + 1
    assert figures.dashboard_layout(2) == (2, 3)
    assert figures.dashboard_layout(4) == (2, 4)
    assert figures.dashboard_layout(5) == (3, 3)
    assert page.get_size_inches()[0] > figures.DASHBOARD_PAGE[0]  # a column more than two arms'
    colours = figures.arm_colours(four.arms)
    assert len(set(colours.values())) == 4
    assert colours == figures.arm_colours(four.arms)  # the baseline does not move colours
    difference = figures.paired_differences(four, baseline="franchise")
    assert len(difference.axes) == 3


def test_the_report_of_four_arms_holds_three_paired_tables_and_every_pair(
    four: SimulationResults,
) -> None:
    page = html_report(four, manifest(four, baseline="budget"), {}, baseline="budget")
    assert page.count('<h3 class="contrast">') == 3
    assert page.count('<tr class="pair">') == 6
    assert "Lean independent minus Budget brand</h3>" in page
    assert "Verdict, Automotive-service franchise against Budget brand." in page
    assert "--baseline budget" in page  # the replay command


def test_the_run_records_its_baseline_and_redraws_compare_the_same_way(
    four: SimulationResults, tmp_path: Path
) -> None:
    folder = save_results(four, tmp_path / "run", figures=False, baseline="lean")
    record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert record["baseline"] == "lean"
    assert record["replay"].endswith("--baseline lean")
    assert load_results(folder).comparison.baseline == "lean"
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Budget brand minus Lean independent</h3>" in report
    result = runner.invoke(main, ["report", str(folder), "--baseline", "budget"])
    assert result.exit_code == 0, result.output
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Lean independent minus Budget brand</h3>" in report


@pytest.mark.parametrize("command", ["run", "report", "plot"])
def test_an_unknown_baseline_exits_2_with_one_line_naming_the_arms(
    four: SimulationResults, tmp_path: Path, command: str
) -> None:
    if command == "run":
        scenario = tmp_path / "four.yaml"
        scenario.write_text(yaml.safe_dump(four_arms(), sort_keys=False), encoding="utf-8")
        target = tmp_path / "out"
        args = ["run", str(scenario), "--runs", "5", "--out", str(target), "--baseline", "frnch"]
    else:
        target = save_results(four, tmp_path / "saved", figures=False)
        args = [command, str(target), "--baseline", "frnch"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr == (
        "franchise-sim: --baseline frnch: no such arm; "
        "the arms are independent, franchise, budget, lean\n"
    )
    if command == "run":
        assert not target.exists()  # refused before simulating
    else:
        assert not (target / "report.html").exists()
        assert not (target / "dashboard.png").exists()


def test_the_notebook_facade_compares_with_any_arm(four: SimulationResults) -> None:
    results = Results.of(four)
    assert results.comparison.baseline == "independent"
    against = results.against("budget")
    assert against.comparison.baseline == "budget"
    assert against.outcomes is four.outcomes  # no array copied
    assert "Automotive-service franchise minus Budget brand" in against._repr_html_()
    assert len(_difference_axes(against.plot.dashboard())) == 3
    with pytest.raises(BaselineError):
        results.against("nope")


# --- no franchise arm -----------------------------------------------------------------------------


def test_a_scenario_without_a_franchise_arm_validates_and_compares(
    no_franchise: SimulationResults,
) -> None:
    comparison: Comparison = compare(no_franchise)
    assert [c.arm for c in comparison.contrasts] == ["marketing"]
    assert comparison.contrasts[0].baseline == "independent"
    assert _figures_of(comparison.contrasts[0]) == _by_hand(
        no_franchise, "marketing", "independent"
    )
    assert comparison.pairs == comparison.contrasts
    page = html_report(no_franchise, manifest(no_franchise), {})
    assert "Initial franchise fee" not in page  # no franchise terms to show
    assert "Royalty" not in page
    assert "Verdict, Independent, more marketing against Independent shop." in page
    with pytest.raises(Exception, match="arms needs at least one arm besides `independent`"):
        Scenario.model_validate(two_independents() | {"arms": {"independent": {"label": "x"}}})


def test_two_independents_run_end_to_end_on_the_command_line_and_in_a_notebook(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "two_independents.yaml"
    scenario.write_text(yaml.safe_dump(two_independents(), sort_keys=False), encoding="utf-8")
    out = tmp_path / "run"
    runner = CliRunner()
    base = ["--runs", "20", "--seed", "3", "--workers", "1", "--horizon-months", "18"]
    result = runner.invoke(main, ["run", str(scenario), *base, "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "Independent, more marketing minus Independent shop" in result.output
    assert (out / "report.html").is_file()
    assert not (out / "attribution.csv").exists()  # no franchise mechanisms to attribute
    result = runner.invoke(
        main, ["plot", str(out), "--only", "dashboard", "--baseline", "marketing"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "dashboard.png").is_file()
    result = runner.invoke(main, ["attribute", str(scenario), *base, "--out", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "no arm has a franchise or other relationships to attribute" in result.stderr
    results = load_results(out)
    assert results.comparison.contrasts[0].arm == "marketing"
    assert "Independent, more marketing" in results._repr_html_()
    assert len(_difference_axes(results.plot.dashboard())) == 1
    assert len(_difference_axes(results.against("marketing").plot.dashboard())) == 1


# --- sweeps -------------------------------------------------------------------------------------


def test_a_sweep_sets_its_contrasts_against_the_chosen_baseline(tmp_path: Path) -> None:
    from franchise_sim.analysis.sweeps import sweep, sweep_text

    scenario = Scenario.model_validate(_shipped())
    grid = {"arms.franchise.franchise.royalty_rate": [0.04, 0.08]}
    settings: dict[str, Any] = {"runs": 12, "seed": 5, "workers": 1, "horizon_months": 12}
    usual = sweep(scenario, grid, **settings)
    turned = sweep(scenario, grid, **settings, baseline="franchise")
    assert usual.attrs["baseline"] == "independent"
    assert turned.attrs["baseline"] == "franchise"

    def npv_differences(frame: pd.DataFrame, arm: str) -> list[float]:
        rows = frame[(frame["arm"] == arm) & (frame["metric"] == "npv_difference")]
        return [float(x) for x in rows["estimate"]]

    assert npv_differences(turned, "franchise") == []
    assert npv_differences(turned, "independent") == [
        -x for x in npv_differences(usual, "franchise")
    ]
    assert "independent minus franchise" in sweep_text(turned)
    scenario_file = tmp_path / "auto.yaml"
    scenario_file.write_text(yaml.safe_dump(_shipped(), sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--set", "run.discount_rate_per_year=0.1", "--baseline", "x"],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "franchise-sim: --baseline x: no such arm; the arms are independent, franchise\n"
    )
