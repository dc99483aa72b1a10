"""Summary-only runs: the same outcomes and survival as full runs, bands within their bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from franchise_sim.analysis.comparison import compare
from franchise_sim.engine import runner as monte_carlo
from franchise_sim.engine.monthly_aggregates import (
    N_BINS,
    RELATIVE_ACCURACY,
    SMALLEST,
    STREAMED_FIGURES,
    MonthlyAggregates,
    bin_index,
    streamed_figure,
)
from franchise_sim.engine.results import NoTrajectoriesError, SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.cli import main
from franchise_sim.outputs.folders import (
    AGGREGATES_FILE,
    MONTHLY_FILE,
    OUTCOMES_FILE,
    ResultsFolderError,
    load_results,
)
from franchise_sim.outputs.workbook import monthly_bands
from franchise_sim.scenario.schema import Scenario

from .books import assert_identical
from .conftest import AUTO_REPAIR

RUNS, HORIZON, SEED = 90, 36, 11


@pytest.fixture(scope="module")
def both(shipped_auto_repair: Scenario) -> tuple[SimulationResults, SimulationResults]:
    """The same run kept whole and summary-only."""
    full = run(shipped_auto_repair, workers=2)
    summary = run(shipped_auto_repair, workers=2, summary_only=True)
    return full, summary


def run(scenario: Scenario, **options: Any) -> SimulationResults:
    """The module's small run of ``scenario``."""
    return simulate(scenario, runs=RUNS, seed=SEED, horizon_months=HORIZON, **options)


def test_summary_only_gives_the_outcomes_and_survival_of_the_full_run(
    both: tuple[SimulationResults, SimulationResults],
) -> None:
    full, summary = both
    assert summary.summary_only
    assert not full.summary_only
    assert_identical(full, summary)
    assert np.array_equal(full.survival_curve(), summary.survival_curve())
    for month in range(1, HORIZON + 1):
        assert np.array_equal(full.alive_at(month), summary.alive_at(month))
    assert compare(full).to_text() == compare(summary).to_text()
    assert full.summary.equals(summary.summary)


def test_the_aggregates_are_those_of_the_full_books(
    both: tuple[SimulationResults, SimulationResults],
) -> None:
    full, summary = both
    whole = MonthlyAggregates.of_books(
        full.scenario, full.arms, full.monthly_columns, full.trajectories
    )
    assert summary.monthly_aggregates is not None
    assert np.array_equal(whole.histograms, summary.monthly_aggregates.histograms)
    assert np.array_equal(whole.open_runs, (full.series("alive") > 0.5).sum(axis=1))


