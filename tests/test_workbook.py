"""The Excel workbook: its sheets hold the same numbers as compare() and the arrays, as numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.worksheet import Worksheet

from franchise_sim import load_results, simulate
from franchise_sim.analysis.comparison import compare
from franchise_sim.interfaces.cli import main
from franchise_sim.interfaces.notebook import Results
from franchise_sim.outputs.workbook import (
    SHARE,
    SHEETS,
    USD,
    WORKBOOK_FILE,
    WorkbookError,
    check_workbook_size,
)
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.schema import Scenario
from tests.conftest import AUTO_REPAIR, printed_by

RUNS = 24
HORIZON = 36


@pytest.fixture(scope="module")
def results(auto_repair: Scenario) -> Results:
    return simulate(auto_repair, runs=RUNS, seed=5, workers=1, horizon_months=HORIZON)


@pytest.fixture(scope="module")
def folder(results: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return results.save(tmp_path_factory.mktemp("xlsx") / "out", figures=False, xlsx=True)


@pytest.fixture(scope="module")
def book(folder: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(folder / WORKBOOK_FILE)


def stored(value: float) -> float:
    """A float as an .xlsx file holds it: 16 significant digits (Excel itself keeps 15)."""
    return float(f"{value:.16g}")


def _rows_by_label(sheet: Worksheet) -> dict[str, list[Any]]:
    """The Summary's rows keyed by their first cell (the later of two equal labels wins)."""
    rows: dict[str, list[Any]] = {}
    for row in sheet.iter_rows():
        if isinstance(row[0].value, str):
            rows[row[0].value] = list(row[1:])
    return rows


