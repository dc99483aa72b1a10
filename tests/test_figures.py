"""Each figure draws what it should, on a small result, headless and without global state."""

from __future__ import annotations

import copy
from typing import Any, get_args

import matplotlib as mpl
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cbook import is_math_text
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import BboxBase

from franchise_sim.analysis.reference import BLS_SECTOR_NAMES, bls_survival
from franchise_sim.analysis.statistics import probability_better, survival_curve
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.outputs import figures
from franchise_sim.scenario.schema import BlsSector, Scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=60, seed=11, workers=1, horizon_months=36)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    shape=st.tuples(st.integers(1, 40), st.integers(1, 6)),
    percentiles=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=6),
)
def test_fan_percentiles_are_numpys_nanpercentile_number_for_number(
    data: st.DataObject, shape: tuple[int, int], percentiles: list[float]
) -> None:
    values = data.draw(
        arrays(float, shape, elements=st.floats(-1e9, 1e9) | st.sampled_from([0.0, -0.0, 1.0]))
    )
    mask = data.draw(arrays(bool, shape))
    enough = mask.sum(axis=0) >= figures.MIN_RUNS_FOR_FAN
    with np.errstate(all="ignore"):
        expected = np.nanpercentile(
            np.where(mask & enough, values, np.where(enough, np.nan, 0.0)), percentiles, axis=0
        )
    expected[:, ~enough] = np.nan
    got = figures.percentiles_by_month(values, mask, percentiles)
    assert np.array_equal(got, expected, equal_nan=True)


def _axes() -> Axes:
    return Figure().add_subplot()


def _coloured(ax: Axes, colour: str) -> list[Line2D]:
    return [line for line in ax.lines if to_hex(line.get_color()) == to_hex(colour)]


def _x(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_xdata(), dtype=float)


