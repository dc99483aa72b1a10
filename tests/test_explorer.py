"""The notebook explorer: its sliders, the scenarios they describe, and live, cancellable updates.

Explorers here run 40 paired replications in-process (``workers=1``) with no debounce, and every
check waits on ``Explorer.wait`` rather than on sleeps.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from franchise_sim import ScenarioError, load_scenario
from franchise_sim.analysis.comparison import BaselineError, compare
from franchise_sim.engine import books_files
from franchise_sim.engine import pool as pool_module
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.explorer import (
    Control,
    Explorer,
    controls_for,
    explore,
    headline,
    scenario_for,
)
from franchise_sim.interfaces.explorer.pool import _POOLS, PoolLease
from franchise_sim.interfaces.explorer.view import (
    PICTURE_DPI,
    Picture,
    picture,
    steady_limits,
)
from franchise_sim.interfaces.explorer.widget import INSTALL_HINT
from franchise_sim.outputs.figures import png_bytes
from franchise_sim.outputs.kept_text import TextKeepingCanvas
from franchise_sim.scenario.changes import value_at
from franchise_sim.scenario.distributions import Fixed, Triangular, Uniform
from franchise_sim.scenario.schema import Scenario
from tests.books import assert_identical
from tests.conftest import ROOT, SCENARIOS, Variant, printed_by

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROYALTY = "arms.franchise.royalty_rate"
SMALL: dict[str, Any] = {"runs": 40, "workers": 1, "debounce_seconds": 0.0}
WAIT = 60.0
"""Generous: a wait that times out fails the test rather than hanging it."""


@pytest.fixture
def explorer(auto_repair: Scenario) -> Iterator[Explorer]:
    ex = explore(auto_repair, **SMALL)
    yield ex
    ex.close()


def _expected_paths(scenario: Scenario) -> set[str]:
    paths = {"market.households"}
    for arm in scenario.resolved_arms():
        at = f"arms.{arm.name}"
        paths |= {f"{at}.financing.owner_equity_usd", f"{at}.financing.loan_rate_per_year"}
        if arm.is_franchise:
            paths |= {
                f"{at}.{name}"
                for name in (
                    "royalty_rate",
                    "ad_fund_rate",
                    "initial_fee_usd",
                    "brand_awareness_p_per_month",
                    "customization_limit",
                )
            }
    return paths


# --- choosing the sliders ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_controls_cover_every_arm_and_the_market_around_current_values(path: Path) -> None:
    scenario = load_scenario(path)
    controls = controls_for(scenario)
    assert controls[0].path == "market.households"
    relationships = {c.path for c in controls if _section(c.path) in RELATIONSHIP_SECTIONS}
    assert {c.path for c in controls} - relationships == _expected_paths(scenario)
    assert len({c.path for c in controls}) == len(controls)
    labels = {arm.name: arm.label for arm in scenario.resolved_arms()}
    for c in controls:
        assert c.low <= c.value <= c.high, c
        assert c.low >= 0.0
        assert c.step > 0.0
        assert 20 <= (c.high - c.low) / c.step <= 1000, c  # fine enough, not absurdly fine
        raw = value_at(scenario, c.path)
        mean = raw if isinstance(raw, float | int) else raw.mean()
        assert c.value == pytest.approx(mean, rel=1e-12)
        assert c.uncertain == (not isinstance(raw, float | int | Fixed))
        arm = c.path.split(".")[1] if c.path.startswith("arms.") else None
        assert c.group == (labels[arm] if arm else "Market")
        assert c.label.startswith(f"{c.group}: ")
        assert c.name[0].isupper()
        assert "_" not in c.label


def _section(path: str) -> str | None:
    """The section of an arm a control's path lies in (None for the market's)."""
    parts = path.split(".")
    return parts[2] if parts[0] == "arms" and len(parts) > 3 else None


RELATIONSHIP_SECTIONS = (
    "partnership",
    "project_group",
    "outsourcing",
    "trade_association",
    "marketing_alliance",
)


def test_an_arm_has_sliders_for_the_relationships_it_holds() -> None:
    strategies = load_scenario("auto_repair_strategies")
    held = {c.path: c for c in controls_for(strategies) if ".partners." in c.path}
    assert set(held) == {
        "arms.partners.financing.owner_equity_usd",
        "arms.partners.financing.loan_rate_per_year",
        "arms.partners.partnership.referral_share",
        "arms.partners.partnership.partnership_costs_usd_per_month",
        "arms.partners.trade_association.dues_usd_per_year",
        "arms.partners.trade_association.participation_share",
        "arms.partners.marketing_alliance.cost_share",
        "arms.partners.marketing_alliance.mail_pieces_per_month",
    }
    share = held["arms.partners.marketing_alliance.cost_share"]
    assert (share.low, share.value, share.high, share.kind) == (0.0, 0.5, 1.0, "percent")
    assert share.label == "Independent with partners: alliance cost share"
    dues = held["arms.partners.trade_association.dues_usd_per_year"]
    assert (dues.uncertain, dues.value, dues.name) == (True, 345.0, "Association dues (mean)")
    # The independent and the franchise hold none: no relationship slider of theirs.
    others = {c.path for c in controls_for(strategies)} - set(held)
    assert not {p for p in others if _section(p) in RELATIONSHIP_SECTIONS}
    # Only the part of a section an arm holds: the provider's fee or the in-house staff.
    home = {c.path for c in controls_for(load_scenario("home_services"))}
    line, staff = "arms.answering_line.outsourcing", "arms.in_house_line.outsourcing"
    assert {p for p in home if _section(p) == "outsourcing"} == {
        f"{line}.missed_call_share",
        f"{line}.provider.monthly_fee_usd",
        f"{staff}.missed_call_share",
        f"{staff}.in_house.staff_usd_per_month",
    }


def test_a_relationship_slider_changes_that_arm_only() -> None:
    ex = explore("auto_repair_strategies", **SMALL)
    try:
        path = "arms.partners.marketing_alliance.cost_share"
        before = ex.results
        ex.sliders[path].value = 1.0
        assert ex.wait(WAIT)
        assert ex.updates == 1
        assert value_at(ex.scenario, path) == 1.0
        after = ex.results
        partners, independent = after.arm_index("partners"), after.arm_index("independent")
        cost = after.monthly_columns.index("alliance_marketing")
        alive = before.trajectories[partners, :, 0, after.monthly_columns.index("alive")] > 0.5
        # Paying the whole campaign: its mail pieces at their cost and its events, every run;
        # at half, a member paid less in every run (its share of what the partners ran).
        term = partial(value_at, ex.base)
        alliance = "arms.partners.marketing_alliance"
        full = term(f"{alliance}.mail_pieces_per_month") * term(f"{alliance}.cost_per_piece_usd")
        full += term(f"{alliance}.events_usd_per_month")
        assert (after.trajectories[partners, alive, 0, cost] == full).all()
        first = before.trajectories[partners, alive, 0, cost]
        assert (first < full).all()
        np.testing.assert_array_equal(
            after.trajectories[independent], before.trajectories[independent]
        )
    finally:
        ex.close()


def test_the_baseline_menu_compares_the_same_results_anew(explorer: Explorer) -> None:
    assert explorer.baseline == "independent"
    assert explorer.baseline_menu.value == "independent"
    options = [value for _label, value in explorer.baseline_menu.options]
    assert options == ["independent", "franchise"]
    results, (before,) = explorer.results, explorer.comparison.contrasts
    explorer.baseline_menu.value = "franchise"
    assert explorer.wait(WAIT)
    assert (explorer.requests, explorer.updates, explorer.runs_started) == (1, 1, 0)
    assert explorer.results is results  # not run again
    assert explorer.baseline == explorer.comparison.baseline == "franchise"
    (after,) = explorer.comparison.contrasts
    assert (before.arm, after.arm) == ("franchise", "independent")
    assert after.npv.estimate == -before.npv.estimate  # the same pairs, the other way round
    label = results.labels["franchise"].lower()
    assert f"NPV minus {label}: paired mean" in explorer._headline_widget.value
    # A slider change after it runs anew and keeps the baseline chosen.
    explorer.sliders[ROYALTY].value = 0.1
    assert explorer.wait(WAIT)
    assert explorer.runs_started == 1
    assert explorer.comparison.baseline == "franchise"


def test_explore_refuses_a_baseline_that_is_not_an_arm(auto_repair: Scenario) -> None:
    with pytest.raises(BaselineError, match="nope"):
        explore(auto_repair, baseline="nope", **SMALL)


def test_ranges_follow_the_scenario(auto_repair: Scenario) -> None:
    by_path = {c.path: c for c in controls_for(auto_repair)}
    royalty = by_path[ROYALTY]
    assert (royalty.low, royalty.high, royalty.kind, royalty.value) == (0.0, 0.15, "percent", 0.06)
    assert royalty.label == "Automotive-service franchise: royalty"
    assert (
        by_path["arms.franchise.ad_fund_rate"].low,
        by_path["arms.franchise.ad_fund_rate"].high,
    ) == (
        0.0,
        0.06,
    )
    fee = by_path["arms.franchise.initial_fee_usd"]
    assert (fee.low, fee.high, fee.kind) == (0.0, 70_000.0, "usd")
    brand = by_path["arms.franchise.brand_awareness_p_per_month"]
    assert brand.low == 0.0
    assert brand.high == pytest.approx(0.03)
    custom = by_path["arms.franchise.customization_limit"]
    assert (custom.low, custom.high, custom.step) == (0.0, 1.0, 0.01)
    households = by_path["market.households"]
    assert households.uncertain
    assert households.name == "Households (mean)"
    mean = auto_repair.market.households.mean()  # type: ignore[union-attr]
    assert households.low <= 0.25 * mean < households.low + households.step
    assert households.high - households.step < 2.0 * mean <= households.high
    for arm in ("independent", "franchise"):
        equity = by_path[f"arms.{arm}.financing.owner_equity_usd"]
        total = auto_repair.arm(arm).total_investment_usd()
        assert equity.low == 0.0
        assert (
            max(2 * equity.value, total) <= equity.high < max(2 * equity.value, total) + equity.step
        )
        rate = by_path[f"arms.{arm}.financing.loan_rate_per_year"]
        assert (rate.low, rate.high, rate.value) == (0.0, 0.15, 0.1125)


def test_ranges_widen_to_hold_unusual_values(variant: Variant) -> None:
    scenario = variant(
        {
            "arms.franchise.franchise.royalty_rate": 0.2,
            "arms.franchise.franchise.brand_awareness_p_per_month": 0.0,
            "financing.loan_rate_per_year": 0.18,
            "arms.franchise.franchise.initial_fee_usd": 0.0,
        }
    )
    by_path = {c.path: c for c in controls_for(scenario)}
    assert by_path[ROYALTY].high == pytest.approx(0.2)
    brand = by_path["arms.franchise.brand_awareness_p_per_month"]
    assert (brand.low, brand.value, brand.high) == (0.0, 0.0, 0.05)
    assert by_path["arms.independent.financing.loan_rate_per_year"].high == pytest.approx(0.18)
    assert by_path["arms.franchise.initial_fee_usd"].high == 50_000.0


def test_values_read_as_the_slider_shows_them(auto_repair: Scenario) -> None:
    by_path = {c.path: c for c in controls_for(auto_repair)}
    assert by_path[ROYALTY].format() == "6.0%"
    assert by_path[ROYALTY].readout_format == ".1%"
    assert by_path["arms.franchise.initial_fee_usd"].format(-1500.0) == "-$1,500"
    assert by_path["arms.franchise.initial_fee_usd"].readout_format == "$,.0f"
    assert by_path["arms.franchise.brand_awareness_p_per_month"].format() == "1.00%"
    assert by_path["arms.franchise.customization_limit"].format() == "10%"
    assert by_path["market.households"].format(25_666.7) == "25,667"
    with pytest.raises(ValueError, match="low <= value <= high"):
        Control(ROYALTY, "r", 0.0, 0.1, 0.01, 0.2, "percent", "Franchise", "Royalty")


# --- the scenario a set of values describes ----------------------------------------------------


def test_scenario_for_sets_numbers_and_moves_distributions(auto_repair: Scenario) -> None:
    changed = scenario_for(
        auto_repair,
        {
            ROYALTY: 0.08,
            "market.households": 40_000.0,
            "arms.independent.financing.owner_equity_usd": 70_000.0,
        },
    )
    assert value_at(changed, ROYALTY) == 0.08
    assert changed.arm("independent").financing.owner_equity_usd == 70_000.0
    households = changed.market.households
    assert isinstance(households, Triangular)
    assert households.mean() == pytest.approx(40_000.0, rel=1e-12)
    assert value_at(auto_repair, ROYALTY) == 0.06  # the original is untouched
    # Values equal to the current ones change nothing, not even a distribution's parameters.
    same = {c.path: c.value for c in controls_for(auto_repair)}
    assert scenario_for(auto_repair, same) is auto_repair


def test_scenario_for_fixes_what_a_distribution_cannot_hold(variant: Variant) -> None:
    uncertain = variant(
        {
            "arms.franchise.franchise.brand_awareness_p_per_month": {
                "dist": "triangular",
                "low": 0.005,
                "mode": 0.01,
                "high": 0.02,
            },
            "arms.franchise.franchise.customization_limit": {
                "dist": "uniform",
                "low": 0.05,
                "high": 0.25,
            },
        }
    )
    brand = "arms.franchise.brand_awareness_p_per_month"
    custom = "arms.franchise.customization_limit"
    moved = scenario_for(uncertain, {brand: 0.02, custom: 0.3})
    assert isinstance(value_at(moved, brand), Triangular)
    assert value_at(moved, brand).mean() == pytest.approx(0.02)
    assert isinstance(value_at(moved, custom), Uniform)
    assert value_at(moved, custom).mean() == pytest.approx(0.3)
    # No head start at all is no distribution; a share spread past 1 is not a share.
    fixed = scenario_for(uncertain, {brand: 0.0, custom: 0.95})
    assert value_at(fixed, brand) == 0.0
    assert value_at(fixed, custom) == 0.95


def test_scenario_for_reports_invalid_values_and_paths(auto_repair: Scenario) -> None:
    with pytest.raises(ScenarioError, match="royalty_rate"):
        scenario_for(auto_repair, {ROYALTY: 1.5})
    with pytest.raises(ScenarioError, match="royalty_rat"):
        scenario_for(auto_repair, {"arms.franchise.royalty_rat": 0.1})
    with pytest.raises(ScenarioError, match="not a number"):
        scenario_for(auto_repair, {"market": 1.0})


def test_headline_names_the_arms_and_the_figures(auto_repair: Scenario) -> None:
    results = simulate(auto_repair, runs=30, workers=1, horizon_months=30)
    text = headline(results, compare(results), seconds=1.25)
    for label in results.labels.values():
        assert label in text
    for words in (
        "Open after 1 year",
        "Open after 30 months",
        "median",
        "95% CI",
        "updated in 1.2 s",
    ):
        assert words in text
    assert "Runs where its NPV is higher" in text


def test_the_widget_free_part_imports_without_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "from franchise_sim import load_scenario\n"
        "from franchise_sim.interfaces.explorer import controls_for, scenario_for, explore\n"
        f"s = load_scenario({str(ROOT / 'scenarios' / 'auto_repair.yaml')!r})\n"
        "assert len(controls_for(s)) == 10\n"
        "scenario_for(s, {'market.households': 30000.0})\n"
        "try:\n    explore(s)\nexcept ImportError as e:\n    print(e)\n"
    )
    assert printed_by(code) == INSTALL_HINT
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"pip install 'franchise-sim\[notebook\]'"):
        explore("auto_repair", **SMALL)


# --- the explorer ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_explore_builds_widgets_and_a_first_picture(path: Path) -> None:
    ex = explore(path, **SMALL)
    try:
        assert ex.png.startswith(PNG_SIGNATURE)
        assert len(ex.png) > 10_000
        assert ex.scenario is ex.base
        assert ex.results.runs == 40
        assert ex.status.startswith("40 paired runs in ")
        assert (ex.updates, ex.requests, ex.runs_started) == (0, 0, 0)
        assert len(ex.sliders) == len(ex.controls)
        for c in ex.controls:
            slider = ex.sliders[c.path]
            assert (slider.min, slider.max, slider.value) == (c.low, c.high, c.value)
            assert slider.continuous_update is False
        bundle = ex._repr_mimebundle_()
        assert bundle is not None
        assert "application/vnd.jupyter.widget-view+json" in bundle
        for label in ex.results.labels.values():
            assert label in ex._headline_widget.value
    finally:
        ex.close()


def test_one_change_draws_one_update_with_its_value(explorer: Explorer) -> None:
    before = explorer.png
    explorer.sliders[ROYALTY].value = 0.1
    assert explorer.wait(WAIT)
    assert (explorer.requests, explorer.updates, explorer.runs_started) == (1, 1, 1)
    assert explorer.runs_cancelled == 0
    assert value_at(explorer.scenario, ROYALTY) == 0.1
    assert explorer.results.scenario is explorer.scenario
    assert explorer.values[ROYALTY] == 0.1
    assert explorer.png != before
    assert explorer.status.startswith("40 paired runs in ")
    # The same seed: only the royalty changed, so the independent arm is exactly as before.
    first = simulate(explorer.base, runs=40, workers=1)
    np.testing.assert_array_equal(
        explorer.results.trajectories[0], first.trajectories[first.arm_index("independent")]
    )


def test_quick_changes_end_with_the_last_value_drawn(explorer: Explorer) -> None:
    for value in (0.07, 0.09, 0.11):
        explorer.sliders[ROYALTY].value = value
    explorer.sliders["market.households"].value = 30_000.0
    assert explorer.wait(WAIT)
    assert explorer.requests == 4
    assert 1 <= explorer.updates <= explorer.requests
    assert explorer.runs_started == explorer.updates + explorer.runs_cancelled
    assert value_at(explorer.scenario, ROYALTY) == 0.11
    assert explorer.scenario.market.households.mean() == pytest.approx(30_000.0)  # type: ignore[union-attr]


def test_changes_within_the_debounce_make_one_run(auto_repair: Scenario) -> None:
    ex = explore(auto_repair, **{**SMALL, "debounce_seconds": 0.5})
    try:
        ex.sliders[ROYALTY].value = 0.08
        ex.sliders[ROYALTY].value = 0.09
        assert ex.wait(WAIT)
        assert (ex.requests, ex.runs_started, ex.updates) == (2, 1, 1)
        assert value_at(ex.scenario, ROYALTY) == 0.09
    finally:
        ex.close()


def test_an_invalid_combination_shows_a_message_and_keeps_the_picture(
    auto_repair: Scenario,
) -> None:
    loose = Control(
        ROYALTY, "Franchise: royalty", 0.0, 2.0, 0.01, 0.06, "percent", "Franchise", "Royalty"
    )
    ex = explore(auto_repair, **SMALL, controls=[loose])
    try:
        before = ex.png
        ex.sliders[ROYALTY].value = 1.5
        assert ex.wait(WAIT)
        assert ex.status.startswith("Not redrawn: ")
        assert "royalty_rate" in ex.status
        assert "Traceback" not in ex.status
        assert "#b00020" in ex._status_widget.value
        assert (ex.updates, ex.runs_started) == (0, 0)
        assert ex.png == before
        assert ex.scenario is ex.base
        ex.sliders[ROYALTY].value = 0.09  # and it recovers
        assert ex.wait(WAIT)
        assert ex.updates == 1
        assert value_at(ex.scenario, ROYALTY) == 0.09
    finally:
        ex.close()


def test_a_change_during_a_run_cancels_it_and_only_the_newest_is_drawn(
    auto_repair: Scenario,
) -> None:
    armed = threading.Event()
    seen: list[int] = []
    box: dict[str, Explorer] = {}

    def progress(done: int) -> None:
        seen.append(done)
        if armed.is_set():  # the first batch of the run for 0.08 is done: move again
            armed.clear()
            box["ex"].sliders[ROYALTY].value = 0.12

    ex = box["ex"] = explore(auto_repair, **SMALL, progress=progress)
    try:
        assert seen[-1] == 40  # the first picture's run reported its batches too
        seen.clear()
        armed.set()
        ex.sliders[ROYALTY].value = 0.08
        assert ex.wait(WAIT)
        assert (ex.requests, ex.runs_started, ex.runs_cancelled, ex.updates) == (2, 2, 1, 1)
        assert value_at(ex.scenario, ROYALTY) == 0.12
        assert value_at(ex.results.scenario, ROYALTY) == 0.12
        # A run this small is one batch per worker: the stale run stopped at its end, before
        # drawing; the newest ran its own.
        assert seen == [40, 40]
    finally:
        ex.close()


def test_close_stops_the_thread_and_freezes_the_sliders(auto_repair: Scenario) -> None:
    ex = explore(auto_repair, **SMALL)
    ex.close()
    ex.close()  # twice is fine
    assert ex.closed
    assert not ex._thread.is_alive()
    assert all(slider.disabled for slider in ex.sliders.values())
    ex.sliders[ROYALTY].value = 0.1
    assert ex.requests == 0
    assert ex.wait(1.0)
    assert ex.status.startswith("Closed.")
    assert "closed" in repr(ex)


def test_an_explorer_on_a_process_pool(auto_repair: Scenario) -> None:
    ex = explore(auto_repair, runs=40, workers=2, debounce_seconds=0.0, horizon_months=24)
    try:
        assert os.getpid() not in ex.results.worker_pids
        ex.sliders[ROYALTY].value = 0.1
        assert ex.wait(WAIT)
        assert ex.updates == 1
        again = explore(auto_repair, runs=40, workers=2, horizon_months=24)
        assert again._lease.pool is ex._lease.pool  # one pool for every open explorer
        again.close()
        assert _POOLS[2][1] == 1
    finally:
        ex.close()
    assert 2 not in _POOLS


def test_leases_share_a_pool_and_the_last_one_shuts_it_down() -> None:
    first, second = PoolLease(3), PoolLease(3)
    pool = first.pool
    assert pool is not None
    assert second.pool is pool
    assert _POOLS[3] == (pool, 2)
    first.release()
    first.release()
    assert _POOLS[3] == (pool, 1)
    second.release()
    assert 3 not in _POOLS
    with pytest.raises(RuntimeError):
        pool.submit(int)
    assert PoolLease(1).pool is None


def _pid_after(seconds: float) -> int:
    """This process's id, after a pause (so that two jobs land on two workers)."""
    time.sleep(seconds)
    return os.getpid()


