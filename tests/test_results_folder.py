"""Results folders read back exactly; plot and report redraw them; the report is self-contained."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS, scenario_columns
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.cli import main
from franchise_sim.outputs.figures import FIGURE_NAMES
from franchise_sim.outputs.folders import (
    ResultsFolderError,
    load_results,
    save_results,
)
from franchise_sim.outputs.manifest import manifest
from franchise_sim.outputs.report import CLOSURE_REASONS, SECTIONS, html_report
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.shelf import load_scenario
from tests.books import assert_identical
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


def test_each_group_of_assumptions_has_one_heading(report_html: str) -> None:
    headings = re.findall(r'<td class="group" colspan="\d+">([^<]+)</td>', report_html)
    assert {"Investment", "Financing", "Fees", "Concept", "Operations", "Owner"} <= set(headings)
    assert len(headings) == len(set(headings)), headings


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
        "Verdict, Automotive-service franchise against Independent shop.",
        "Owner's NPV: ",
        "after 3 years",
        "Automotive-service franchise or Independent shop: which is the better start?",
        "Royalty (of sales)",
        "6%",  # the franchise's royalty
        "$35,000",  # its initial fee
        "Customization limit",
        "Open after 1 year",
        "Open after 3 years",
        "P10 to P90",
        "95% interval",
        "Runs where its NPV is higher",
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


# Items 21, 23 and 24: a tampered folder gets one message, names the file at fault, and
# corrupt data that still parses is caught on load.


@pytest.fixture(scope="module")
def good_folder(auto_repair: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = simulate(auto_repair, runs=6, seed=2, workers=1, horizon_months=12)
    return save_results(results, tmp_path_factory.mktemp("good") / "good", figures=False)


def _manifest(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        record = json.loads((folder / "manifest.json").read_text())
        change(record)
        (folder / "manifest.json").write_text(json.dumps(record))

    return damage


def _manifest_text(edit: Callable[[str], str]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / "manifest.json"
        path.write_text(edit(path.read_text()))

    return damage


def _table(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        if name.endswith(".csv"):
            change(pd.read_csv(path, keep_default_na=False, na_values=[""])).to_csv(
                path, index=False
            )
        else:
            change(pd.read_parquet(path)).to_parquet(path, index=False)

    return damage


def _set(column: str, row: int, value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(table: pd.DataFrame) -> pd.DataFrame:
        table[column] = table[column].astype(object)
        table.loc[row, column] = value
        return table

    return change


def _rename_arm(table: pd.DataFrame) -> pd.DataFrame:
    table["arm"] = table["arm"].replace("franchise", "franchize")
    return table


DAMAGE: dict[str, tuple[Callable[[Path], object], str]] = {
    "seed missing": (_manifest(lambda r: r.pop("seed")), "manifest.json: seed is missing"),
    "seed null": (
        _manifest(lambda r: r.update(seed=None)),
        "manifest.json: seed is not a whole number (it is null)",
    ),
    "seed as text": (
        _manifest(lambda r: r.update(seed="5")),
        'manifest.json: seed is not a whole number (it is "5")',
    ),
    "seed true": (
        _manifest(lambda r: r.update(seed=True)),
        "manifest.json: seed is not a whole number (it is true)",
    ),
    "runs 0": (
        _manifest(lambda r: r.update(runs=0)),
        "manifest.json: runs: input should be greater than or equal to 1",
    ),
    "horizon 5000": (
        _manifest(lambda r: r.update(horizon_months=5000)),
        "manifest.json: horizon_months: input should be less than or equal to 360",
    ),
    "deterministic as text": (
        _manifest(lambda r: r.update(deterministic="false")),
        'manifest.json: deterministic is not true or false (it is "false")',
    ),
    "run_seconds as text": (
        _manifest(lambda r: r.update(run_seconds="fast")),
        'manifest.json: run_seconds is not a number of seconds (it is "fast")',
    ),
    "arms renamed": (
        _manifest(lambda r: r.update(arms=["independent", "franchize"])),
        "manifest.json: arms (independent, franchize) do not match the arms of the scenario it "
        "holds (independent, franchise)",
    ),
    "arms duplicated": (
        _manifest(lambda r: r.update(arms=["independent", "independent"])),
        "manifest.json: arms names 'independent' twice",
    ),
    "arms not the scenario's": (
        _manifest(lambda r: r.update(arms=["franchise", "independent"])),
        "manifest.json: arms (franchise, independent) do not match",
    ),
    "arms not a list": (
        _manifest(lambda r: r.update(arms="independent")),
        'manifest.json: arms is not a list of arm names (it is "independent")',
    ),
    "deep nesting": (
        _manifest_text(lambda t: t.replace('"scenario": {', '"scenario": ' + "[" * 100_000, 1)),
        "manifest.json is nested too deeply",
    ),
    "5,000-digit integer": (
        _manifest_text(lambda t: t.replace('"seed": 2,', '"seed": ' + "7" * 5000 + ",", 1)),
        "manifest.json holds a number with too many digits",
    ),
    "scenario invalid": (
        _manifest(lambda r: r["scenario"]["arms"]["franchise"]["franchise"].update(royalty_rate=5)),
        "manifest.json: the scenario it holds is invalid: arms.franchise.franchise.royalty_rate: "
        "5 is no royalty a franchisor charges",
    ),
    "not JSON": (_manifest_text(lambda t: t[:-20]), "manifest.json is not valid JSON (line "),
    "not an object": (_manifest_text(lambda t: "[1, 2]"), "manifest.json does not hold a JSON"),
    "summary column missing": (
        _table("summary.csv", lambda t: t.drop(columns="brand_shocks")),
        "summary.csv has no column brand_shocks",
    ),
    "summary text in numbers": (
        _table("summary.csv", _set("npv", 2, "lots")),
        "summary.csv: column npv holds text where numbers belong (row 3: 'lots')",
    ),
    "summary duplicated row": (
        _table("summary.csv", lambda t: pd.concat([t, t.iloc[[4]]])),
        "summary.csv: the row of arm independent, replication 4 appears more than once",
    ),
    "summary arm renamed": (
        _table("summary.csv", _rename_arm),
        "summary.csv: arm 'franchize' is not one of the manifest's arms (independent, franchise)",
    ),
    "summary row missing": (
        _table("summary.csv", lambda t: t.iloc[:-1]),
        "summary.csv holds 11 rows where the manifest's 2 arms x 6 runs need 12",
    ),
    "summary zero rows": (_table("summary.csv", lambda t: t.iloc[:0]), "summary.csv holds no rows"),
    "summary replication out of range": (
        _table("summary.csv", _set("replication", 0, 6)),
        "summary.csv: column replication holds 6 where whole numbers from 0 to 5 belong (row 1)",
    ),
    "summary not CSV": (
        lambda f: (f / "summary.csv").write_bytes(bytes(range(256)) * 4),
        "summary.csv cannot be read (Error tokenizing data. C error: Expected 1 fields in line 3, "
        "saw 2)",
    ),
    "monthly text column": (
        _table("monthly.parquet", lambda t: t.assign(cash=t["cash"].astype(str))),
        "monthly.parquet: column cash holds text where numbers belong (row 1: ",
    ),
    "monthly NaN": (
        _table("monthly.parquet", _set("cash", 30, float("nan"))),
        "monthly.parquet: column cash holds NaN or infinity (row 31)",
    ),
    "monthly infinity": (
        _table("monthly.parquet", _set("revenue", 7, float("inf"))),
        "monthly.parquet: column revenue holds NaN or infinity (row 8)",
    ),
    "monthly duplicated row": (
        _table("monthly.parquet", lambda t: pd.concat([t.iloc[:-1], t.iloc[[0]]])),
        "monthly.parquet: the row of arm independent, replication 0, month 1 appears more than",
    ),
    "monthly arm renamed": (
        _table("monthly.parquet", _rename_arm),
        "monthly.parquet: arm 'franchize' is not one of the manifest's arms",
    ),
    "monthly zero rows": (
        _table("monthly.parquet", lambda t: t.iloc[:0]),
        "monthly.parquet holds no rows",
    ),
    "monthly row missing": (
        _table("monthly.parquet", lambda t: t.iloc[1:]),
        "monthly.parquet holds 143 rows where the manifest's 2 arms x 6 runs x 12 months need 144",
    ),
    "monthly column missing": (
        _table("monthly.parquet", lambda t: t.drop(columns="cash")),
        "monthly.parquet has no column cash",
    ),
    "monthly month out of range": (
        _table("monthly.parquet", _set("month", 0, 13)),
        "monthly.parquet: column month holds 13 where whole numbers from 1 to 12 belong (row 1)",
    ),
    "monthly not Parquet": (
        lambda f: (f / "monthly.parquet").write_text("arm,replication\n"),
        "monthly.parquet cannot be read (Could not open Parquet input source 'monthly.parquet': "
        "Parquet magic bytes not found in footer.",
    ),
    "monthly missing": (lambda f: (f / "monthly.parquet").unlink(), "it holds no monthly.parquet"),
    "a sweep's marker": (
        lambda f: (f / ".franchise-sim.json").write_text('{"kind": "sweep"}'),
        "it holds a sweep; plot and report read the folder of a run",
    ),
    "a 10,000-character seed": (
        _manifest(lambda r: r.update(seed="8" * 10_000)),
        'manifest.json: seed is not a whole number (it is "888',
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_tampered_folder_ends_in_one_message_naming_the_file(
    damage: str, good_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(good_folder, folder)
    harm, reason = DAMAGE[damage]
    harm(folder)
    with pytest.raises(ResultsFolderError) as raised:
        load_results(folder)
    message = str(raised.value)
    assert message.startswith(f"{folder} is not a valid results folder: {reason}"), message
    assert "http" not in message
    assert len(message) < 400  # long values are cut
    if "manifest.json" not in reason:
        assert "manifest.json" not in message.removeprefix(str(folder))
    for command in ("plot", "report"):
        result = CliRunner().invoke(main, [command, str(folder)])
        assert result.exit_code == 2, result.output
        assert result.output == f"franchise-sim: {message}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name
        for p in good_folder.iterdir()
        if p.name != "monthly.parquet" or damage != "monthly missing"
    )


def test_a_folder_of_an_older_version_without_the_marker_still_reads(
    original: SimulationResults, tmp_path: Path
) -> None:
    folder = save_results(original, tmp_path / "old", figures=False)
    (folder / ".franchise-sim.json").unlink()
    loaded = load_results(folder)
    np.testing.assert_array_equal(loaded.trajectories, original.trajectories)
    result = CliRunner().invoke(main, ["plot", str(folder), "--only", "npv"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("version", "reads"), [("0.1.0", True), ("0.2.0", False)])
def test_a_folder_from_before_model_v2_reads_with_its_new_columns_at_zero(
    good_folder: Path, tmp_path: Path, version: str, reads: bool
) -> None:
    # 0.1 wrote no asset sale, closure costs or rival exits: its folders still read, at zero.
    folder = tmp_path / "old"
    shutil.copytree(good_folder, folder)
    _table("monthly.parquet", lambda t: t.drop(columns=["asset_sale", "closure_costs"]))(folder)
    _table("summary.csv", lambda t: t.drop(columns=["competitor_exit"]))(folder)
    _manifest(lambda r: r.update(franchise_sim_version=version))(folder)
    if not reads:
        with pytest.raises(ResultsFolderError, match="competitor_exit"):
            load_results(folder)
        return
    again, first = load_results(folder), load_results(good_folder)
    np.testing.assert_array_equal(again.trajectories, first.trajectories)
    assert (again.shock_counts["competitor_exit"] == 0).all()


@pytest.mark.parametrize("summary_only", [False, True])
def test_a_folder_written_with_every_relationship_reads_as_a_run_of_those_in_use(
    auto_repair: Scenario, tmp_path: Path, summary_only: bool
) -> None:
    # Before runs kept only the relationships their arms hold, every folder held the columns
    # and counters of them all (zero where no arm held one): it reads as a run of today.
    settings: dict[str, Any] = {"runs": 6, "seed": 2, "workers": 1, "horizon_months": 12}
    settings["summary_only"] = summary_only
    every = simulate(auto_repair, relationships=DEFAULT_RELATIONSHIPS, **settings)
    used = simulate(auto_repair, **settings)
    assert "partnership_costs" in every.monthly_columns
    assert "partner_closed_month" in every.summary.columns
    folder = save_results(every, tmp_path / "every", figures=False)
    if not summary_only:
        assert "partnership_costs" in pd.read_parquet(folder / "monthly.parquet").columns
    assert "partner_closed_month" in pd.read_csv(folder / "summary.csv").columns
    loaded = load_results(folder)
    assert loaded.monthly_columns == used.monthly_columns == scenario_columns(auto_repair)
    assert loaded.outcomes.keys() == used.outcomes.keys()
    assert_identical(loaded, used)


def test_a_folder_without_a_column_of_a_relationship_its_arms_hold_does_not_read(
    tmp_path: Path,
) -> None:
    strategies = load_scenario(AUTO_REPAIR.with_name("auto_repair_strategies.yaml"))
    results = simulate(strategies, runs=4, seed=2, workers=1, horizon_months=6)
    assert "partnership_costs" in results.monthly_columns
    folder = save_results(results, tmp_path / "held", figures=False)
    np.testing.assert_array_equal(load_results(folder).trajectories, results.trajectories)
    _table("monthly.parquet", lambda t: t.drop(columns=["partnership_costs"]))(folder)
    with pytest.raises(ResultsFolderError, match="partnership_costs"):
        load_results(folder)
