"""Each figure draws what it should, on a small result, headless and without global state."""

from __future__ import annotations

import copy
from typing import Any, get_args

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from franchise_sim import figures
from franchise_sim.monte_carlo import simulate
from franchise_sim.reference import BLS_SECTOR_NAMES, bls_survival
from franchise_sim.results import SimulationResults
from franchise_sim.scenario import BlsSector, Scenario
from franchise_sim.statistics import probability_better, survival_curve

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=60, seed=11, workers=1, horizon_months=36)


def _axes() -> Axes:
    return Figure().add_subplot()


def _coloured(ax: Axes, colour: str) -> list[Line2D]:
    return [line for line in ax.lines if to_hex(line.get_color()) == to_hex(colour)]


def _x(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_xdata(), dtype=float)


def _y(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


def _legend(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def _bands(ax: Axes) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_arm_colours_are_fixed_with_independent_first() -> None:
    assert figures.arm_colours(("franchise", "independent")) == figures.arm_colours(
        ("independent", "franchise")
    )
    assert figures.arm_colours(("independent", "franchise"))["independent"] == figures.PALETTE[0]


@pytest.mark.parametrize(
    ("draw", "zero_line"),
    [(figures.customers, False), (figures.cash_flow, True), (figures.owner_cash, True)],
)
def test_fan_charts_draw_a_median_and_two_bands_per_arm(
    small: SimulationResults, draw: figures.Panel, zero_line: bool
) -> None:
    ax = _axes()
    assert draw(small, ax) is ax
    colours = figures.arm_colours(small.arms)
    assert len(_bands(ax)) == 2 * len(small.arms)
    for arm in small.arms:
        (median,) = _coloured(ax, colours[arm])
        assert len(_x(median)) == small.horizon_months
    zeros = [line for line in ax.lines if _y(line).tolist() == [0.0, 0.0]]
    assert len(zeros) == int(zero_line)
    legend = _legend(ax)
    assert legend == [f"{small.labels[a]} median" for a in small.arms]
    assert ax.get_xlabel() == "Months since opening"
    assert ax.get_ylabel()


def test_customer_median_is_over_open_businesses(small: SimulationResults) -> None:
    ax = figures.customers(small, _axes())
    colour = figures.arm_colours(small.arms)["independent"]
    (median,) = _coloured(ax, colour)
    alive = small.series("alive")[0] > 0.5
    counts = small.series("customers")[0]
    month = 30
    expected = np.median(counts[alive[:, month - 1], month - 1])
    assert _y(median)[month - 1] == pytest.approx(expected)


def test_owner_cash_fan_starts_at_minus_the_equity(small: SimulationResults) -> None:
    ax = figures.owner_cash(small, _axes())
    for arm in small.arms:
        (median,) = _coloured(ax, figures.arm_colours(small.arms)[arm])
        equity = small.scenario.arm(arm).equity_usd()
        draw = np.median(small.series("owner_draw")[small.arm_index(arm), :, 0])
        assert _y(median)[0] == pytest.approx(draw - equity)


def test_survival_curves_and_the_bls_reference(small: SimulationResults) -> None:
    ax = figures.survival(small, _axes())
    curves = survival_curve(small.series("alive"))
    for i, arm in enumerate(small.arms):
        step = [
            line for line in _coloured(ax, figures.arm_colours(small.arms)[arm]) if _x(line).size
        ]
        (line,) = step
        np.testing.assert_allclose(_y(line), np.concatenate([[1.0], curves[i]]))
    (reference,) = [line for line in ax.lines if line.get_gid() == "bls-reference"]
    bls = bls_survival(small.scenario.bls_sector)
    np.testing.assert_allclose(_x(reference), [0, 12, 24, 36])
    np.testing.assert_allclose(_y(reference), [bls[y] for y in range(4)])
    legend = _legend(ax)
    assert any(text.startswith("BLS") for text in legend)
    assert ax.get_ylabel() == "Businesses still open"


@pytest.mark.parametrize("metric", ["npv", "final_cash"])
def test_distributions_reach_one_with_medians_marked(small: SimulationResults, metric: str) -> None:
    ax = figures.distribution(small, metric, _axes())
    colours = figures.arm_colours(small.arms)
    for i, arm in enumerate(small.arms):
        ecdf, median = _coloured(ax, colours[arm])
        assert _y(ecdf)[-1] == pytest.approx(1.0)
        assert _x(median)[0] == pytest.approx(np.median(small.outcomes[metric][i]))
    assert ax.get_xlabel().endswith("(USD)")


def test_paired_difference_counts_every_run_and_prints_the_odds(small: SimulationResults) -> None:
    ax = figures.paired_difference(small, _axes())
    heights = [patch.get_height() for patch in ax.patches if isinstance(patch, Rectangle)]
    assert sum(heights) == small.runs
    npv = small.outcomes["npv"]
    better = probability_better(npv[1], npv[0])
    (text,) = [t for t in ax.texts if t.get_gid() == "probability-better"]
    assert f"in {better:.0%} of paired runs" in text.get_text()


def test_milestone_ecdf_stops_at_the_share_that_reach_it(small: SimulationResults) -> None:
    ax = figures.break_even(small, _axes())
    colours = figures.arm_colours(small.arms)
    (note,) = [t for t in ax.texts if t.get_gid() == "never-reached"]
    for i, arm in enumerate(small.arms):
        months = small.outcomes["break_even_month"][i]
        (ecdf,) = _coloured(ax, colours[arm])
        assert _y(ecdf)[-1] == pytest.approx(np.mean(~np.isnan(months)))
        assert f"{small.labels[arm]}: {np.mean(np.isnan(months)):.0%} never" in note.get_text()


def test_dashboard_has_six_labelled_panels(small: SimulationResults) -> None:
    page = figures.dashboard(small)
    assert len(page.axes) == 6
    assert all(ax.get_title() for ax in page.axes)
    assert small.scenario.name in page.get_suptitle()


def test_every_figure_renders_a_png_without_touching_global_state(
    small: SimulationResults,
) -> None:
    import matplotlib.pyplot as plt

    before = dict(mpl.rcParams)
    images = figures.render(small)
    assert set(images) == set(figures.FIGURE_NAMES)
    for png in images.values():
        assert png.startswith(PNG_SIGNATURE)
        assert len(png) > 10_000
    assert plt.get_fignums() == []
    assert dict(mpl.rcParams) == before


def test_a_deterministic_result_draws_too(auto_repair: Scenario) -> None:
    plan = simulate(auto_repair, deterministic=True, horizon_months=24, workers=1)
    images = figures.render(plan, ("customers", "survival", "npv_difference"))
    assert all(png.startswith(PNG_SIGNATURE) for png in images.values())


def test_unknown_figure_names_are_refused(small: SimulationResults) -> None:
    with pytest.raises(KeyError, match="no figure 'pie'"):
        figures.render(small, ("pie",))


def test_each_franchise_arm_gets_its_own_difference_panel(auto_repair_data: dict[str, Any]) -> None:
    data = copy.deepcopy(auto_repair_data)
    budget = copy.deepcopy(data["arms"]["franchise"])
    budget["label"] = "Budget brand"
    budget["franchise"]["royalty_rate"] = 0.04
    data["arms"]["budget"] = budget
    results = simulate(Scenario.model_validate(data), runs=20, seed=2, workers=1, horizon_months=24)
    page = figures.paired_differences(results)
    assert [ax.get_xlabel().split(":")[1].strip() for ax in page.axes] == [
        "Automotive-service franchise minus Independent shop (USD)",
        "Budget brand minus Independent shop (USD)",
    ]
    assert len(figures.arm_colours(results.arms)) == 3
    assert len(set(figures.arm_colours(results.arms).values())) == 3


def test_every_bls_sector_has_a_display_name() -> None:
    assert set(BLS_SECTOR_NAMES) == set(get_args(BlsSector))