def _y(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


def _as_drawn(text: str) -> str:
    r"""What matplotlib draws for ``text``: never mathtext, each escaped ``\$`` a plain ``$``."""
    assert not is_math_text(text), text
    return text.replace("\\$", "$")


def _legend(ax: Axes) -> list[str]:
    """The legend's entries as they read on the page."""
    legend = ax.get_legend()
    assert legend is not None
    return [_as_drawn(text.get_text()) for text in legend.get_texts()]


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
    assert legend[: len(small.arms)] == [f"{small.labels[a]} median" for a in small.arms]
    assert legend[len(small.arms) :] == (
        ["above zero: the owner has got back all they put in (payback)"]
        if draw is figures.owner_cash
        else []
    )
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
    assert f"{small.labels['franchise']}: does better in {better:.0%} of runs" in _legend(ax)


def test_milestone_ecdf_stops_at_the_share_that_reach_it(small: SimulationResults) -> None:
    ax = figures.break_even(small, _axes())
    colours = figures.arm_colours(small.arms)
    (note,) = [t for t in ax.texts if t.get_gid() == "never-reached"]
    for i, arm in enumerate(small.arms):
        months = small.outcomes["break_even_month"][i]
        (ecdf,) = _coloured(ax, colours[arm])
        assert _y(ecdf)[-1] == pytest.approx(np.mean(~np.isnan(months)))
        share = f"{np.mean(np.isnan(months)):.0%}"
        assert f"{small.labels[arm]}: {share} of runs" in note.get_text()
    assert note.get_text().startswith(f"Never within {small.horizon_months} months:")


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


# --- few runs and the plan on paper (issue 9, item 3) -------------------------------------------

FAN_CHARTS = (figures.customers, figures.cash_flow, figures.owner_cash)


@pytest.fixture(scope="module")
def plan(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, deterministic=True, horizon_months=24, workers=1)


@pytest.fixture(scope="module")
def five(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=5, seed=1, workers=1, horizon_months=24)


@pytest.fixture(scope="module")
def one(auto_repair: Scenario) -> SimulationResults:
    return simulate(auto_repair, runs=1, seed=3, workers=1, horizon_months=24)


def _fan_values(results: SimulationResults, draw: figures.Panel) -> tuple[np.ndarray, bool]:
    """The monthly array a fan chart shows, from the books, and whether only open months count."""
    if draw is figures.customers:
        return results.series("customers"), True
    if draw is figures.cash_flow:
        books = ("operating_profit", "interest", "principal")
        profit, interest, principal = (results.series(name) for name in books)
        return profit - interest - principal, True
    equity = np.array([results.scenario.arm(a).equity_usd() for a in results.arms])
    paid = np.cumsum(results.series("owner_draw") - results.series("owner_injection"), axis=-1)
    return paid - equity[:, None, None], False


def _by_gid(ax: Axes, gid: str) -> list[Line2D]:
    return [line for line in ax.lines if line.get_gid() == gid]


@pytest.mark.parametrize("draw", FAN_CHARTS)
def test_a_deterministic_fan_chart_draws_the_plan_as_one_line_per_arm(
    plan: SimulationResults, draw: figures.Panel
) -> None:
    ax = draw(plan, _axes())
    values, open_only = _fan_values(plan, draw)
    alive = plan.series("alive") > 0.5
    assert _bands(ax) == []
    for i, arm in enumerate(plan.arms):
        (path,) = _by_gid(ax, f"path-{arm}")
        expected = np.where(alive[i, 0] | (not open_only), values[i, 0], np.nan)
        np.testing.assert_allclose(_x(path), np.arange(1, plan.horizon_months + 1))
        np.testing.assert_allclose(_y(path), expected)
        assert np.isfinite(_y(path)).all()  # the plan survives: a line in every month
        assert to_hex(path.get_color()) == to_hex(figures.arm_colours(plan.arms)[arm])
    legend = ax.get_legend()
    assert legend is not None
    assert "plan on paper" in legend.get_title().get_text()
    low, high = ax.get_ylim()
    assert high - low > 1.0
    assert low <= np.nanmin(values)
    assert np.nanmax(values) <= high


@pytest.mark.parametrize("draw", FAN_CHARTS)
def test_a_five_run_fan_chart_draws_every_run_and_their_median(
    five: SimulationResults, draw: figures.Panel
) -> None:
    ax = draw(five, _axes())
    values, open_only = _fan_values(five, draw)
    alive = five.series("alive") > 0.5
    assert _bands(ax) == []
    for i, arm in enumerate(five.arms):
        runs = _by_gid(ax, f"run-{arm}")
        assert len(runs) == five.runs == 5
        for r, line in enumerate(runs):
            np.testing.assert_allclose(
                _y(line), np.where(alive[i, r] | (not open_only), values[i, r], np.nan)
            )
        (median,) = _by_gid(ax, f"median-{arm}")
        month = 3  # every business is still open at month 3 of these runs
        assert alive[i, :, month - 1].all()
        assert _y(median)[month - 1] == pytest.approx(np.median(values[i, :, month - 1]))
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_title().get_text() == "thin lines: each of the 5 runs; thick: their median"
    low, high = ax.get_ylim()
    assert high - low > 1.0


def test_enough_runs_keep_the_bands(small: SimulationResults) -> None:
    assert figures.fan_style(small) == "bands"
    assert small.runs >= figures.MIN_RUNS_FOR_BANDS


def _shows_data(ax: Axes) -> bool:
    """A data line (not an axhline or axvline) with a finite point, or a bar with a height."""
    lines = [
        line
        for line in ax.lines
        if line.get_transform() == ax.transData and np.isfinite(_y(line)).any()
    ]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]
    return bool(lines or bars)


def _money_tick_labels(figure: Figure) -> list[list[str]]:
    """The visible tick labels of every axis that shows dollars, of a figure drawn already."""
    shown = []
    for ax in figure.axes:
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            texts = [t.get_text() for t in labels if t.get_text()]
            if any("$" in t for t in texts):
                shown.append(texts)
    return shown


