"""Parameter sweeps: common random numbers across points, the tidy frame, the chart, the CLI."""

from __future__ import annotations

import itertools
import json
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from franchise_sim import ScenarioError, simulate
from franchise_sim.analysis import sweeps as sweep_module
from franchise_sim.analysis.statistics import (
    mean_interval,
    median_interval,
    paired_difference,
    probability_better,
    survival_at,
)
from franchise_sim.analysis.sweeps import (
    FRAME_COLUMNS,
    crossing,
    metric_info,
    metric_names,
    sweep,
    sweep_points,
    sweep_table,
    sweep_text,
)
from franchise_sim.interfaces import cli
from franchise_sim.interfaces.cli import main
from franchise_sim.interfaces.notebook import plot_sweep
from franchise_sim.model.books import INSOLVENT
from franchise_sim.outputs.figures import arm_colours, sweep_chart
from franchise_sim.scenario.changes import value_at, with_changes
from franchise_sim.scenario.schema import Scenario

ROYALTY = "arms.franchise.royalty_rate"
ROYALTIES = [0.04, 0.08, 0.12]


@pytest.fixture(scope="module")
def royalty_sweep(auto_repair: Scenario) -> pd.DataFrame:
    return sweep(auto_repair, {ROYALTY: ROYALTIES}, runs=120, seed=7, workers=1)


@pytest.fixture(scope="module")
def grid_sweep(auto_repair: Scenario) -> pd.DataFrame:
    grid: dict[str, list[Any]] = {
        ROYALTY: [0.05, 0.09],
        "market.households": [20_000, 25_000, 30_000],
    }
    return sweep(auto_repair, grid, runs=20, seed=5, workers=2, horizon_months=24)


def _estimates(frame: pd.DataFrame, arm: str, metric: str) -> list[float]:
    rows = frame[(frame["arm"] == arm) & (frame["metric"] == metric)]
    return rows["estimate"].tolist()


def test_frame_is_tidy_with_one_row_per_point_arm_and_metric(royalty_sweep: pd.DataFrame) -> None:
    assert list(royalty_sweep.columns) == [ROYALTY, *FRAME_COLUMNS]
    names = metric_names(60)
    assert names == (
        "survival_month_12",
        "survival_month_60",
        "npv_mean",
        "npv_median",
        "break_even_share",
        "payback_share",
        "insolvency_share",
        "npv_difference",
        "survival_difference_points_month_60",
        "probability_npv_better",
    )
    per_point = royalty_sweep[royalty_sweep[ROYALTY] == 0.08]
    assert per_point[per_point["arm"] == "independent"]["metric"].tolist() == list(names[:7])
    assert per_point[per_point["arm"] == "franchise"]["metric"].tolist() == list(names)
    assert len(royalty_sweep) == 3 * (7 + 10)
    assert set(royalty_sweep["label"]) == {"Independent shop", "Automotive-service franchise"}
    ordered = royalty_sweep.dropna(subset=["low", "high"])
    assert (ordered["low"] <= ordered["estimate"]).all()
    assert (ordered["estimate"] <= ordered["high"]).all()
    assert royalty_sweep.attrs == {
        "scenario": "Auto repair shop",
        "baseline": "independent",
        "parameters": [ROYALTY],
        "grid": {ROYALTY: ROYALTIES},
        "reached": {ROYALTY: ["franchise"]},
        "points": 3,
        "seed": 7,
        "runs": 120,
        "horizon_months": 60,
        "arms": ["independent", "franchise"],
        "labels": {"independent": "Independent shop", "franchise": "Automotive-service franchise"},
        "run_seconds": royalty_sweep.attrs["run_seconds"],
    }


def test_higher_royalty_lowers_franchise_npv_and_leaves_the_independent_alone(
    royalty_sweep: pd.DataFrame,
) -> None:
    for metric in ("npv_mean", "npv_median", "npv_difference"):
        values = _estimates(royalty_sweep, "franchise", metric)
        assert values[0] > values[1] > values[2], metric
    independent = royalty_sweep[royalty_sweep["arm"] == "independent"]
    first = independent[independent[ROYALTY] == ROYALTIES[0]]
    columns = ["metric", "estimate", "low", "high"]
    for royalty in ROYALTIES[1:]:
        same = independent[independent[ROYALTY] == royalty]
        # Common random numbers and no royalty in the independent arm: identical to the bit.
        pd.testing.assert_frame_equal(
            same[columns].reset_index(drop=True), first[columns].reset_index(drop=True)
        )