def test_the_workbook_has_its_four_sheets(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == list(SHEETS) == ["Summary", "Monthly", "Runs", "Assumptions"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes is not None, sheet.title


def test_summary_numbers_are_those_of_compare(book: openpyxl.Workbook, results: Results) -> None:
    comparison = compare(results)
    rows = _rows_by_label(book["Summary"])
    labels = [c.value for c in next(book["Summary"].iter_rows(max_row=1))[1:3]]
    assert labels == [a.label for a in comparison.arms]
    for month, name in ((12, "1 year"), (36, "3 years")):
        cells = rows[f"Open after {name}"]
        assert [c.value for c in cells[:2]] == [stored(a.survival[month]) for a in comparison.arms]
        assert all(c.number_format == SHARE for c in cells[:2])
    for stat, shown in (("median", "median"), ("p10", "P10"), ("p90", "P90")):
        cells = rows[f"NPV to the owner at 10%, USD: {shown}"]
        expected = [stored(getattr(a.npv, stat)) for a in comparison.arms]
        assert [c.value for c in cells[:2]] == expected
        assert all(isinstance(c.value, float) and c.number_format == USD for c in cells[:2])
    (contrast,) = comparison.contrasts
    npv = [c.value for c in rows["NPV to the owner, USD"][:3]]
    assert npv == [
        stored(contrast.npv.estimate),
        stored(contrast.npv.low),
        stored(contrast.npv.high),
    ]
    assert npv[1] < npv[0] < npv[2]
    gap = [c.value for c in rows["Open after 3 years, points"][:3]]
    assert gap == [
        stored(getattr(contrast.survival_points[36], s)) for s in ("estimate", "low", "high")
    ]
    better = rows["Share of runs where its NPV is higher"][0]
    assert better.value == stored(contrast.probability_npv_better)
    assert better.number_format == SHARE
    assert rows["Seed"][0].value == 5
    assert rows["Runs (paired, per arm)"][0].value == RUNS
    assert rows["Horizon, months"][0].value == HORIZON
    assert f"--runs {RUNS} --seed 5 --horizon-months {HORIZON}" in rows["Replay"][0].value


def test_monthly_medians_and_bands_are_over_the_businesses_still_open(
    folder: Path, results: Results
) -> None:
    monthly = pd.read_excel(folder / WORKBOOK_FILE, sheet_name="Monthly")
    assert len(monthly) == len(results.arms) * HORIZON
    assert list(monthly.columns[:4]) == ["arm", "month", "open_share", "open_runs"]
    alive = results.series("alive") > 0.5
    for arm, month in (("franchise", 12), ("independent", 30)):
        i = results.arm_index(arm)
        row = monthly[(monthly["arm"] == arm) & (monthly["month"] == month)].iloc[0]
        kept = alive[i, :, month - 1]
        customers = results.series("customers")[i, kept, month - 1]
        assert row["customers_median"] == stored(np.median(customers))
        assert row["open_share"] == stored(kept.mean())
        assert row["open_runs"] == kept.sum()
        flow = (
            results.series("operating_profit")
            - results.series("interest")
            - results.series("principal")
        )[i, kept, month - 1]
        assert row["cash_flow_after_loan_payments_median"] == stored(np.median(flow))
        revenue = results.series("revenue")[i, kept, month - 1]
        assert row["revenue_p90"] == stored(np.percentile(revenue, 90))
        assert row["revenue_p10"] <= row["revenue_p25"] <= row["revenue_median"]
        assert row["revenue_median"] <= row["revenue_p75"] <= row["revenue_p90"]


def test_monthly_cells_are_formatted_numbers(book: openpyxl.Workbook) -> None:
    sheet = book["Monthly"]
    head = [c.value for c in sheet[1]]
    second = sheet[2]
    for name, number_format in (("revenue_median", USD), ("open_share", SHARE)):
        cell = second[head.index(name)]
        assert isinstance(cell.value, int | float)
        assert cell.number_format == number_format


def test_runs_sheet_is_the_per_run_table(folder: Path, results: Results) -> None:
    runs = pd.read_excel(folder / WORKBOOK_FILE, sheet_name="Runs")
    assert len(runs) == len(results.arms) * RUNS
    assert list(runs.columns) == list(results.summary.columns)
    assert runs["npv"].tolist() == [stored(x) for x in results.summary["npv"]]
    sheet = openpyxl.load_workbook(folder / WORKBOOK_FILE)["Runs"]
    assert sheet.auto_filter.ref == sheet.dimensions
    npv = [c.value for c in sheet[1]].index("npv")
    assert sheet.cell(row=2, column=npv + 1).number_format == USD


def test_assumptions_list_every_arm_with_overrides_resolved(folder: Path, results: Results) -> None:
    table = pd.read_excel(folder / WORKBOOK_FILE, sheet_name="Assumptions")
    assert set(table["arm"]) == set(results.arms)
    spend = table[table["path"] == "customers.spend_per_visit_usd"].set_index("arm")
    scenario = results.scenario
    for arm in results.arms:
        value = scenario.arm(arm).customers.spend_per_visit_usd
        assert spend.loc[arm, "mean"] == stored(mean_of(value))
        assert spend.loc[arm, "distribution"] == value.dist  # type: ignore[union-attr]
    # The franchise arm overrides the ticket in the shipped file; the independent does not.
    assert spend.loc["franchise", "source"] == "arms.franchise override"
    assert spend.loc["independent", "source"] == "shared"
    royalty = table[table["path"] == "franchise.royalty_rate"]
    assert royalty["arm"].tolist() == ["franchise"]
    assert royalty["value"].tolist() == [scenario.arm("franchise").franchise.royalty_rate]  # type: ignore[union-attr]
    # The run settings are the ones this run used, not the file's 1,000 runs.
    runs = table[table["path"] == "run.runs"]
    assert runs["value"].tolist() == [RUNS] * len(results.arms)
    assert set(runs["source"]) == {"this run"}
    loan = table[(table["path"] == "computed.loan_usd") & (table["arm"] == "franchise")]
    assert loan["value"].tolist() == [scenario.arm("franchise").loan_usd()]


def test_saved_results_read_back_write_the_same_summary(folder: Path, tmp_path: Path) -> None:
    again = load_results(folder).save(tmp_path / "again", figures=False, xlsx=True)
    first = pd.read_excel(folder / WORKBOOK_FILE, sheet_name=None)
    second = pd.read_excel(again / WORKBOOK_FILE, sheet_name=None)
    for name in ("Monthly", "Runs", "Assumptions"):
        pd.testing.assert_frame_equal(first[name], second[name])
    summary = first["Summary"].iloc[:-12]  # the "About" rows name the scenario file
    pd.testing.assert_frame_equal(summary, second["Summary"].iloc[:-12])


def test_a_deterministic_plan_has_no_intervals(auto_repair: Scenario, tmp_path: Path) -> None:
    plan = simulate(auto_repair, deterministic=True, horizon_months=24)
    folder = plan.save(tmp_path / "plan", figures=False, xlsx=True)
    rows = _rows_by_label(openpyxl.load_workbook(folder / WORKBOOK_FILE)["Summary"])
    npv = rows["NPV to the owner, USD"]
    assert npv[0].value == stored(compare(plan).contrasts[0].npv.estimate)
    assert [c.value for c in npv[1:3]] == [None, None]
    assert "Share of runs where its NPV is higher" not in rows


def test_too_many_runs_for_one_sheet_are_refused() -> None:
    check_workbook_size(2, 524_287)
    with pytest.raises(WorkbookError, match="at most 524,287 runs"):
        check_workbook_size(2, 524_288)


def test_run_writes_the_workbook_only_with_xlsx(tmp_path: Path) -> None:
    args = ["run", str(AUTO_REPAIR), "--runs", "12", "--workers", "1", "--horizon-months", "12"]
    args += ["--no-plots", "--quiet"]
    runner = CliRunner()
    plain = runner.invoke(main, [*args, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    assert not (tmp_path / "plain" / WORKBOOK_FILE).exists()
    book = runner.invoke(main, [*args, "--out", str(tmp_path / "book"), "--xlsx"])
    assert book.exit_code == 0, book.output
    sheets = pd.read_excel(tmp_path / "book" / WORKBOOK_FILE, sheet_name=None)
    assert list(sheets) == list(SHEETS)
    assert len(sheets["Runs"]) == 2 * 12


def test_run_refuses_a_workbook_too_large_before_simulating(tmp_path: Path) -> None:
    out = tmp_path / "big"
    result = CliRunner().invoke(
        main, ["run", str(AUTO_REPAIR), "--runs", "600000", "--xlsx", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "--xlsx: 2 arms x 600,000 runs do not fit one Excel sheet" in result.output
    assert not out.exists()


def test_the_command_line_starts_without_openpyxl() -> None:
    code = "import sys, franchise_sim.interfaces.cli; print('openpyxl' in sys.modules)"
    assert printed_by(code) == "False"