@pytest.mark.parametrize("case", ["plan", "five", "one"])
def test_no_figure_is_blank_or_has_a_degenerate_axis(
    case: str, request: pytest.FixtureRequest
) -> None:
    results: SimulationResults = request.getfixturevalue(case)
    for spec in figures.FIGURES:
        page = spec.draw(results)
        for ax in page.axes:
            assert _shows_data(ax), (spec.name, ax.get_title())
            for low, high in (ax.get_xlim(), ax.get_ylim()):
                assert high - low > 1.0 or (0.0 <= low < high <= 1.05), (spec.name, low, high)
        png = figures.png_bytes(page, dpi=50)
        assert png.startswith(PNG_SIGNATURE)
        assert len(png) > 5_000
        for labels in _money_tick_labels(page):
            assert len(set(labels)) == len(labels), (spec.name, labels)  # no "$0, $0, $0"
            assert "-$0" not in labels, (spec.name, labels)


def test_the_plan_on_paper_shows_each_paired_difference_as_a_labelled_point(
    plan: SimulationResults,
) -> None:
    ax = figures.paired_difference(plan, _axes())
    npv = plan.outcomes["npv"]
    gap = float(npv[1, 0] - npv[0, 0])
    (point,) = _by_gid(ax, "difference-points-franchise")
    assert _x(point).tolist() == [gap]
    assert not [p for p in ax.patches if isinstance(p, Rectangle)]  # no histogram of one value
    (value,) = [t for t in ax.texts if t.get_gid() == "difference-value-franchise"]
    assert value.get_text() == f"+${gap / 1e3:.0f}k"
    assert "deterministic: one path" in ax.get_title()
    (note,) = [t for t in ax.texts if t.get_gid() == "probability-better"]
    assert "deterministic: one path" in note.get_text()
    low, high = ax.get_xlim()
    assert low < 0.0 < gap < high  # zero and the point both in view


def test_five_runs_show_five_points_and_count_the_wins(five: SimulationResults) -> None:
    ax = figures.paired_difference(five, _axes())
    npv = five.outcomes["npv"]
    (points,) = _by_gid(ax, "difference-points-franchise")
    np.testing.assert_allclose(np.sort(_x(points)), np.sort(npv[1] - npv[0]))
    assert len([t for t in ax.texts if t.get_gid() == "difference-value-franchise"]) == 5
    (note,) = [t for t in ax.texts if t.get_gid() == "probability-better"]
    wins = int(np.sum(npv[1] > npv[0]))
    assert f"does better in {wins} of 5 paired runs" in note.get_text()


def test_one_run_ecdfs_mark_each_arms_value(plan: SimulationResults) -> None:
    ax = figures.npv(plan, _axes())
    for i, arm in enumerate(plan.arms):
        value = plan.outcomes["npv"][i, 0]
        markers = [
            line
            for line in _coloured(ax, figures.arm_colours(plan.arms)[arm])
            if line.get_marker() == "o"
        ]
        (marker,) = markers
        assert _x(marker).tolist() == [value]
        assert f"{plan.labels[arm]}: ${value / 1e3:.0f}k" in _legend(ax)


# --- three or more arms (item 4) ---------------------------------------------------------------


def _three_arms(data: dict[str, Any], label: str = "Budget brand") -> Scenario:
    data = copy.deepcopy(data)
    budget = copy.deepcopy(data["arms"]["franchise"])
    budget["label"] = label
    budget["franchise"]["royalty_rate"] = 0.04
    data["arms"]["budget"] = budget
    return Scenario.model_validate(data)


def _difference_panel(page: Figure, label: str) -> Axes:
    (ax,) = [
        ax
        for ax in page.axes
        if "paired difference" in ax.get_title()
        and f": {label} minus" in ax.get_xlabel().replace("\n", " ")
    ]
    return ax