def test_one_value_sweep_is_a_plain_simulation(auto_repair: Scenario) -> None:
    change = {"market.households": 30_000}
    frame = sweep(
        auto_repair, {"market.households": [30_000]}, runs=60, seed=3, workers=1, horizon_months=36
    )
    results = simulate(
        with_changes(auto_repair, change), runs=60, seed=3, workers=1, horizon_months=36
    )
    alive, out = results.series("alive"), results.outcomes
    i, base = results.arm_index("franchise"), results.arm_index("independent")
    got = {
        (str(arm), str(metric)): (float(estimate), float(low), float(high))
        for arm, metric, estimate, low, high in frame[
            ["arm", "metric", "estimate", "low", "high"]
        ].itertuples(index=False, name=None)
    }
    assert len(got) == len(frame) == 2 * 7 + 3
    for k, arm in enumerate(results.arms):
        survival = {m: mean_interval(alive[k, :, m - 1]) for m in (12, 36)}
        assert got[arm, "survival_month_12"][0] == survival_at(alive[k], 12)
        assert got[arm, "survival_month_36"][0] == survival_at(alive[k], 36)
        assert got[arm, "survival_month_36"][1:] == (survival[36].low, survival[36].high)
        npv_mean, npv_median = mean_interval(out["npv"][k]), median_interval(out["npv"][k])
        assert got[arm, "npv_mean"] == (npv_mean.estimate, npv_mean.low, npv_mean.high)
        assert got[arm, "npv_median"] == (npv_median.estimate, npv_median.low, npv_median.high)
        assert got[arm, "break_even_share"][0] == np.mean(~np.isnan(out["break_even_month"][k]))
        assert got[arm, "payback_share"][0] == np.mean(~np.isnan(out["payback_month"][k]))
        assert got[arm, "insolvency_share"][0] == np.mean(results.closure_reasons[k] == INSOLVENT)
    npv = paired_difference(out["npv"][i], out["npv"][base])
    assert got["franchise", "npv_difference"] == (npv.estimate, npv.low, npv.high)
    points = paired_difference(100.0 * alive[i, :, 35], 100.0 * alive[base, :, 35])
    key = ("franchise", "survival_difference_points_month_36")
    assert got[key] == (points.estimate, points.low, points.high)
    better = got["franchise", "probability_npv_better"]
    assert better[0] == probability_better(out["npv"][i], out["npv"][base])
    assert better[1] < better[0] < better[2]


def test_short_horizon_reports_survival_at_the_horizon_only(auto_repair: Scenario) -> None:
    assert metric_names(12)[:2] == ("survival_month_12", "npv_mean")
    frame = sweep(auto_repair, {ROYALTY: [0.06]}, runs=8, workers=1, horizon_months=6)
    survival = [m for m in dict.fromkeys(frame["metric"]) if "survival" in m]
    assert survival == ["survival_month_6", "survival_difference_points_month_6"]
    assert frame.attrs["seed"] == auto_repair.run.seed


def test_two_parameters_give_the_full_grid_in_order(grid_sweep: pd.DataFrame) -> None:
    royalties, households = [0.05, 0.09], [20_000, 25_000, 30_000]
    points = grid_sweep[[ROYALTY, "market.households"]].drop_duplicates()
    assert list(points.itertuples(index=False, name=None)) == list(
        itertools.product(royalties, households)
    )
    assert len(grid_sweep) == 6 * (2 * 7 + 3)
    table = sweep_table(grid_sweep, "npv_median")
    assert list(table.index) == list(itertools.product(royalties, households))
    assert list(table.columns) == ["independent", "franchise"]
    difference = sweep_table(grid_sweep, "npv_difference", "low")
    assert list(difference.columns) == ["franchise"]
    text = sweep_text(grid_sweep)
    assert "6 points x 20 paired runs x 24 months (seed 5)" in text
    assert "Open after 2 years" in text
    assert "franchise minus independent" in text
    with pytest.raises(KeyError, match="no metric"):
        sweep_table(grid_sweep, "npv_mode")


