"""The command line: run writes the promised files; bad input exits 2 with one message."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from franchise_sim.interfaces.cli import _progress_bar, main
from franchise_sim.outputs.figures import FIGURE_NAMES
from tests.conftest import AUTO_REPAIR, SCENARIOS


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "auto"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(AUTO_REPAIR),
            "--runs",
            "40",
            "--seed",
            "11",
            "--workers",
            "1",
            "--horizon-months",
            "36",
            "--out",
            str(out),
            "--report",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_summary_with_one_row_per_arm_and_replication(
    run_folder: tuple[Path, str],
) -> None:
    summary = pd.read_csv(run_folder[0] / "summary.csv")
    required = ["arm", "replication", "survived", "closed_month", "break_even_month"]
    required += ["final_customers", "final_cash", "npv"]
    assert set(required) <= set(summary.columns)
    assert len(summary) == 80
    assert sorted(summary["arm"].unique()) == ["franchise", "independent"]
    assert (
        summary.groupby("arm")["replication"].apply(sorted).map(list).tolist()
        == [list(range(40))] * 2
    )
    # closed_month is empty exactly when the business survived.
    assert (summary["closed_month"].isna() == summary["survived"]).all()


def test_run_writes_monthly_rows_and_cost_lines(run_folder: tuple[Path, str]) -> None:
    monthly = pd.read_parquet(run_folder[0] / "monthly.parquet")
    required = ["arm", "replication", "month", "customers", "revenue", "cash_flow", "cash"]
    required += ["alive", "royalty", "ad_fund", "payroll", "rent", "interest"]
    assert set(required) <= set(monthly.columns)
    assert len(monthly) == 2 * 40 * 36
    assert monthly["month"].min() == 1
    assert monthly["month"].max() == 36
    independent = monthly[monthly["arm"] == "independent"]
    assert (independent["royalty"] == 0).all()


def test_manifest_replays_the_run(run_folder: tuple[Path, str]) -> None:
    from franchise_sim import simulate
    from franchise_sim.scenario.schema import Scenario

    manifest = json.loads((run_folder[0] / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["runs"] == 40
    assert manifest["horizon_months"] == 36
    assert manifest["franchise_sim_version"]
    scenario = Scenario.model_validate(manifest["scenario"])
    replay = simulate(scenario, runs=40, seed=11, horizon_months=36, workers=1)
    summary = pd.read_csv(run_folder[0] / "summary.csv")
    assert replay.summary["npv"].to_numpy() == pytest.approx(summary["npv"], abs=0.005)  # cents


def test_run_prints_the_comparison(run_folder: tuple[Path, str]) -> None:
    output = run_folder[1]
    for text in ("Open after 3 years", "Business cash", "NPV", "Customers", "95% interval"):
        assert text in output
    assert "Automotive-service franchise minus Independent shop" in output
    assert "Verdict, Automotive-service franchise against Independent shop:" in output


def test_run_prints_the_comparison_before_the_attribution_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from franchise_sim.analysis import attribution

    def attribute_later(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt  # stopped in the attribution: nothing after it happens

    monkeypatch.setattr(attribution, "attribute", attribute_later)
    out = tmp_path / "out"
    args = ["run", str(AUTO_REPAIR), "--runs", "6", "--workers", "1", "--horizon-months", "12"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--report"])
    assert result.exit_code != 0
    assert not out.exists()  # nothing written
    assert "Open after 1 year" in result.output  # but the answer was already out
    assert "Verdict, Automotive-service franchise" in result.output
    assert "Results written" not in result.output


def test_a_long_attribution_is_announced_with_how_to_skip_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from franchise_sim.interfaces import cli

    args = ["run", str(AUTO_REPAIR), "--runs", "6", "--workers", "1", "--horizon-months", "12"]
    quick = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--report"])
    assert quick.exit_code == 0
    assert "--no-attribution skips it" not in quick.output
    monkeypatch.setattr(cli, "ATTRIBUTION_NOTICE_SECONDS", 0.0)  # as if the run were long
    long = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b"), "--report"])
    assert long.exit_code == 0
    assert "the attribution simulates 17 arms at the same 6 runs" in long.output
    assert "(--no-attribution skips it)" in long.output
    quiet = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "c"), "--report", "-q"])
    assert quiet.output == ""
    assert [cli._duration(s) for s in (40.0, 720.0, 5400.0)] == ["40 s", "12 min", "1.5 h"]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_validates_and_runs(path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(
        main, ["run", str(path), "--runs", "8", "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "summary.csv").is_file()
    assert (out / "monthly.parquet").is_file()


def test_run_writes_every_figure_and_the_report(run_folder: tuple[Path, str]) -> None:
    written = {p.name for p in run_folder[0].iterdir()}
    assert {f"{name}.png" for name in FIGURE_NAMES} <= written
    assert "report.html" in written
    assert "report.html" in run_folder[1]


def test_no_plots_and_quiet(tmp_path: Path) -> None:
    out = tmp_path / "bare"
    args = ["run", str(AUTO_REPAIR), "--runs", "3", "--workers", "1", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--no-plots", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert sorted(p.name for p in out.iterdir()) == [
        ".franchise-sim.json",
        "manifest.json",
        "monthly.parquet",
        "summary.csv",
    ]


def test_run_accepts_a_shipped_scenario_by_name(tmp_path: Path) -> None:
    out = tmp_path / "named"
    args = ["run", "auto_repair", "--runs", "2", "--workers", "1", "--no-plots"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["scenario_name"] == "Auto repair shop"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_not_when_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with _progress_bar(10, quiet=False) as progress:
        assert progress is None
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _progress_bar(10, quiet=True) as progress:
        assert progress is None
    with _progress_bar(10, quiet=False, delay=0.0) as progress:
        assert progress is not None
        progress(4)
        progress(6)
    shown = terminal.getvalue()
    assert "Simulating" in shown
    assert "/10 [" in shown  # done of total, then elapsed and time left
    assert "run/s" in shown


def test_bad_file_exits_2_with_a_message_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(AUTO_REPAIR.read_text().replace("royalty_rate: 0.06", "royalty_rate: 1.5"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output
    assert "royalty_rate" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_validate_reports_each_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(AUTO_REPAIR.read_text().replace("rent_usd_per_month:", "rent_per_month:", 1))
    result = CliRunner().invoke(main, ["validate", str(AUTO_REPAIR), str(bad)])
    assert result.exit_code == 2
    assert "ok: " in result.output
    assert "typo.yaml" in result.output
    assert "rent_per_month" in result.output


def test_bad_options_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(AUTO_REPAIR), "--runs", "0"]).exit_code == 2
    assert runner.invoke(main, ["run", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2


def test_run_refuses_to_replace_an_unrelated_folder(tmp_path: Path) -> None:
    keep = tmp_path / "thesis"
    keep.mkdir()
    (keep / "chapter1.tex").write_text("precious")
    result = CliRunner().invoke(
        main, ["run", str(AUTO_REPAIR), "--runs", "2", "--workers", "1", "--out", str(keep)]
    )
    assert result.exit_code == 2
    assert (keep / "chapter1.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_schema_is_json_schema_of_scenarios() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "Scenario"
    assert {"market", "arms", "customers", "events"} <= set(schema["properties"])
    assert "royalty_rate" in json.dumps(schema)


def test_franchise_arm_cannot_override_the_independents_concept(tmp_path: Path) -> None:
    text = AUTO_REPAIR.read_text()
    anchor = "    investment:\n      working_capital_usd: 65000"
    assert anchor in text
    bad = tmp_path / "concept.yaml"
    bad.write_text(text.replace(anchor, "    concept:\n      quality: 0.9\n" + anchor, 1))
    line = bad.read_text().splitlines().index("      quality: 0.9") + 1
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"line {line}: arms.franchise.concept.quality" in result.output
    assert "franchise.template" in result.output


def test_deterministic_run_is_the_plan_on_paper(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    args = ["run", str(AUTO_REPAIR), "--deterministic", "--workers", "1"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2  # one expected path per arm
    assert summary["survived"].all()
    assert "95% CI" not in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["deterministic"] is True
    assert manifest["replay"].endswith("--deterministic")
    assert "the plan on paper" in result.output


def test_run_replaces_an_earlier_results_folder_with_force(tmp_path: Path) -> None:
    out = tmp_path / "again"
    runner = CliRunner()
    base = ["run", str(AUTO_REPAIR), "--workers", "1", "--no-plots", "--out", str(out)]
    assert runner.invoke(main, [*base, "--runs", "3"]).exit_code == 0
    (out / "stale.txt").write_text("from an older version")
    assert runner.invoke(main, [*base, "--runs", "5", "--force"]).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["runs"] == 5
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]  # no staging folder left