@pytest.mark.parametrize(
    ("runs", "copies"),
    # 3 runs: every (figure, arm) has few values and is sorted. The runs 8 times over: 25,920
    # values for each figure of every run (the owner's cash flow), more than an eighth of its
    # 36 x N_BINS bins, so those are counted into bins.
    [(3, 1), (RUNS, 8)],
)
def test_each_histogram_counts_its_figure_arm_and_month_values_by_bin(
    both: tuple[SimulationResults, SimulationResults], runs: int, copies: int
) -> None:
    full = both[0]
    books = np.concatenate([full.trajectories[:, :runs]] * copies, axis=1)
    assert copies == 1 or books.shape[1] * HORIZON * 8 >= HORIZON * N_BINS
    whole = MonthlyAggregates.of_books(full.scenario, full.arms, full.monthly_columns, books)
    alive = books[..., full.monthly_columns.index("alive")] > 0.5
    for f, (name, open_only) in enumerate(STREAMED_FIGURES.items()):
        values = streamed_figure(name, full.scenario, full.arms, full.monthly_columns, books)
        for a in range(len(full.arms)):
            for month in (0, HORIZON // 2, HORIZON - 1):
                kept = values[a, alive[a, :, month] if open_only else slice(None), month]
                expected = np.bincount(bin_index(kept), minlength=N_BINS)
                assert np.array_equal(whole.histograms[f, a, month], expected), (name, a, month)
    assert whole.runs == runs * copies


def test_bands_are_within_their_bound_of_numpy_percentile(
    both: tuple[SimulationResults, SimulationResults],
) -> None:
    full, summary = both
    assert summary.monthly_aggregates is not None
    alive = full.series("alive") > 0.5
    wanted = (5.0, 25.0, 50.0, 75.0, 95.0)
    for name, open_only in STREAMED_FIGURES.items():
        values = streamed_figure(
            name, full.scenario, full.arms, full.monthly_columns, full.trajectories
        )
        bands = summary.monthly_aggregates.percentiles(name, wanted)
        for i in range(len(full.arms)):
            for month in range(HORIZON):
                kept = np.sort(values[i, alive[i, :, month] if open_only else slice(None), month])
                if len(kept) == 0:
                    assert np.isnan(bands[:, i, month]).all()
                    continue
                for j, p in enumerate(wanted):
                    position = (len(kept) - 1) * p / 100.0
                    low, high = kept[int(np.floor(position))], kept[int(np.ceil(position))]
                    exact = np.percentile(kept, p)
                    bound = RELATIVE_ACCURACY * max(abs(low), abs(high)) + SMALLEST
                    assert abs(bands[j, i, month] - exact) <= bound * (1 + 1e-9), (name, p)


def test_summary_only_is_the_same_for_any_workers_and_batch_size(
    shipped_auto_repair: Scenario,
    both: tuple[SimulationResults, SimulationResults],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, summary = both
    monkeypatch.setattr(monte_carlo, "SUMMARY_BATCH_BYTES", 1)  # one replication a batch
    for workers in (1, 3):
        other = run(shipped_auto_repair, workers=workers, summary_only=True)
        assert_identical(summary, other)


def test_summary_only_results_say_they_hold_no_books(
    both: tuple[SimulationResults, SimulationResults], shipped_auto_repair: Scenario
) -> None:
    _, summary = both
    with pytest.raises(NoTrajectoriesError, match="summary-only"):
        summary.series("cash")
    with pytest.raises(NoTrajectoriesError, match="summary-only"):
        _ = summary.monthly
    with pytest.raises(ValueError, match="plan on paper"):
        simulate(shipped_auto_repair, deterministic=True, summary_only=True)


def test_the_workbook_bands_of_a_summary_only_run(
    both: tuple[SimulationResults, SimulationResults],
) -> None:
    full, summary = both
    exact, streamed = monthly_bands(full), monthly_bands(summary)
    assert list(exact.columns) == list(streamed.columns)
    for column in ("arm", "month", "open_share", "open_runs"):
        assert exact[column].equals(streamed[column]), column
    median = exact["customers_median"].to_numpy()
    close = np.isclose(streamed["customers_median"], median, rtol=RELATIVE_ACCURACY, atol=1.0)
    assert (close | np.isnan(median)).all()


def test_a_summary_only_folder_reads_back_and_draws(tmp_path: Path) -> None:
    out = tmp_path / "summary"
    args = ["run", str(AUTO_REPAIR), "--runs", "40", "--horizon-months", "24", "--seed", "3"]
    result = CliRunner().invoke(main, [*args, "--summary-only", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {OUTCOMES_FILE, AGGREGATES_FILE, "summary.csv", "customers.png"} <= names
    assert MONTHLY_FILE not in names
    assert json.loads((out / "manifest.json").read_text())["summary_only"] is True
    loaded = load_results(out)
    again = simulate(
        loaded.scenario, runs=40, seed=3, horizon_months=24, summary_only=True, workers=1
    )
    assert_identical(loaded, again)
    runner = CliRunner()
    plotted = runner.invoke(main, ["plot", str(out), "--only", "customers"])
    assert plotted.exit_code == 0, plotted.output
    reported = runner.invoke(main, ["report", str(out)])
    assert reported.exit_code == 0, reported.output
    assert (out / "report.html").is_file()


def test_aggregates_that_do_not_match_the_outcomes_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "summary"
    args = ["run", str(AUTO_REPAIR), "--runs", "12", "--horizon-months", "12", "--no-plots"]
    result = CliRunner().invoke(main, [*args, "--summary-only", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    with np.load(out / AGGREGATES_FILE) as stored:
        open_runs, histograms = stored["open_runs"], stored["histograms"]
    np.savez_compressed(out / AGGREGATES_FILE, open_runs=open_runs + 1, histograms=histograms)
    with pytest.raises(ResultsFolderError, match="does not match the closures"):
        load_results(out)


def test_run_keeps_a_summary_only_when_the_books_would_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monte_carlo, "memory_for_trajectories", lambda: 1_000)
    out = tmp_path / "big"
    args = ["run", str(AUTO_REPAIR), "--runs", "6", "--horizon-months", "6", "--no-plots"]
    result = CliRunner().invoke(main, [*args, "--workers", "1", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "summary only" in line]
    assert len(said) == 1
    assert "would need" in said[0]
    assert (out / AGGREGATES_FILE).is_file()
    assert not (out / MONTHLY_FILE).exists()


def test_summary_only_with_the_plan_on_paper_is_one_line_exit_2(tmp_path: Path) -> None:
    args = ["run", str(AUTO_REPAIR), "--deterministic", "--summary-only"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