def test_explorer_workers_outlive_the_thread_that_started_them_and_ignore_ctrl_c() -> None:
    lease = PoolLease(2)
    pool = lease.pool
    assert pool is not None
    started: set[int] = set()

    def start() -> None:  # as the explorer's background thread, the first to submit
        while len(started) < 2:  # until both workers are set up (each has run a job)
            jobs = [pool.submit(_pid_after, 0.2) for _ in range(2)]
            started.update(job.result(timeout=WAIT) for job in jobs)

    starter = threading.Thread(target=start)
    starter.start()
    starter.join()
    try:
        workers = set(pool._processes)
        assert started == workers
        for pid in workers:
            os.kill(pid, signal.SIGINT)  # a worker deaf to Ctrl-C stays
        time.sleep(0.2)
        # Had a death signal been tied to the starting thread, these would be dead by now.
        pids = {pool.submit(os.getpid).result(timeout=WAIT) for _ in range(8)}
        assert set(pool._processes) == workers
        assert pids <= workers
    finally:
        lease.release()


# --- simulate on a caller's executor, and abandoned runs ---------------------------------------


class _RecordingPool(ThreadPoolExecutor):
    """A one-thread pool that keeps the futures it hands out.

    Gated, every batch after the first waits until the pool shuts down, so when a run is
    abandoned after its first batch the others are certainly not finished. The tasks that
    start a pool's workers early are not batches: neither kept nor held.
    """

    made: ClassVar[list[_RecordingPool]] = []
    gated: ClassVar[bool] = False

    def __init__(self, max_workers: int | None = None, **_process_options: Any) -> None:
        super().__init__(max_workers=1)
        self.futures: list[Future[Any]] = []
        self.shut_down = False
        self.gate = threading.Event()
        _RecordingPool.made.append(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is os.getpid:  # how the runner starts a pool of its own early: not a batch
            return super().submit(fn, *args, **kwargs)

        def held() -> Any:
            self.gate.wait()
            return fn(*args, **kwargs)

        first = not self.futures
        future = (
            super().submit(fn, *args, **kwargs) if first or not self.gated else super().submit(held)
        )
        self.futures.append(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shut_down = True
        self.gate.set()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


class _StopError(Exception):
    """Raised by a progress callback to abandon a run."""


def _stop(_count: int) -> None:
    raise _StopError


def test_simulate_on_a_given_executor_gives_the_same_results(auto_repair: Scenario) -> None:
    alone = simulate(auto_repair, runs=24, seed=4, workers=1, horizon_months=24)
    with _RecordingPool() as pool:
        shared = simulate(auto_repair, runs=24, seed=4, workers=3, horizon_months=24, executor=pool)
        assert len(pool.futures) == 3  # one batch per worker asked for
        assert not pool.shut_down  # the caller's to close
    np.testing.assert_array_equal(alone.trajectories, shared.trajectories)
    for name in alone.outcomes:
        np.testing.assert_array_equal(alone.outcomes[name], shared.outcomes[name])


def test_an_abandoned_run_cancels_the_batches_not_yet_started(
    auto_repair: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_RecordingPool, "gated", True)
    with _RecordingPool() as pool:
        with pytest.raises(_StopError):
            simulate(
                auto_repair, runs=40, workers=2, horizon_months=12, executor=pool, progress=_stop
            )
        assert sum(f.cancelled() for f in pool.futures) >= len(pool.futures) - 2
        assert not pool.shut_down  # the caller's pool stays open
    # Its own pool too: cancelled, then shut down rather than left to finish every batch.
    _RecordingPool.made.clear()
    monkeypatch.setattr(pool_module, "ProcessPoolExecutor", _RecordingPool)
    with pytest.raises(_StopError):
        simulate(auto_repair, runs=40, workers=2, horizon_months=12, progress=_stop)
    (own,) = _RecordingPool.made
    assert own.shut_down
    assert sum(f.cancelled() for f in own.futures) >= len(own.futures) - 2


def test_a_process_pool_hands_the_books_over_in_files_kept_for_the_next_run(
    auto_repair: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shelf = books_files.Shelf()
    monkeypatch.setattr(books_files, "SHELF", shelf)
    read: list[range] = []
    paths: list[str] = []
    real = books_files.BooksFiles.read

    def counted(files: Any, batch: range, into: Any) -> None:
        read.append(batch)
        paths.append(files.path(batch))
        real(files, batch, into)

    monkeypatch.setattr(books_files.BooksFiles, "read", counted)
    alone = simulate(auto_repair, runs=30, seed=4, workers=1, horizon_months=12)
    assert read == []  # in-process: the books are the batch's own
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = simulate(auto_repair, runs=30, seed=4, workers=3, horizon_months=12, executor=pool)
        assert read == [range(0, 10), range(10, 20), range(20, 30)]
        assert sorted(shelf.kept()) == sorted(paths)  # kept for the next run
        again = simulate(auto_repair, runs=30, seed=4, workers=3, horizon_months=12, executor=pool)
        assert sorted(paths[3:]) == sorted(paths[:3])  # written over, not made anew
        with pytest.raises(_StopError):  # abandoned after its first batch
            simulate(
                auto_repair,
                runs=30,
                seed=4,
                workers=3,
                horizon_months=12,
                executor=pool,
                progress=_stop,
            )
    # Abandoned, its files go back once no batch can write them (the pool has finished them).
    assert sorted(shelf.kept()) == sorted(paths[:3])
    own = simulate(auto_repair, runs=30, seed=4, workers=2, horizon_months=12)
    # One round on a pool of its own: this process runs the first batch, the pool the second.
    assert read[-1:] == [range(15, 30)]
    assert_identical(alone, pooled)
    assert_identical(alone, again)
    assert_identical(alone, own)
    assert sorted(str(p) for p in tmp_path.rglob("*.books")) == sorted(shelf.kept())
    shelf.release()
    assert list(tmp_path.iterdir()) == []  # no file or folder left


# --- the picture, redrawn in place -------------------------------------------------------------


def _exact(values: Any) -> str:
    """Every number written out exactly (NaN as ``nan``, which is then equal to itself)."""
    return repr(np.asarray(values, dtype=float).tolist())


def _drawn(figure: Figure) -> list[dict[str, Any]]:
    """What each panel of a picture shows: its artists' data, texts, limits and ticks."""
    panels = []
    for ax in figure.axes:
        legend = ax.get_legend()
        panels.append(
            {
                "lines": [(line.get_gid(), _exact(line.get_xydata())) for line in ax.lines],
                "bands": [
                    (band.get_gid(), [_exact(path.vertices) for path in band.get_paths()])
                    for band in ax.collections
                ],
                "texts": (
                    ax.get_title(),
                    ax.get_xlabel(),
                    ax.get_ylabel(),
                    ax.title.get_fontsize(),
                    ax.yaxis.label.get_fontsize(),
                ),
                "limits": (ax.get_xlim(), ax.get_ylim(), ax.dataLim.get_points().tolist()),
                "ticks": (
                    ax.get_yticks().tolist(),
                    [t.get_text() for t in ax.get_yticklabels()],
                    [t.get_text() for t in ax.get_xticklabels()],
                ),
                "legend": None
                if legend is None
                else [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()],
            }
        )
    return panels


def test_a_picture_redrawn_in_place_is_the_picture_drawn_anew(auto_repair: Scenario) -> None:
    values = {c.path: c.value for c in controls_for(auto_repair)}
    settings = [{ROYALTY: 0.12}, {"market.households": 15_000.0}, {ROYALTY: 0.03}]
    kept = Picture()
    previous: tuple[Figure, list[Any]] | None = None
    shown: list[bytes] = []
    for change in settings:
        values.update(change)
        results = simulate(scenario_for(auto_repair, values), runs=40, workers=1)
        png = kept.draw(results)
        shown.append(png)
        assert kept.figure is not None
        if previous is not None:  # the same figure and artists, with the new values
            assert kept.figure is previous[0]
            assert [a for ax in kept.figure.axes for a in ax.get_children()] == previous[1]
        fresh = picture(results)
        for ax, kept_ax in zip(fresh.axes, kept.figure.axes, strict=True):
            ax.set_ylim(kept_ax.get_ylim())  # the value axes the kept picture held steady
        FigureCanvasAgg(fresh)  # matplotlib's own canvas: every text laid out afresh
        assert png == png_bytes(fresh, dpi=PICTURE_DPI)  # pixel for pixel
        assert _drawn(kept.figure) == _drawn(fresh)  # ticks and their labels as drawn
        previous = kept.figure, [a for ax in kept.figure.axes for a in ax.get_children()]
    assert len(set(shown)) == len(settings)  # each setting a picture of its own
    # the texts that stayed put (titles, labels, the months' ticks) were replayed, not redrawn
    canvas = kept.figure.canvas if kept.figure is not None else None
    assert isinstance(canvas, TextKeepingCanvas)
    assert canvas.texts_replayed > 20


def test_a_redrawn_picture_keeps_its_value_axes_while_the_bands_fit_them(
    auto_repair: Scenario,
) -> None:
    values = {c.path: c.value for c in controls_for(auto_repair)}
    kept = Picture()

    def limits(change: dict[str, float]) -> list[tuple[float, float]]:
        values.update(change)
        kept.draw(simulate(scenario_for(auto_repair, values), runs=40, workers=1))
        assert kept.figure is not None
        return [ax.get_ylim() for ax in kept.figure.axes[:2]]

    first = limits({})
    assert limits({ROYALTY: values[ROYALTY] + 0.005}) == first  # a nudge: the same axes
    fresh = picture(simulate(scenario_for(auto_repair, values), runs=40, workers=1))
    # a market four times the size: the customer bands leave the axis, which is fitted anew
    bigger = limits({"market.households": 4.0 * values["market.households"]})
    fitted = picture(simulate(scenario_for(auto_repair, values), runs=40, workers=1))
    assert bigger[0] == fitted.axes[0].get_ylim()
    assert bigger[0][1] > 2.0 * first[0][1]
    assert fresh.axes[1].get_ylim() != first[1]  # the cash axis kept, not fitted to the nudge


def test_steady_limits_keeps_an_axis_only_while_the_data_fit_it_well() -> None:
    shown = (0.0, 100.0)
    assert steady_limits(shown, (2.0, 90.0), (0.0, 94.4)) == shown
    assert steady_limits(shown, (0.5, 90.0), (-4.0, 94.5)) == (-4.0, 94.5)  # within 1% of it
    assert steady_limits(shown, (0.0, 90.0), (0.0, 94.5)) == shown  # a floor both keep at 0
    assert steady_limits(shown, (5.0, 100.0), (0.0, 104.75)) == (0.0, 104.75)
    assert steady_limits(shown, (2.0, 99.5), (0.0, 104.0)) == (0.0, 104.0)
    assert steady_limits(shown, (10.0, 60.0), (7.5, 62.5)) == (7.5, 62.5)  # 55%: shrunk
    assert steady_limits(shown, (10.0, 65.0), (7.25, 67.75)) == shown  # 60.5% of the axis


def test_a_picture_of_another_shape_is_drawn_anew(auto_repair: Scenario) -> None:
    kept = Picture()
    kept.draw(simulate(auto_repair, runs=40, workers=1))
    first = kept.figure
    for other in (
        simulate(auto_repair, runs=41, workers=1),  # the shape: runs
        simulate(auto_repair, runs=5, workers=1),  # every run drawn: not refreshed
        simulate(auto_repair, deterministic=True),  # the plan on paper
    ):
        assert not kept.fits(other)
        png = kept.draw(other)
        assert kept.figure is not first
        assert png == png_bytes(picture(other), dpi=PICTURE_DPI)
        first = kept.figure
    with pytest.raises(ValueError, match="drawn anew"):
        picture(
            simulate(auto_repair, runs=5, workers=1),
            picture(simulate(auto_repair, runs=40, workers=1)),
        )
