"""The verdict in words, the headline table's wording, and the report's investment rows."""

from __future__ import annotations

import dataclasses
import math
import re
from html import unescape

import numpy as np
import pytest
from scipy import stats

from franchise_sim import Results, load_scenario, simulate
from franchise_sim.analysis.comparison import compare, format_value, verdict
from franchise_sim.analysis.statistics import (
    median_interval,
    paired_difference,
    proportion_interval,
)
from franchise_sim.outputs.report import html_report
from franchise_sim.scenario.schema import Scenario
from tests.conftest import SCENARIOS

RUNS = 200


@pytest.fixture(scope="module")
def small_run(auto_repair: Scenario) -> Results:
    return simulate(auto_repair, runs=RUNS, seed=4, workers=1)


def _with_npv(results: Results, baseline: np.ndarray, arm: np.ndarray) -> Results:
    """The same results with hand-built NPVs (independent first, then the franchise)."""
    outcomes = dict(results.outcomes)
    outcomes["npv"] = np.array([baseline, arm], dtype=float)
    return dataclasses.replace(results, outcomes=outcomes)


def test_the_verdicts_numbers_are_the_tables(small_run: Results) -> None:
    comparison = small_run.comparison
    v = comparison.verdict()
    assert verdict(small_run) == v  # the function gives the same verdict from the same results
    (contrast,) = comparison.contrasts
    independent, franchise = comparison.arms
    # The very objects the table shows...
    assert v.npv_mean_difference is contrast.npv
    assert v.npv_median_difference is contrast.npv_median_difference
    assert v.survival_difference_points is contrast.survival_points[small_run.horizon_months]
    assert v.npv_median is franchise.npv_median
    assert v.baseline_npv_median is independent.npv_median
    assert v.survival is franchise.survival_at_horizon
    assert v.probability_npv_better == contrast.probability_npv_better
    # ...which are the statistics of the runs.
    npv = small_run.outcomes["npv"]
    assert v.npv_mean_difference == paired_difference(npv[1], npv[0])
    assert v.npv_median_difference == median_interval(npv[1] - npv[0])
    assert v.npv_median == median_interval(npv[1])
    assert v.npv_loss_share == np.mean(npv[1] < 0)
    assert v.survival == proportion_interval(small_run.series("alive")[1, :, -1])
    assert v.survival.estimate == franchise.survival[small_run.horizon_months]
    # The words and the table print the same figures.
    text, table = v.text, comparison.to_text()
    for number in (
        format_value(v.npv_mean_difference.estimate, "signed_usd"),
        format_value(v.npv_mean_difference.low, "signed_usd"),
        format_value(v.npv_median_difference.estimate, "signed_usd"),
        format_value(v.npv_median.estimate, "usd"),
        format_value(v.baseline_npv_median.low, "usd"),
        format_value(v.survival.low, "share1"),
        format_value(v.probability_npv_better, "share"),
    ):
        assert number in text
        assert number in table
    assert v.sentence in table.replace("\n    ", " ")


def test_mean_above_and_typical_run_below_give_the_reconciling_sentence(
    small_run: Results,
) -> None:
    # 55% of runs lose 10,000, 35% gain 1,000, 10% gain 200,000: mean +14,850, median -10,000.
    n55, n35 = int(0.55 * RUNS), int(0.35 * RUNS)
    gain = np.r_[np.full(n55, -10_000.0), np.full(n35, 1_000.0), np.full(RUNS - n55 - n35, 2e5)]
    v = verdict(_with_npv(small_run, np.zeros(RUNS), gain))
    assert v.npv_mean_difference.estimate == pytest.approx(14_850)
    assert v.npv_mean_difference.low > 0
    assert v.npv_median_difference.estimate == -10_000
    assert v.mean_and_typical_disagree
    assert v.sentence == (
        "Owner's NPV: Automotive-service franchise's median NPV is lower (-$10,000 against $0) "
        "and it does better in only 45% of paired runs, but its mean is higher by $14,850 "
        "because of a few large wins: a typical owner does better with Independent shop; "
        "Automotive-service franchise is a long shot with a fatter upside."
    )


def test_mean_below_and_typical_run_above_warn_of_the_downside(
    small_run: Results,
) -> None:
    n55, n35 = int(0.55 * RUNS), int(0.35 * RUNS)
    loss = -np.r_[np.full(n55, -10_000.0), np.full(n35, 1_000.0), np.full(RUNS - n55 - n35, 2e5)]
    v = verdict(_with_npv(small_run, np.zeros(RUNS), loss))
    assert v.mean_and_typical_disagree
    assert "does better in 55% of paired runs" in v.sentence
    assert "its mean is lower by $14,850 because of a few large losses" in v.sentence
    assert "a typical owner does better with Automotive-service franchise" in v.sentence
    assert "fatter downside" in v.sentence


def test_agreeing_mean_and_median_give_a_plain_winner(small_run: Results) -> None:
    v = verdict(_with_npv(small_run, np.zeros(RUNS), np.linspace(1_000, 9_000, RUNS)))
    assert not v.mean_and_typical_disagree
    assert v.sentence.startswith(
        "Owner's NPV: Automotive-service franchise is likely better than Independent shop"
    )
    assert "which excludes 0" in v.text
    assert v.npv_runs_to_resolve is None