def test_sweep_points_builds_every_scenario(auto_repair: Scenario) -> None:
    points = sweep_points(auto_repair, {ROYALTY: np.array([0.05, 0.07])})
    assert [values for values, _ in points] == [(0.05,), (0.07,)]
    assert [value_at(s, ROYALTY) for _, s in points] == [0.05, 0.07]
    assert all(type(values[0]) is float for values, _ in points)  # numpy scalars made plain


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"arms.franchise.royalty_rat": [0.05]}, "did you mean `royalty_rate`"),
        ({ROYALTY: [0.05, 1.5]}, r"royalty_rate: 1\.5 is no royalty a franchisor charges"),
        ({ROYALTY: [0.05], "market.households": [20_000, -5]}, "market.households"),
        (
            {"financing.owner_equity_usd": [40_000, 80_000]},
            r"arm `franchise` sets its own value \(arms\.franchise\.financing\.owner_equity_usd\)",
        ),
    ],
)
def test_bad_paths_and_values_fail_before_any_simulation(
    auto_repair: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    grid: dict[str, list[Any]],
    message: str,
) -> None:
    def no_simulation(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("simulated before validating every point")

    monkeypatch.setattr(sweep_module, "simulate", no_simulation)
    with pytest.raises(ScenarioError, match=message):
        sweep(auto_repair, grid, runs=5, workers=1)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({ROYALTY: [0.05], "market.households": [1], "run.discount_rate_per_year": [0.1]}, "3"),
        ({}, "one or two fields; 0"),
        ({ROYALTY: []}, "no values"),
        ({ROYALTY: "0.05"}, "a list of values"),
        ({"run.seed": [1, 2]}, "cannot be swept"),
        ({ROYALTY: [0.05], "arms.franchise.franchise.royalty_rate": [0.06]}, "the same field"),
        (
            {"arms.*.royalty_rate": [0.05], ROYALTY: [0.06]},
            r"arms\.\*\.royalty_rate and arms\.franchise\.royalty_rate name the same field "
            r"\(franchise\.royalty_rate of arm `franchise`\)",
        ),
        (
            {"owner.reserve_usd": [1.0], "arms.independent.owner.reserve_usd": [2.0]},
            r"the same field \(owner\.reserve_usd of arm `independent`\)",
        ),
        (
            {"arms.*.customers.spend_per_visit_usd.mode": [400], "arms.*.customers": [{}]},
            "the same field",
        ),
    ],
)
def test_malformed_grids_raise_value_error(
    auto_repair: Scenario, grid: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sweep(auto_repair, grid, runs=5, workers=1)


def test_metric_info_names_every_metric() -> None:
    for metric in metric_names(60):
        info = metric_info(metric)
        assert info.title
        assert info.contrast == (metric in metric_names(60)[7:])
    assert metric_info("survival_month_36").title == "Open after 3 years"
    with pytest.raises(KeyError):
        metric_info("survival_month_x")


def _data_lines(ax: Any, arm: str) -> list[Any]:
    return [line for line in ax.lines if line.get_gid() == f"sweep-line-{arm}"]


def _bands(ax: Any, arm: str) -> list[Any]:
    return [band for band in ax.collections if band.get_gid() == f"sweep-band-{arm}"]


def test_sweep_chart_draws_a_line_and_band_per_arm(royalty_sweep: pd.DataFrame) -> None:
    colours = arm_colours(["independent", "franchise"])
    ax = sweep_chart(royalty_sweep, "npv_mean", ax=Figure().add_subplot())
    for arm in ("independent", "franchise"):
        (line,) = _data_lines(ax, arm)
        assert len(_bands(ax, arm)) == 1
        assert to_hex(line.get_color()) == to_hex(colours[arm])
        assert list(line.get_xdata()) == ROYALTIES
        assert list(line.get_ydata()) == _estimates(royalty_sweep, arm, "npv_mean")
        assert line.get_marker() == "o"
    assert len(ax.lines) == 2  # no zero line for a level
    assert ax.get_xlabel() == f"Royalty rate ({ROYALTY})"
    assert ax.get_ylabel() == "Owner's NPV, mean (USD)"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "Independent shop: not changed by royalty rate",  # its line is flat, and says why
        "Automotive-service franchise",
    ]
    assert ax.xaxis.get_major_formatter()(0.08, 0) == "8%"
    assert ax.yaxis.get_major_formatter()(-25_000, 0) == "-$25,000"
    difference = sweep_chart(royalty_sweep, "npv_difference")
    assert not _data_lines(difference, "independent")
    assert len(_data_lines(difference, "franchise")) == 1
    assert [line.get_gid() for line in difference.lines].count("sweep-reference") == 1
    assert difference.yaxis.get_major_formatter()(5_000, 0) == "+$5,000"
    survival = sweep_chart(royalty_sweep, "survival_month_60")
    assert survival.get_ylabel() == "Open after 5 years"
    assert survival.yaxis.get_major_formatter()(0.5, 0) == "50%"
    with pytest.raises(KeyError):
        sweep_chart(royalty_sweep, "npv_mode")