@pytest.mark.parametrize("runs", [30, 5])
def test_the_dashboard_compares_every_franchise_arm(
    auto_repair_data: dict[str, Any], runs: int
) -> None:
    results = simulate(
        _three_arms(auto_repair_data), runs=runs, seed=2, workers=1, horizon_months=24
    )
    page = figures.dashboard(results)
    npv = results.outcomes["npv"]
    colours = figures.arm_colours(results.arms)
    assert len([ax for ax in page.axes if "paired difference" in ax.get_title()]) == 2
    for arm in ("franchise", "budget"):
        ax = _difference_panel(page, results.labels[arm])  # a panel of its own
        difference = npv[results.arm_index(arm)] - npv[0]
        if runs >= figures.MIN_RUNS_FOR_BANDS:
            bars = [p for p in ax.patches if isinstance(p, Rectangle)]
            assert {p.get_gid() for p in bars} == {f"difference-{arm}"}
            assert sum(p.get_height() for p in bars) == runs
            assert {to_hex(p.get_facecolor()) for p in bars} == {to_hex(colours[arm])}
            better = probability_better(npv[results.arm_index(arm)], npv[0])
            entry = f"{results.labels[arm]}: does better in {better:.0%} of runs"
            assert entry in [t.replace("\n", " ") for t in _legend(ax)]
        else:
            (points,) = _by_gid(ax, f"difference-points-{arm}")
            np.testing.assert_allclose(np.sort(_x(points)), np.sort(difference))
        assert ax.get_xlabel().replace("\n", " ").endswith("minus Independent shop (USD)")


# --- legends inside their panels (item 9) ------------------------------------------------------


def _inside(inner: BboxBase, outer: BboxBase, slack: float = 1.0) -> bool:
    """Whether ``inner`` lies within ``outer`` (display units), give or take ``slack``."""
    return bool(
        inner.x0 >= outer.x0 - slack
        and inner.y0 >= outer.y0 - slack
        and inner.x1 <= outer.x1 + slack
        and inner.y1 <= outer.y1 + slack
    )


@pytest.mark.parametrize("sector", list(BLS_SECTOR_NAMES))
def test_dashboard_legends_and_notes_stay_inside_their_panels(
    auto_repair_data: dict[str, Any], sector: str
) -> None:
    data = copy.deepcopy(auto_repair_data)
    data["bls_sector"] = sector
    scenario = _three_arms(data, "Budget brand of the same automotive-service franchisor, renamed")
    results = simulate(scenario, runs=20, seed=4, workers=1, horizon_months=24)
    page = figures.dashboard(results)
    FigureCanvasAgg(page)
    page.draw_without_rendering()  # extents below are those of the page as drawn
    for ax in page.axes:
        panel = ax.get_window_extent()
        legend = ax.get_legend()
        assert legend is not None
        assert _inside(legend.get_window_extent(), panel), ax.get_title()
        for text in ax.texts:
            assert _inside(text.get_window_extent(), panel), text.get_text()
        assert _inside(ax.title.get_window_extent(), page.bbox), ax.get_title()
    assert _inside(page.get_tightbbox().transformed(page.dpi_scale_trans), page.bbox)


def test_the_payback_line_is_named_in_plain_words(small: SimulationResults) -> None:
    ax = figures.owner_cash(small, _axes())
    assert "above zero: the owner has got back all they put in (payback)" in _legend(ax)
    words = [spec.caption for spec in figures.FIGURES] + [ax.get_title(), ax.get_ylabel()]
    assert not [w for w in words if "money put in back" in w]


# --- dollar signs and mathtext in scenario text (item 18) --------------------------------------

LITERAL_LABELS = ("Jo's $5 car wash", "$\\shops$")


def test_literal_text_is_drawn_as_written() -> None:
    for text in (*LITERAL_LABELS, "plain", "a \\$ b", "$$", "cost $1 to $2 (median $98k)"):
        assert _as_drawn(figures.literal_text(text)) == text


