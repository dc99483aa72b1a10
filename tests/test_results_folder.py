"""Results folders read back exactly; plot and report redraw them; the report is self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from franchise_sim.archive import ResultsFolderError, load_results, manifest, save_results
from franchise_sim.cli import main
from franchise_sim.figures import FIGURE_NAMES
from franchise_sim.monte_carlo import simulate
from franchise_sim.report import CLOSURE_REASONS, SECTIONS, html_report
from franchise_sim.results import SimulationResults
from franchise_sim.scenario import Scenario
from tests.conftest import AUTO_REPAIR

RUN = ["--runs", "30", "--seed", "5", "--workers", "1", "--horizon-months", "36"]


@pytest.fixture(scope="module")
def original(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=30, seed=5, workers=1, horizon_months=36)


def test_load_results_gives_back_the_same_results(
    original: SimulationResults, tmp_path: Path
) -> None:
    folder = save_results(original, tmp_path / "saved", figures=False)
    loaded = load_results(folder)
    assert loaded.scenario == original.scenario
    assert (loaded.seed, loaded.runs, loaded.horizon_months) == (5, 30, 36)
    assert loaded.arms == original.arms
    np.testing.assert_array_equal(loaded.trajectories, original.trajectories)
    assert set(loaded.outcomes) == set(original.outcomes)
    for name, values in original.outcomes.items():
        np.testing.assert_array_equal(loaded.outcomes[name], values, err_msg=name)
    np.testing.assert_array_equal(loaded.closure_reasons, original.closure_reasons)
    for name, counts in original.shock_counts.items():
        np.testing.assert_array_equal(loaded.shock_counts[name], counts)
    assert loaded.summary.equals(original.summary)


def test_plot_from_saved_results_gives_the_same_figures_as_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(AUTO_REPAIR), *RUN, "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = {name: (out / f"{name}.png").read_bytes() for name in FIGURE_NAMES}
    for path in out.glob("*.png"):
        path.unlink()
    result = runner.invoke(main, ["plot", str(out)])
    assert result.exit_code == 0, result.output
    again = {name: (out / f"{name}.png").read_bytes() for name in FIGURE_NAMES}
    assert again == first
    for path in out.glob("*.png"):
        path.unlink()
    result = runner.invoke(main, ["plot", str(out), "--only", "survival", "--only", "npv"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["npv.png", "survival.png"]
    assert (out / "survival.png").read_bytes() == first["survival"]
    assert [p.name for p in out.glob(".*")] == [".franchise-sim.json"]  # no temporary file
    unknown = runner.invoke(main, ["plot", str(out), "--only", "pie"])
    assert unknown.exit_code == 2
    assert "--only pie: no such figure; figures are dashboard, customers" in unknown.output


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(AUTO_REPAIR), *RUN, "--out", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert not (out / "report.html").exists()
    result = runner.invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8")


def test_report_holds_every_section_and_every_figure_inline(report_html: str) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}">' in report_html
    for name in FIGURE_NAMES:
        match = re.search(
            rf'<figure id="figure-{name}"><img alt="[^"]*" src="([^"]+)"', report_html
        )
        assert match, name
        assert match.group(1).startswith("data:image/png;base64,iVBORw0KGgo")  # a PNG
    assert report_html.count("<img ") == len(FIGURE_NAMES)


def test_report_references_no_external_file_or_url(report_html: str) -> None:
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", report_html, re.IGNORECASE)
    sources = re.findall(r'(?:src|href)="([^"]*)"', report_html)
    assert sources
    assert all(source.startswith("data:") for source in sources)
    assert "<script" not in report_html
    assert "<link" not in report_html
    assert "@import" not in report_html


def test_report_states_the_question_assumptions_headline_and_manifest(report_html: str) -> None:
    for text in (
        "Auto repair shop",
        "Still open, Automotive-service franchise against Independent shop: after 1 year, ",
        "; after 3 years, ",
        "buy into Automotive-service franchise, or start as Independent shop?",
        "Royalty (of sales)",
        "6%",  # the franchise's royalty
        "$35,000",  # its initial fee
        "Customization limit",
        "Open after 1 year",
        "Open after 3 years",
        "P10 to P90",
        "95% interval",
        "Paired runs where its NPV is higher",
        "Master seed",
        "franchise-sim run",
        "--seed 5",
    ):
        assert text in report_html, text


def test_plot_and_report_refuse_folders_without_results(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("plot", "report"):
        result = runner.invoke(main, [command, str(empty)])
        assert result.exit_code == 2
        assert f"{empty} is not a valid results folder: it holds no manifest.json" in result.output
        assert "Traceback" not in result.output
        result = runner.invoke(main, [command, str(tmp_path / "missing")])
        assert result.exit_code == 2
        assert "no such folder" in result.output
    assert list(empty.iterdir()) == []


def test_a_damaged_folder_gets_one_message(original: SimulationResults, tmp_path: Path) -> None:
    folder = save_results(original, tmp_path / "saved", figures=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["runs"] = 31
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ResultsFolderError, match="holds 60 rows where the manifest's 2 arms x 31"):
        load_results(folder)
    (folder / "manifest.json").write_text("{not json")
    result = CliRunner().invoke(main, ["plot", str(folder)])
    assert result.exit_code == 2
    assert "manifest.json is not valid JSON (line 1, column 2" in result.output


def test_report_breaks_closures_down_by_reason(original: SimulationResults) -> None:
    html = html_report(original, manifest(original), {})
    reasons = original.closure_reasons
    for reason, words in CLOSURE_REASONS:
        cells = "".join(f"<td>{share:.1%}</td>" for share in (reasons == reason).mean(axis=1))
        assert f"<tr><td>Closed: {words}</td>{cells}</tr>" in html
    assert {r for r in np.unique(reasons) if r} <= {reason for reason, _ in CLOSURE_REASONS}
    open_share = (reasons == "").mean(axis=1)
    assert np.allclose(open_share, original.outcomes["survived"].mean(axis=1))
