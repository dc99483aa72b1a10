"""Attribution: the steps from the independent to the franchise, one mechanism at a time."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.patches import Rectangle

from franchise_sim import SimulationResults, load_scenario, simulate
from franchise_sim.analysis.attribution import (
    DEFAULT_ORDER,
    MECHANISM_LABELS,
    REST_OF_ARM,
    Attribution,
    AttributionError,
    Step,
    attributable_arms,
    attribute,
    attribution_from_results,
    attributions_csv,
    counterfactual_scenario,
    default_order,
    order_matters,
    read_attribution_csv,
    read_attributions_csv,
)
from franchise_sim.analysis.statistics import Interval
from franchise_sim.interfaces.cli import main
from franchise_sim.outputs.figures import attribution_waterfall
from franchise_sim.outputs.folders import (
    load_results,
    read_attribution,
    read_attributions,
    save_results,
)
from franchise_sim.scenario.changes import with_changes
from franchise_sim.scenario.schema import Mechanisms, Scenario
from tests.conftest import AUTO_REPAIR, Variant

RUNS, SEED, HORIZON = 60, 17, 36
Chain = tuple[Scenario, dict[str, list[str]], SimulationResults]
FEE_FREE = {
    "arms.franchise.initial_fee_usd": 0.0,
    "arms.franchise.royalty_rate": 0.0,
    "arms.franchise.ad_fund_rate": 0.0,
    "arms.franchise.fixed_fees_usd_per_month": 0.0,
    "arms.franchise.renewal_fee_usd": 0.0,
    "arms.franchise.local_marketing_min_rate": 0.0,
}
"""Franchise terms that charge nothing: the fees switch then changes no number."""


@pytest.fixture(scope="module")
def run(auto_repair: Scenario) -> Chain:
    extended, chains = counterfactual_scenario(auto_repair)
    results = simulate(extended, runs=RUNS, seed=SEED, workers=1, horizon_months=HORIZON)
    return extended, chains, results


def test_the_chain_runs_from_the_independent_to_the_franchise_bit_for_bit(
    auto_repair: Scenario, run: Chain
) -> None:
    extended, chains, results = run
    assert chains["forward"][-1] == chains["reverse"][-1] == "franchise"
    assert chains["forward"][0] == chains["reverse"][0]
    assert len(set(chains["forward"])) == len(DEFAULT_ORDER) + 1
    plain = simulate(auto_repair, runs=RUNS, seed=SEED, workers=1, horizon_months=HORIZON)
    off = results.arm_index(chains["forward"][0])
    base = results.arm_index("independent")
    top = results.arm_index("franchise")
    trajectories = results.trajectories
    # All off: the independent's books, draw for draw, in the same run.
    np.testing.assert_array_equal(trajectories[off], trajectories[base])
    # All on: the franchise arm, and the same as a plain run of the scenario.
    np.testing.assert_array_equal(
        trajectories[top], plain.trajectories[plain.arm_index("franchise")]
    )
    np.testing.assert_array_equal(
        trajectories[base], plain.trajectories[plain.arm_index("independent")]
    )
    switches = extended.arms[chains["forward"][0]].franchise
    assert switches is not None
    assert not any(switches.mechanisms.model_dump().values())


def test_the_steps_add_up_to_the_total_paired_difference(auto_repair: Scenario, run: Chain) -> None:
    _, chains, results = run
    a = attribution_from_results(
        results,
        "franchise",
        chains,
        DEFAULT_ORDER,
        scenario_name=auto_repair.name,
        arm_label="F",
    )
    npv = results.outcomes["npv"]
    total = float(np.mean(npv[1] - npv[0]))
    assert a.total_npv.estimate == pytest.approx(total, rel=1e-12)
    assert a.step_sum("npv") == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    assert a.step_sum("survival") == pytest.approx(a.total_survival.estimate, abs=1e-9)
    reverse = math.fsum(s.npv_reverse.estimate for s in a.steps)
    assert reverse == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    assert a.end_npv - a.start_npv == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    alive = results.series("alive")[..., HORIZON - 1]
    assert a.start_survival == pytest.approx(100 * alive[0].mean())
    assert a.survival_month == HORIZON  # the horizon, shorter than five years
    assert a.order == DEFAULT_ORDER
    assert [s.mechanism for s in a.steps] == list(DEFAULT_ORDER)
    assert sorted(DEFAULT_ORDER) == sorted(Mechanisms.model_fields)


def test_a_mechanism_switched_off_in_the_arm_adds_nothing(auto_repair: Scenario) -> None:
    scenario = with_changes(auto_repair, {"arms.franchise.mechanisms.brand": False})
    a = attribute(scenario, runs=30, seed=3, workers=1, horizon_months=24)
    brand = next(s for s in a.steps if s.mechanism == "brand")
    assert not brand.in_arm
    assert brand.npv.estimate == brand.survival.estimate == 0.0
    assert brand.npv_reverse.estimate == 0.0
    assert "Brand (off)" in a.to_text()


def test_fees_step_is_nothing_for_free_terms_and_falls_with_the_royalty(
    auto_repair: Scenario,
) -> None:
    def fees(changes: dict[str, float]) -> Step:
        a = attribute(
            with_changes(auto_repair, changes), runs=60, seed=9, workers=1, horizon_months=36
        )
        return next(s for s in a.steps if s.mechanism == "fees")

    free = fees(FEE_FREE)
    assert free.npv.estimate == pytest.approx(0.0, abs=1e-6)
    assert free.survival.estimate == 0.0
    usual = fees({})
    dear = fees({"arms.franchise.royalty_rate": 0.10})
    assert usual.npv.estimate < 0.0
    assert dear.npv.estimate < usual.npv.estimate
    assert dear.npv.high < usual.npv.estimate  # by more than the noise


def test_a_bad_arm_or_order_is_refused(auto_repair: Scenario) -> None:
    with pytest.raises(AttributionError, match=r"arms to attribute are franchise$"):
        counterfactual_scenario(auto_repair, "independent")
    with pytest.raises(AttributionError, match="every step once"):
        counterfactual_scenario(auto_repair, order=DEFAULT_ORDER[:-1])


# --- Order sensitivity, the table and the file, on synthetic numbers --------------------------
def _interval(estimate: float, half: float) -> Interval:
    return Interval(estimate, estimate - half, estimate + half)


def test_order_matters_beyond_the_wider_half_width() -> None:
    assert order_matters(_interval(10.0, 2.0), _interval(13.0, 1.0))  # 3 > 2
    assert not order_matters(_interval(10.0, 2.0), _interval(11.5, 2.5))  # 1.5 < 2.5
    assert not order_matters(_interval(10.0, 1.0), _interval(12.0, 2.0))  # 2 is not > 2
    assert order_matters(_interval(0.0, 0.0), _interval(0.5, 0.0))  # exact steps: any gap


def _synthetic() -> Attribution:
    steps = []
    for i, name in enumerate(DEFAULT_ORDER):
        forward = _interval(1000.0 * (i - 3), 300.0)
        reverse = _interval(forward.estimate + (5000.0 if name == "brand" else 100.0), 300.0)
        steps.append(Step(name, forward, _interval(i - 3.0, 2.0), reverse, _interval(i - 3.0, 2.0)))
    total = math.fsum(s.npv.estimate for s in steps)
    points = math.fsum(s.survival.estimate for s in steps)
    return Attribution(
        scenario="Synthetic $5 shop",
        arm="franchise",
        arm_label="A $ franchise",
        order=DEFAULT_ORDER,
        steps=tuple(steps),
        start_npv=50_000.0,
        end_npv=50_000.0 + total,
        start_survival=60.0,
        end_survival=60.0 + points,
        total_npv=_interval(total, 900.0),
        total_survival=_interval(points, 4.0),
        runs=100,
        seed=1,
        horizon_months=120,
        survival_month=60,
    )


def test_the_text_names_the_order_and_the_steps_that_depend_on_it() -> None:
    a = _synthetic()
    assert a.order_flags == (
        "the order matters for brand (NPV): +0 USD forward, +5,000 USD in reverse",
    )
    text = a.to_text()
    assert "the order matters for brand (NPV): +0 USD forward, +5,000 USD in reverse" in text
    assert "Financing, Format, Fees, Brand" in text
    for name in DEFAULT_ORDER:
        assert f"+ {MECHANISM_LABELS[name]}" in text


def test_the_csv_reads_back_the_same_attribution() -> None:
    a = _synthetic()
    assert read_attribution_csv(a.to_csv()) == a
    with pytest.raises(AttributionError, match=r"attribution\.csv"):
        read_attribution_csv("row,mechanism\nstart,\n")


def test_the_waterfall_bars_are_the_steps() -> None:
    a = _synthetic()
    for measure in ("npv", "survival"):
        ax = attribution_waterfall(a, measure=measure)
        bars = {
            gid: [
                p
                for p in ax.patches
                if isinstance(p, Rectangle) and p.get_gid() == f"attribution-{gid}"
            ]
            for gid in ("start", "step", "end")
        }
        values = [getattr(s, measure).estimate for s in a.steps]
        start = a.start_npv if measure == "npv" else a.start_survival
        end = a.end_npv if measure == "npv" else a.end_survival
        assert [p.get_height() for p in bars["step"]] == pytest.approx(values)
        assert [p.get_y() for p in bars["step"]] == pytest.approx(
            list(start + np.cumsum([0.0, *values[:-1]]))
        )
        assert [p.get_height() for p in bars["start"]] == [start]
        assert [p.get_height() for p in bars["end"]] == pytest.approx([end])
        colours = [p.get_facecolor() for p in bars["step"]]
        assert colours[0] != colours[-1]  # down and up differ
        assert "financing, format, fees" in ax.get_title().replace("\n", " ")
        assert "\\$ franchise" in ax.get_xticklabels()[-1].get_text()  # scenario text literal


# --- The command line and the report ----------------------------------------------------------
SMALL = ["--runs", "20", "--seed", "4", "--workers", "1", "--horizon-months", "24"]


def test_attribute_writes_the_folder_and_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "attr"
    result = CliRunner().invoke(main, ["attribute", str(AUTO_REPAIR), *SMALL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Where the difference comes from" in result.output
    assert "+ Customization limit" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".franchise-sim.json",
        "attribution.csv",
        "attribution.html",
        "attribution.png",
    ]
    saved = read_attribution_csv((out / "attribution.csv").read_text(encoding="utf-8"))
    assert saved.runs == 20
    assert saved.horizon_months == 24
    assert "Total difference" in result.output
    page = (out / "attribution.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "http" not in page.replace("http-equiv", "")
    again = CliRunner().invoke(main, ["attribute", str(AUTO_REPAIR), *SMALL, "--out", str(out)])
    assert again.exit_code == 0
    assert (tmp_path / "attr-2" / "attribution.csv").is_file()


def test_attribute_refuses_an_unknown_arm_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "attr"
    args = ["attribute", str(AUTO_REPAIR), *SMALL, "--arm", "nope", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--arm nope: no such arm with a franchise or other relationships" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_run_report_has_the_section_and_report_redraws_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(AUTO_REPAIR), *SMALL, "--no-plots", "--report", "-q", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Where the difference comes from" in page
    saved = read_attribution(out)
    assert saved is not None
    assert saved.runs == 20
    assert saved.seed == 4
    direct = attribute(load_scenario(AUTO_REPAIR), runs=20, seed=4, workers=1, horizon_months=24)
    assert saved == direct
    load_results(out)  # the results read as before, the attribution beside them
    (out / "report.html").unlink()
    redrawn = CliRunner().invoke(main, ["report", str(out)])
    assert redrawn.exit_code == 0, redrawn.output
    assert "Where the difference comes from" in (out / "report.html").read_text(encoding="utf-8")


def test_run_report_without_attribution_has_no_section(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(AUTO_REPAIR), "--runs", "5", "--workers", "1", "--horizon-months", "12"]
    args += ["--no-plots", "--report", "--no-attribution", "-q", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not (out / "attribution.csv").exists()
    assert read_attribution(out) is None
    assert "Where the difference comes from" not in (out / "report.html").read_text("utf-8")


# --- Relationships besides the franchise --------------------------------------------------------
PROJECT = {"start_month": 2, "duration_months": 3, "stall_share": 0.0, "sales_usd_per_month": 3e3}


def test_an_independent_with_a_project_is_attributed_to_its_project(variant: Variant) -> None:
    data_changes = {"arms.with_project": {"label": "Independent with a project"}}
    scenario = variant({**data_changes, "arms.with_project.project_group": PROJECT})
    assert default_order(scenario, "with_project") == ("project_group",)
    _extended, chains = counterfactual_scenario(scenario, "with_project")
    # Without its project the arm is the independent: no "rest of the arm" step.
    assert chains["forward"] == [chains["forward"][0], "with_project"]
    a = attribute(scenario, "with_project", runs=40, seed=4, workers=1, horizon_months=18)
    assert [s.mechanism for s in a.steps] == ["project_group"]
    assert a.steps[0].npv.estimate == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    assert a.steps[0].label == "Project group"
    assert a.total_npv.estimate != 0.0


def test_an_arm_that_differs_in_more_than_its_relationships_starts_with_the_rest(
    variant: Variant,
) -> None:
    scenario = variant(
        {
            "arms.other": {"label": "Bigger, with a project", "project_group": PROJECT},
            "arms.other.operations": {"marketing_usd_per_month": 2_500.0},
        }
    )
    _, chains = counterfactual_scenario(scenario, "other")
    assert chains["forward"][0] == "independent"
    a = attribute(scenario, "other", runs=40, seed=4, workers=1, horizon_months=18)
    assert [s.mechanism for s in a.steps] == [REST_OF_ARM, "project_group"]
    assert a.step_sum("npv") == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    assert a.to_text().count("+ Rest of the arm") == 1


def test_a_franchise_arm_s_relationships_follow_its_mechanisms(variant: Variant) -> None:
    scenario = variant({"arms.franchise.project_group": PROJECT})
    assert default_order(scenario, "franchise") == (*DEFAULT_ORDER, "project_group")
    a = attribute(scenario, runs=30, seed=2, workers=1, horizon_months=18)
    assert [s.mechanism for s in a.steps][-1] == "project_group"
    assert a.step_sum("npv") == pytest.approx(a.total_npv.estimate, rel=1e-9, abs=1e-6)
    again = read_attribution_csv(a.to_csv())
    assert again.order == a.order


def test_every_arm_with_something_to_attribute_gets_its_own_table(
    variant: Variant, tmp_path: Path
) -> None:
    scenario = variant(
        {"arms.with_project": {"label": "Independent with a project", "project_group": PROJECT}}
    )
    assert attributable_arms(scenario) == ("franchise", "with_project")
    both = [
        attribute(scenario, arm, runs=20, seed=4, workers=1, horizon_months=12)
        for arm in attributable_arms(scenario)
    ]
    text = attributions_csv(both)
    assert text.count("row,mechanism") == 1  # one header, each arm's rows in turn
    assert read_attributions_csv(text) == tuple(both)
    with pytest.raises(AttributionError, match="holds 2 arms' attributions, not one"):
        read_attribution_csv(text)
    results = simulate(scenario, runs=20, seed=4, workers=1, horizon_months=12)
    out = save_results(results, tmp_path / "run", figures=False, report=True, attribution=both)
    assert read_attributions(out) == tuple(both)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="attribution-franchise"' in page
    assert 'id="attribution-with_project"' in page
    assert "Where the difference comes from: Independent with a project" in page