@pytest.fixture(scope="module")
def dollars(auto_repair_data: dict[str, Any]) -> SimulationResults:
    data = copy.deepcopy(auto_repair_data)
    data["name"] = "Jo's $5 plan, $\\alpha$"
    data["arms"]["independent"]["label"] = LITERAL_LABELS[0]
    data["arms"]["franchise"]["label"] = LITERAL_LABELS[1]
    scenario = _three_arms(data, "Budget $x^2$ brand")
    return simulate(scenario, runs=25, seed=5, workers=1, horizon_months=24)


def test_dollar_signs_in_labels_render_every_figure_and_read_literally(
    dollars: SimulationResults,
) -> None:
    from franchise_sim.interfaces.explorer import picture

    images = figures.render(dollars)
    assert set(images) == set(figures.FIGURE_NAMES)
    assert figures.png_bytes(picture(dollars), dpi=40).startswith(PNG_SIGNATURE)
    page = figures.dashboard(dollars)
    figures.png_bytes(page, dpi=40)
    assert _as_drawn(page.get_suptitle()).startswith("Jo's $5 plan, $\\alpha$: Jo's $5 car wash")
    labels = dollars.labels
    customers, _, survival, npv, difference, *_ = page.axes  # a difference panel per arm
    assert [t.replace("\n", " ") for t in _legend(customers)] == [
        f"{labels[a]} median" for a in dollars.arms
    ]
    assert _legend(survival)[:3] == [labels[a] for a in dollars.arms]
    median = float(np.median(dollars.outcomes["npv"][0]))
    sign = "-" if median < 0 else ""
    assert _legend(npv)[0] == f"Jo's $5 car wash (median {sign}${abs(median) / 1e3:.0f}k)"
    entry = [t for t in _legend(difference) if t.startswith("$\\shops$: does better in ")]
    assert len(entry) == 1
    assert "minus Jo's $5 car wash (USD)" in _as_drawn(difference.get_xlabel()).replace("\n", " ")
    for ax in page.axes:
        for text in (ax.title, ax.xaxis.label, *ax.texts):
            _as_drawn(text.get_text())  # none is parsed as mathtext


def test_dollar_signs_render_with_few_runs_and_the_plan_on_paper(
    auto_repair_data: dict[str, Any],
) -> None:
    data = copy.deepcopy(auto_repair_data)
    data["arms"]["independent"]["label"] = LITERAL_LABELS[0]
    data["arms"]["franchise"]["label"] = LITERAL_LABELS[1]
    scenario = Scenario.model_validate(data)
    for results in (
        simulate(scenario, runs=3, seed=5, workers=1, horizon_months=12),
        simulate(scenario, deterministic=True, workers=1, horizon_months=12),
    ):
        for name in ("dashboard", "npv_difference"):
            figures.png_bytes(figures.figure_spec(name).draw(results), dpi=40)
        ax = figures.paired_difference(results, _axes())
        (row,) = [t for t in ax.texts if t.get_gid() == "difference-row-franchise"]
        assert _as_drawn(row.get_text()) == "$\\shops$"
        (note,) = [t for t in ax.texts if t.get_gid() == "probability-better"]
        assert "$\\shops$" in _as_drawn(note.get_text())


@pytest.mark.parametrize("kind", ["plan", "five"])
def test_dashboard_titles_and_point_labels_do_not_collide(
    kind: str, request: pytest.FixtureRequest
) -> None:
    results: SimulationResults = request.getfixturevalue(kind)
    page = figures.dashboard(results)
    FigureCanvasAgg(page)
    page.draw_without_rendering()
    titles = [ax.title.get_window_extent() for ax in page.axes]
    assert all(_inside(title, page.bbox) for title in titles)
    for i, first in enumerate(titles):
        for second in titles[i + 1 :]:
            assert not first.overlaps(second), (first, second)
    for ax in page.axes:
        labels = [text.get_window_extent() for text in ax.texts]  # notes and point labels
        for i, first in enumerate(labels):
            for second in labels[i + 1 :]:
                assert not first.overlaps(second), ax.get_title()
