"""Results in a notebook: headline as HTML, figures as methods, the CLI's files saved and loaded."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from franchise_sim import Results, load_results, simulate
from franchise_sim.analysis.comparison import compare
from franchise_sim.interfaces.cli import main
from franchise_sim.scenario.schema import Scenario
from tests.conftest import BASE

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def results(auto_repair: Scenario) -> Results:
    return simulate(auto_repair, runs=60, workers=1, seed=11)


def test_html_shows_the_headline_table_of_the_comparison(results: Results) -> None:
    html = results._repr_html_()
    comparison = compare(results)
    for arm in comparison.arms:
        assert f"<th>{arm.label}</th>" in html
        for share in arm.survival.values():
            assert f"<td>{share:.1%}</td>" in html
    assert f"{results.runs:,} paired runs, seed {results.seed}" in html
    assert html.count("<table>") == 1 + len(comparison.contrasts)
    assert not re.search(r"<(script|style|link|img)\b", html)
    # Amounts carry dollar signs, which Jupyter's MathJax would read as TeX without this.
    assert "$" in html
    assert html.startswith('<div class="tex2jax_ignore mathjax_ignore">')


def test_repr_names_the_run(results: Results) -> None:
    assert repr(results) == (
        "<Results 'Auto repair shop': independent, franchise; 60 paired runs x 60 months, seed 11>"
    )


def test_comparison_is_the_one_compare_gives(results: Results) -> None:
    assert results.comparison == compare(results)


@pytest.mark.parametrize(
    ("method", "title"),
    [
        ("customers", "Customers"),
        ("cash", "cash flow"),
        ("owner_cash", "cumulative"),
        ("survival", "open"),
        ("npv", "NPV"),
        ("final_cash", "cash"),
        ("break_even", "break"),
        ("payback", "back"),
    ],
)
def test_plot_methods_draw_each_arm_and_return_the_axes(
    results: Results, method: str, title: str
) -> None:
    figure = Figure()
    ax = figure.subplots()
    drawn = getattr(results.plot, method)(ax=ax)
    assert drawn is ax
    assert title.lower() in (ax.get_title() + ax.get_ylabel() + ax.get_xlabel()).lower()
    legend = ax.get_legend()
    assert legend is not None
    texts = " ".join(t.get_text() for t in legend.get_texts())
    for label in results.labels.values():
        assert label in texts


def test_plot_without_axes_makes_a_pyplot_figure(results: Results) -> None:
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    ax = results.plot.customers()
    assert isinstance(ax, Axes)
    assert len(plt.get_fignums()) == before + 1
    plt.close(ax.figure)  # type: ignore[arg-type]


def test_whole_figures_are_returned_without_pyplot(results: Results) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    dashboard = results.plot.dashboard()
    differences = results.plot.npv_difference()
    assert isinstance(dashboard, Figure)
    assert len(dashboard.axes) == 6
    assert isinstance(differences, Figure)
    assert len(differences.axes) == len(results.arms) - 1
    assert plt.get_fignums() == before  # shown once in Jupyter, not also held by pyplot


def test_save_writes_the_files_the_cli_writes_and_loads_back(
    results: Results, tmp_path: Path
) -> None:
    saved = results.save(tmp_path / "notebook", report=True)
    cli = tmp_path / "cli"
    outcome = CliRunner().invoke(
        main,
        [
            *("run", str(BASE), "--runs", "60", "--seed", "11", "--workers", "1"),
            *("--quiet", "--report", "--no-attribution", "--out", str(cli)),
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert sorted(p.name for p in saved.iterdir()) == sorted(p.name for p in cli.iterdir())
    back = load_results(saved)
    from_cli = load_results(cli)
    np.testing.assert_array_equal(back.trajectories, results.trajectories)
    np.testing.assert_array_equal(from_cli.trajectories, results.trajectories)
    for name, values in results.outcomes.items():
        np.testing.assert_array_equal(back.outcomes[name], values)