def test_sweep_chart_with_two_parameters_draws_a_line_per_second_value(
    grid_sweep: pd.DataFrame,
) -> None:
    ax = sweep_chart(grid_sweep, "npv_median")
    for arm in ("independent", "franchise"):
        lines = _data_lines(ax, arm)
        assert len(lines) == 3
        assert len(_bands(ax, arm)) == 3
        assert len({line.get_linestyle() for line in lines}) == 3
        assert len({to_hex(line.get_color()) for line in lines}) == 3
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:3] == [
        f"Independent shop, households {n}: not changed by royalty rate"
        for n in ("20,000", "25,000", "30,000")
    ]
    assert labels[3] == "Automotive-service franchise, households 20,000"
    assert len(_data_lines(sweep_chart(grid_sweep, "probability_npv_better"), "franchise")) == 3


@pytest.fixture(scope="module")
def cli_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sweep") / "royalty"
    args = ["sweep", "auto_repair", "--set", f"{ROYALTY}=0.05,0.08", "--runs", "30"]
    args += ["--seed", "9", "--workers", "1", "--horizon-months", "24", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_cli_sweep_writes_the_frame_manifest_and_charts(cli_sweep: tuple[Path, str]) -> None:
    out, output = cli_sweep
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".franchise-sim.json",
        "manifest.json",
        "npv_mean.png",
        "survival_month_24.png",
        "sweep.csv",
    ]
    frame = pd.read_csv(out / "sweep.csv")
    assert list(frame.columns) == [ROYALTY, *FRAME_COLUMNS]
    assert len(frame) == 2 * (2 * 7 + 3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["grid"] == {ROYALTY: [0.05, 0.08]}
    assert (manifest["seed"], manifest["runs"], manifest["horizon_months"]) == (9, 30, 24)
    assert manifest["scenario_file"].endswith("auto_repair.yaml")
    assert manifest["franchise_sim_version"]
    assert manifest["charts"] == ["npv_mean", "survival_month_24"]
    for text in ("Open after 2 years", "Median NPV, USD", "P(NPV higher)", "0.05", "0.08"):
        assert text in output
    assert f"Sweep written to {out}/" in output


def test_cli_sweep_replays_from_its_manifest(cli_sweep: tuple[Path, str], tmp_path: Path) -> None:
    out = cli_sweep[0]
    replay = shlex.split(json.loads((out / "manifest.json").read_text())["replay"])
    assert replay[:2] == ["franchise-sim", "sweep"]
    again = tmp_path / "again"
    args = [*replay[1:], "--workers", "1", "--out", str(again), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    first, second = pd.read_csv(out / "sweep.csv"), pd.read_csv(again / "sweep.csv")
    pd.testing.assert_frame_equal(first, second)


def test_cli_sweep_metrics_progress_and_replacing_an_earlier_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals: list[int] = []
    bar = cli._progress_bar

    def spy(total: int, *, quiet: bool, delay: float = 0.5) -> Any:
        totals.append(total)
        return bar(total, quiet=quiet, delay=delay)

    monkeypatch.setattr(cli, "_progress_bar", spy)
    out = tmp_path / "out"
    args = ["sweep", "auto_repair", "--set", f"{ROYALTY}=0.05,0.06,0.07", "--runs", "3"]
    args += ["--workers", "1", "--horizon-months", "12", "--out", str(out), "-q"]
    (out).mkdir()
    (out / ".franchise-sim.json").write_text('{"kind": "sweep"}')  # an earlier sweep's folder
    (out / "manifest.json").write_text("{}")
    (out / "stale.png").write_text("old")
    result = CliRunner().invoke(main, [*args, "--metric", "npv_difference", "--force"])
    assert result.exit_code == 0, result.output
    assert totals == [9]
    assert sorted(p.name for p in out.iterdir()) == [
        ".franchise-sim.json",
        "manifest.json",
        "npv_difference.png",
        "sweep.csv",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--set", "royalty"], "--set royalty: write PATH=V1,V2,..."),
        (["--set", f"{ROYALTY}=0.04,,0.08"], "an empty value"),
        (["--set", f"{ROYALTY}=[1"], "`[1` is not a single value"),
        (["--set", f"{ROYALTY}=0.04,1.5"], "--set arms.franchise.franchise.royalty_rate: 1.5"),
        (["--set", "arms.franchise.royalty_rat=0.1"], "did you mean `royalty_rate`?"),
        (["--set", "a=1", "--set", "b=2", "--set", "c=3"], "one or two fields"),
        (["--set", f"{ROYALTY}=0.1", "--set", f"{ROYALTY}=0.2"], "given twice"),
        (["--set", f"{ROYALTY}=0.1", "--metric", "npv_mode"], "--metric npv_mode: no such"),
        (
            ["--set", "financing.owner_equity_usd=40000,80000"],
            "--set financing.owner_equity_usd: arm `franchise` sets its own value "
            "(arms.franchise.financing.owner_equity_usd), so this change would not reach it; "
            "use arms.*.financing.owner_equity_usd to set it in every arm, or "
            "arms.independent.financing.owner_equity_usd for one arm\n",
        ),
    ],
)
def test_cli_sweep_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "out"
    args = ["sweep", "auto_repair", *options, "--runs", "2", "--workers", "1", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.startswith("franchise-sim: ")
    assert message in result.output
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_sweep_refuses_an_unrelated_folder_before_simulating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_simulation(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("simulated although the folder cannot be used")

    monkeypatch.setattr(sweep_module, "simulate", no_simulation)
    keep = tmp_path / "thesis"
    keep.mkdir()
    (keep / "chapter1.tex").write_text("precious")
    args = ["sweep", "auto_repair", "--set", f"{ROYALTY}=0.05", "--out", str(keep)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "was not written by franchise-sim" in result.output
    assert (keep / "chapter1.tex").read_text() == "precious"


def _line(estimate: list[float], low: list[float], high: list[float]) -> pd.DataFrame:
    x = [0.02, 0.04, 0.06, 0.08]
    return pd.DataFrame(
        {
            ROYALTY: x,
            "arm": "franchise",
            "label": "Franchise",
            "metric": "npv_difference",
            "estimate": estimate,
            "low": low,
            "high": high,
        }
    )


def test_crossing_interpolates_the_estimate_and_both_band_edges() -> None:
    frame = _line([30.0, 10.0, -10.0, -30.0], [20.0, 0.0, -20.0, -40.0], [40.0, 20.0, 0.0, -20.0])
    found = crossing(frame, arm="franchise")
    assert found is not None
    assert (found.estimate, found.low, found.high) == pytest.approx((0.05, 0.04, 0.06))
    shifted = crossing(frame, arm="franchise", level=20.0)
    assert shifted is not None
    assert (shifted.estimate, shifted.low, shifted.high) == pytest.approx((0.03, 0.02, 0.04))


def test_crossing_is_none_when_the_line_stays_on_one_side() -> None:
    frame = _line([30.0, 20.0, 10.0, 5.0], [20.0, 10.0, 0.0, -5.0], [40.0, 30.0, 20.0, 15.0])
    assert crossing(frame, arm="franchise") is None
    open_ended = crossing(frame, arm="franchise", level=25.0)
    assert open_ended is not None
    assert (open_ended.estimate, open_ended.high) == pytest.approx((0.03, 0.05))
    assert math.isnan(open_ended.low)  # the lower edge starts below 25: no bound on that side


def test_crossing_needs_one_parameter_and_a_known_metric(royalty_sweep: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="no metric"):
        crossing(royalty_sweep, "npv_difference", arm="independent")
    two = royalty_sweep.assign(other=np.arange(len(royalty_sweep)) % 2)
    with pytest.raises(ValueError, match="one parameter"):
        crossing(two, arm="franchise")


def test_the_royalty_where_the_franchise_stops_paying_lies_between_its_neighbours(
    royalty_sweep: pd.DataFrame,
) -> None:
    found = crossing(royalty_sweep, "npv_difference", arm="franchise")
    table = sweep_table(royalty_sweep, "npv_difference")["franchise"]
    assert found is not None
    below = max(r for r in ROYALTIES if table[r] > 0)
    above = min(r for r in ROYALTIES if table[r] < 0)
    assert below < found.estimate < above


def test_an_arm_the_second_field_does_not_touch_gets_one_line(auto_repair: Scenario) -> None:
    grid: dict[str, list[Any]] = {"market.households": [20_000, 30_000], ROYALTY: [0.05, 0.09]}
    frame = sweep(auto_repair, grid, runs=20, seed=5, workers=1, horizon_months=24)
    ax = sweep_chart(frame, "npv_mean")
    assert len(_data_lines(ax, "independent")) == 1  # the royalty does not reach it
    assert len(_data_lines(ax, "franchise")) == 2
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_texts()[0].get_text() == "Independent shop: not changed by royalty rate"
    assert frame.attrs["reached"] == {
        "market.households": ["independent", "franchise"],
        ROYALTY: ["franchise"],
    }
    survival = sweep_chart(frame, "survival_month_24")
    survival.figure.canvas.draw()
    ticks = [t.get_text() for t in survival.get_yticklabels() if t.get_text()]
    assert len(set(ticks)) == len(ticks)  # shares keep the digits a tick needs (57.5%, 60%)
    assert all(t.endswith("%") for t in ticks)


EQUITY = "arms.*.financing.owner_equity_usd"


@pytest.fixture(scope="module")
def equity_sweep(auto_repair: Scenario) -> pd.DataFrame:
    return sweep(auto_repair, {EQUITY: [40_000, 80_000]}, runs=20, workers=1, horizon_months=12)


def test_a_field_set_in_every_arm_changes_every_arm_and_says_so(
    equity_sweep: pd.DataFrame,
) -> None:
    assert equity_sweep.attrs["reached"] == {EQUITY: ["independent", "franchise"]}
    assert sweep_module.reached_by(equity_sweep, EQUITY) == ("independent", "franchise")
    for arm in ("independent", "franchise"):
        rows = equity_sweep[(equity_sweep["arm"] == arm) & (equity_sweep["metric"] == "npv_mean")]
        at_40k, at_80k = rows.sort_values(EQUITY)["estimate"]
        assert at_40k != at_80k  # the franchise's own equity moved too
    assert f"Changes: {EQUITY} changes every arm" in sweep_text(equity_sweep)
    ax = sweep_chart(equity_sweep, "npv_mean", ax=Figure().add_subplot())
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "Independent shop",
        "Automotive-service franchise",
    ]


def test_an_arm_a_field_does_not_reach_is_labelled_not_changed(auto_repair: Scenario) -> None:
    frame = sweep(
        auto_repair, {"concept.quality": [0.5, 0.7]}, runs=10, workers=1, horizon_months=12
    )
    assert frame.attrs["reached"] == {"concept.quality": ["independent"]}
    franchise = sweep_table(frame, "npv_mean")["franchise"]
    assert franchise.iloc[0] == franchise.iloc[1]  # the template's quality, not the concept's
    assert "concept.quality changes independent only, not franchise" in sweep_text(frame)
    ax = sweep_chart(frame, "npv_mean", ax=Figure().add_subplot())
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "Independent shop",
        "Automotive-service franchise: not changed by quality",
    ]


def test_a_frame_without_reach_is_taken_to_change_every_arm(grid_sweep: pd.DataFrame) -> None:
    plain = grid_sweep.copy()
    plain.attrs = {}
    assert sweep_module.reached_by(plain, ROYALTY) == ("independent", "franchise")
    with pytest.raises(KeyError, match="no parameter"):
        sweep_module.reached_by(plain, "market.nope")


def test_a_two_field_chart_keeps_its_legend_clear_of_the_data(grid_sweep: pd.DataFrame) -> None:
    page = Figure(figsize=(8.0, 4.8), layout="constrained")
    ax = sweep_chart(grid_sweep, "npv_median", ax=page.add_subplot())
    canvas = FigureCanvasAgg(page)
    canvas.draw()  # type: ignore[no-untyped-call]
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    legend = ax.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer))  # below the axes, not on the lines
    for label in (ax.xaxis.label, *ax.get_xticklabels()):
        if label.get_text():
            assert not box.overlaps(label.get_window_extent(renderer))
    assert page.bbox.contains(box.x0, box.y0)  # and inside the picture, not cut off
    assert page.bbox.contains(box.x1, box.y1)


def test_plot_sweep_without_axes_draws_into_a_pyplot_figure(royalty_sweep: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    ax = plot_sweep(royalty_sweep, "npv_difference")
    try:
        assert getattr(ax.figure, "number", None) in plt.get_fignums()
        assert len(plt.get_fignums()) == len(before) + 1  # Jupyter shows it once
        assert len(_data_lines(ax, "franchise")) == 1
    finally:
        plt.close(ax.figure)  # type: ignore[arg-type]
    given = Figure().add_subplot()
    assert plot_sweep(royalty_sweep, "npv_mean", ax=given) is given
    with pytest.raises(KeyError, match="no metric"):
        plot_sweep(royalty_sweep, "npv_mode")
    assert plt.get_fignums() == before