def test_a_straddling_interval_is_not_resolved_and_says_how_many_runs_would(
    small_run: Results,
) -> None:
    noise = np.where(np.arange(RUNS) % 2 == 0, 1_000.0, -1_000.0) + 10.0
    noise[:4] += [300.0, -200.0, 50.0, 170.0]  # not quite symmetric
    v = verdict(_with_npv(small_run, np.zeros(RUNS), noise))
    mean, sd = noise.mean(), noise.std(ddof=1)
    assert v.npv_mean_difference.low < 0 < v.npv_mean_difference.high
    expected = math.ceil((stats.norm.ppf(0.975) * sd / abs(mean)) ** 2)
    assert v.npv_runs_to_resolve == expected
    step = 10 ** (len(str(expected)) - 2)
    about = math.ceil(expected / step) * step
    assert f"its sign is not resolved at {RUNS} runs; about {about:,} runs would resolve it" in (
        v.text
    )


def test_a_tiny_difference_is_too_small_to_matter(small_run: Results) -> None:
    noise = np.where(np.arange(RUNS) % 2 == 0, 1_000.0, -1_000.0)
    noise[0] += 0.5  # a mean of 0.0025 against a spread of 1,000
    v = verdict(_with_npv(small_run, np.zeros(RUNS), noise))
    assert v.npv_runs_to_resolve is not None
    assert v.npv_runs_to_resolve > 1_000_000
    assert "more than 1,000,000 runs: the difference is too small to matter" in v.text


def test_both_losing_money_is_said_plainly(small_run: Results) -> None:
    base = np.linspace(-50_000, 10_000, RUNS)
    v = verdict(_with_npv(small_run, base, base - 5_000))
    assert v.both_lose_money
    assert v.sentences()[0].startswith("Both paths lose money for a typical owner")
    assert not verdict(_with_npv(small_run, -base, -base + 5_000)).both_lose_money
    one = verdict(_with_npv(small_run, base, -base))
    assert not one.both_lose_money
    assert one.sentences()[2].endswith(": Independent shop loses money for a typical owner.")


def test_survival_runs_to_resolve_is_the_closed_form(small_run: Results) -> None:
    v = verdict(small_run)
    alive = small_run.series("alive")[:, :, -1]
    gaps = 100.0 * (alive[1] - alive[0])
    if v.survival_difference_points.low > 0 or v.survival_difference_points.high < 0:
        assert v.survival_runs_to_resolve is None
    else:
        assert v.survival_runs_to_resolve == max(
            2, math.ceil((stats.norm.ppf(0.975) * gaps.std(ddof=1) / abs(gaps.mean())) ** 2)
        )


def test_the_plan_on_paper_says_it_has_no_odds(auto_repair: Scenario) -> None:
    v = verdict(simulate(auto_repair, runs=1, deterministic=True, workers=1))
    assert v.text.startswith("On paper (every input at its mean, no random events)")
    assert "says nothing about the odds" in v.text
    assert v.npv_runs_to_resolve is None


def test_the_table_reads_plainly(small_run: Results) -> None:
    comparison = compare(small_run)
    text = comparison.to_text()
    assert comparison.question == (
        "Automotive-service franchise or Independent shop: which is the better start?"
    )
    assert comparison.question in text
    assert "closed 0" not in text
    assert "Customers at month 60, both open" in text
    assert "Customers at month 60, closed ones as 0" in text
    # Measures the draw policy does not set come first; the business's cash last, with its policy.
    assert text.index("Owner's NPV") < text.index("Business cash at month 60")
    assert "set by the draw policy (floor to ceiling)" in text
    assert "$12,000 to $60,000" in text


@pytest.fixture(scope="module")
def reports() -> dict[str, tuple[Results, str]]:
    out = {}
    for path in SCENARIOS:
        results = simulate(load_scenario(path), runs=30, seed=2, workers=1)
        out[path.stem] = (results, html_report(results, {}, {"break_even": b"png"}))
    return out


def _dollars(cell: str) -> float:
    text = unescape(re.sub(r"<[^>]+>", "", cell)).strip()
    return 0.0 if text == "\u2013" else float(text.replace("$", "").replace(",", ""))


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_the_investment_rows_add_up_to_the_total(
    reports: dict[str, tuple[Results, str]], name: str
) -> None:
    results, html = reports[name]
    group = re.search(r">Investment</td></tr>(.*?)<td class=\"group\"", html, re.S)
    assert group is not None
    rows = re.findall(r"<tr><td>([^<]*)</td>(.*?)</tr>", group.group(1), re.S)
    names = [row_name for row_name, _ in rows]
    assert names[-1] == "Total investment"
    cells = [re.findall(r"<td>(.*?)</td>", row_cells, re.S) for _, row_cells in rows]
    for k, arm in enumerate(results.arms):
        shown = [_dollars(row[k]) for row in cells]
        assert sum(shown[:-1]) == shown[-1]
        assert shown[-1] == results.scenario.arm(arm).total_investment_usd()


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_negative_amounts_never_break_across_lines(
    reports: dict[str, tuple[Results, str]], name: str
) -> None:
    _, html = reports[name]
    assert "-$" not in html
    assert "&minus;$" not in html
    negatives = re.findall(r"(.{36})\u2212\$[\d,]+", html)
    assert negatives  # every shipped scenario has runs that lose money
    assert all(before.endswith('<span style="white-space:nowrap">') for before in negatives)


def test_the_report_asks_the_question_and_gives_the_verdict(
    reports: dict[str, tuple[Results, str]],
) -> None:
    _results, html = reports["home_cleaning"]
    assert (
        "<strong>The question:</strong> Home-cleaning franchise or Independent cleaning service: "
        "which is the better start?"
    ) in html
    assert "Verdict, Home-cleaning franchise against Independent cleaning service." in html
    assert "Cash ceiling: any cash above it is paid out" in html
    assert "so it can come after the first profitable month and even after payback" in html
    caption = re.search(r'<figure id="figure-break_even">.*?<figcaption>(.*?)</figcaption>', html)
    assert caption is not None
    assert "It can come after payback" in caption.group(1)
