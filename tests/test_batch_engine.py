"""The batch engine keeps the books of the engine it replaced, whatever the batch.

The per-replication engine the batch engine replaced is the oracle: its books, stored before it
was deleted (`OLD_ENGINE`), must be reproduced bit for bit (monthly books, closure reasons,
shared-event counts, the market and relationship counters) for every shipped scenario, more arms,
other horizons, the plan on paper and with the franchise relationship left out. Then: the same
results for any batch size and any number of workers, and the vector streams and counts equal to
numpy's own and to the scalar ones.
"""

from __future__ import annotations

import copy
import gc
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest
import yaml

from franchise_sim.engine.batch import (
    DEFAULT_RELATIONSHIPS,
    BatchRecord,
    monthly_columns,
    plans_on_paper,
    relationships_in_use,
    run_batch,
    run_plans,
)
from franchise_sim.engine.runner import simulate
from franchise_sim.model import randomness
from franchise_sim.model import streams as br
from franchise_sim.model.draws import BatchDraw, BatchDraws
from franchise_sim.model.plan import needs_plan_on_paper, plan_replication
from franchise_sim.model.relationships.franchise import FRANCHISE
from franchise_sim.scenario.distributions import LARGEST_UNIFORM, SMALLEST_UNIFORM
from franchise_sim.scenario.files import parse_scenario
from franchise_sim.scenario.schema import Scenario
from tests.conftest import ROOT

SHIPPED = ("auto_repair", "fitness_studio", "home_cleaning", "quick_service_restaurant")


def _scenario(name: str, edit: Callable[[dict[str, Any]], None] | None = None) -> Scenario:
    data = yaml.safe_load((ROOT / "scenarios" / f"{name}.yaml").read_text())
    if edit is not None:
        edit(data)
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), f"{name} (variant)")


def _more_arms(count: int) -> Callable[[dict[str, Any]], None]:
    """Arms beyond the two: a floating-rate franchise, a dearer one, a leaner independent."""

    def edit(data: dict[str, Any]) -> None:
        arms = data["arms"]
        floating = copy.deepcopy(arms["franchise"])
        floating["label"] = "Floating-rate franchise"
        floating["financing"]["floating_rate"] = {
            "spread_over_prime_per_year": 0.0275,
            "reset_months": 3,
        }
        dearer = copy.deepcopy(arms["franchise"])
        dearer["label"] = "Dearer franchise"
        dearer["franchise"]["royalty_rate"] = 0.09
        lean = copy.deepcopy(arms["independent"])
        lean["label"] = "Lean independent"
        lean["financing"] = {"owner_equity_usd": 40000}
        extra = {"floating": floating, "dearer": dearer, "lean": lean}
        for key in list(extra)[: count - 2]:
            arms[key] = extra[key]

    return edit


def _plain_rules(data: dict[str, Any]) -> None:
    """Constant-rate entry, the patience rule, no closure settled in the books."""
    data["events"]["competitor_entry"].pop("households_per_firm_threshold", None)
    data["owner"].pop("review", None)
    data["owner"].pop("sale", None)
    data["operations"].pop("closure", None)


OLD_ENGINE = ROOT / "tests" / "data" / "old_engine_books.npz"
"""Books of the per-replication engine the batch engine replaced, written by it at commit 12a58ec
(the ``commit`` entry) just before it was deleted: the four shipped scenarios of that commit, 3
and 5 arms at 12, 60 and 120 months, constant-rate entry with the patience rule, the plan on paper
of each shipped scenario, and a run without the franchise relationship. Each case holds its
scenario's text and its run (seed, first replication, runs, horizon, deterministic, with the
franchise), so the batch engine is compared with that engine's books, bit for bit, for good."""

STORED = np.load(OLD_ENGINE)


@pytest.mark.parametrize("case", STORED["names"].tolist())
def test_the_batch_engine_keeps_the_books_of_the_engine_it_replaced(case: str) -> None:
    scenario = parse_scenario(str(STORED[f"{case}:scenario"]), case)
    seed, first, runs, horizon, deterministic, with_franchise = (
        int(x) for x in STORED[f"{case}:run"]
    )
    relationships = (FRANCHISE,) if with_franchise else ()  # the model the oracle ran
    paper = (
        plans_on_paper(scenario, seed, horizon, relationships)
        if needs_plan_on_paper(scenario) and not deterministic
        else None
    )
    new = run_batch(
        scenario,
        seed,
        range(first, first + runs),
        horizon,
        bool(deterministic),
        paper,
        relationships=relationships,
    )
    # The stored books have the columns of the model of their day (the franchise its only
    # relationship); relationships added since hold their neutral value where no arm has them.
    stored = monthly_columns((FRANCHISE,) if with_franchise else ())
    columns = monthly_columns(relationships)
    kept = [columns.index(c) for c in stored]
    np.testing.assert_array_equal(new.monthly[..., kept], STORED[f"{case}:monthly"])
    added = [i for i, c in enumerate(columns) if c not in stored]
    assert not new.monthly[..., added].any()
    assert new.closure_reasons == [tuple(r) for r in STORED[f"{case}:closure_reasons"].tolist()]
    np.testing.assert_array_equal(new.shock_counts, STORED[f"{case}:shock_counts"])
    np.testing.assert_array_equal(new.market_customers, STORED[f"{case}:market_customers"])
    if with_franchise:
        for counter in ("franchisor_failed_month", "brand_shocks"):
            np.testing.assert_array_equal(new.counters[counter], STORED[f"{case}:{counter}"])
        others = set(new.counters) - {"franchisor_failed_month", "brand_shocks"}
        assert not any(new.counters[name].any() for name in others)
    else:
        assert new.counters == {}
        assert "royalty" not in monthly_columns(())


@pytest.mark.parametrize("case", ["auto_repair", "fitness_studio_plan_on_paper"])
def test_the_other_relationships_leave_an_arm_without_them_as_it_was(case: str) -> None:
    """The shipped model with every relationship: the franchise-only books, the rest at zero.

    No arm of the stored scenarios holds a relationship besides the franchise, so composing the
    model of all of them changes no number of the books the old engine kept; the new cost lines
    and columns are there, all zero, and their counters say nothing happened.
    """
    scenario = parse_scenario(str(STORED[f"{case}:scenario"]), case)
    seed, first, runs, horizon, deterministic, _ = (int(x) for x in STORED[f"{case}:run"])
    paper = (
        plans_on_paper(scenario, seed, horizon)
        if needs_plan_on_paper(scenario) and not deterministic
        else None
    )
    new = run_batch(scenario, seed, range(first, first + runs), horizon, bool(deterministic), paper)
    columns, stored = monthly_columns(), monthly_columns((FRANCHISE,))
    assert len(DEFAULT_RELATIONSHIPS) > 1
    assert len(columns) > len(stored)
    kept = [columns.index(name) for name in stored]
    np.testing.assert_array_equal(new.monthly[..., kept], STORED[f"{case}:monthly"])
    added = [i for i, name in enumerate(columns) if name not in stored]
    assert (new.monthly[..., added] == 0).all()
    assert all(
        (values == 0).all()
        for name, values in new.counters.items()
        if name not in ("franchisor_failed_month", "brand_shocks")
    )


def test_the_stored_books_hold_closures_and_every_shipped_scenario() -> None:
    """The comparison is not vacuous: closures (and their settling) are among what is compared."""
    names = STORED["names"].tolist()
    assert set(SHIPPED) <= set(names)
    for case in names:
        if not case.endswith("_plan_on_paper"):
            assert (STORED[f"{case}:closure_reasons"] != "").any(), case


def _books(record: BatchRecord) -> tuple[Any, ...]:
    return (record.monthly, record.closure_reasons, record.shock_counts, record.counters)


def test_the_books_do_not_depend_on_the_batch() -> None:
    scenario = _scenario("fitness_studio")
    paper = plans_on_paper(scenario, 4, 24)
    whole = run_batch(scenario, 4, range(0, 30), 24, False, paper)
    parts = [
        run_batch(scenario, 4, range(a, b), 24, False, paper)
        for a, b in ((0, 1), (1, 17), (17, 30))
    ]
    np.testing.assert_array_equal(whole.monthly, np.concatenate([p.monthly for p in parts], axis=1))
    assert whole.closure_reasons == [r for p in parts for r in p.closure_reasons]
    np.testing.assert_array_equal(
        whole.shock_counts, np.concatenate([p.shock_counts for p in parts])
    )
    for name, values in whole.counters.items():
        np.testing.assert_array_equal(values, np.concatenate([p.counters[name] for p in parts]))


def test_results_are_the_same_for_one_two_and_three_workers() -> None:
    scenario = _scenario("auto_repair")
    one = simulate(scenario, runs=45, seed=9, workers=1, horizon_months=24)
    two = simulate(scenario, runs=45, seed=9, workers=2, horizon_months=24)
    with ProcessPoolExecutor(max_workers=3) as pool:
        three = simulate(scenario, runs=45, seed=9, workers=3, horizon_months=24, executor=pool)
    for other in (two, three):
        np.testing.assert_array_equal(one.trajectories, other.trajectories)
        np.testing.assert_array_equal(one.closure_reasons, other.closure_reasons)
        for name, values in one.outcomes.items():
            np.testing.assert_array_equal(values, other.outcomes[name])
        for name, counts in one.shock_counts.items():
            np.testing.assert_array_equal(counts, other.shock_counts[name])


def _left_to_the_cyclic_collector(scenario: Scenario, runs: int) -> int:
    paper = plans_on_paper(scenario, 3, 24)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        run_batch(scenario, 3, range(runs), 24, False, paper)
        return gc.collect()
    finally:
        if enabled:
            gc.enable()


def test_a_batch_leaves_its_objects_to_reference_counting() -> None:
    """No cycle per replication: what the cyclic collector finds after a batch stays put.

    A cycle through an actor would leave the collector all its plans, 23 objects a replication.
    """
    scenario = _scenario("auto_repair")
    small = _left_to_the_cyclic_collector(scenario, 5)
    large = _left_to_the_cyclic_collector(scenario, 60)
    assert large <= small + 10, (small, large)


SEEDS = (0, 1, 12345, 2**40 + 3, 2**130 + 5)
PURPOSES = ("customers", "shock:recession", "input:market.households", "franchisor.failure")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_keyed_streams_are_numpys_own(seed: int) -> None:
    replications = np.arange(0, 5000, 37, dtype=np.int64)
    for purpose in PURPOSES:
        words = br.seed_words(seed, replications, purpose, 8)
        uniforms = br.keyed_uniforms(seed, replications, purpose)
        for i, r in enumerate(replications.tolist()):
            expected = randomness.seed_sequence(seed, r, purpose).generate_state(8)
            np.testing.assert_array_equal(words[i], expected)
            assert uniforms[i] == randomness.keyed_uniform(seed, r, purpose)
        streams = br.KeyedStreams(seed, replications[:10], purpose)
        drawn = streams.uniforms((3, 5))
        exponentials = br.ExponentialStreams(seed, replications[:10], purpose, 1.0)
        for i, r in enumerate(replications[:10].tolist()):
            np.testing.assert_array_equal(
                drawn[i], randomness.stream(seed, r, purpose).random((3, 5))
            )
            generator = randomness.stream(seed, r, purpose)
            for j in range(30):  # past the first block: the stream goes on where it was
                scale = 1.0 + j % 3
                assert exponentials.next(i, scale) == generator.exponential(scale)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_pcg64_states_worked_out_over_a_batch_are_numpys_own(seed: int) -> None:
    """The 128-bit seeding arithmetic on 64-bit halves: every carry and wrap as numpy's."""
    replications = np.arange(0, 3000, 7, dtype=np.int64)
    for purpose in PURPOSES:
        words = br.pcg64_words(seed, replications, purpose).tolist()
        for row, r in zip(words, replications.tolist(), strict=True):
            state = randomness.stream(seed, r, purpose).bit_generator.state["state"]
            assert row == [
                state["state"] & (2**64 - 1),
                state["state"] >> 64,
                state["inc"] & (2**64 - 1),
                state["inc"] >> 64,
            ]


def test_the_in_place_probe_refuses_words_that_are_not_where_it_takes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read before any write: words elsewhere, or in another order, leave the property on."""
    assert br._StateInPlace.probe()
    real = br._StateInPlace.__init__

    def swapped(self: Any, bits: np.random.PCG64) -> None:
        real(self, bits)
        self.words = self.words[[1, 0, 3, 2]]  # a copy, high halves first: not its memory

    monkeypatch.setattr(br._StateInPlace, "__init__", swapped)
    assert not br._StateInPlace.probe()


def test_the_streams_are_the_same_set_in_place_or_through_the_state_property(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert br._STATE_IN_PLACE  # this numpy lays PCG64's state out as `_StateInPlace` takes it
    replications = np.arange(40, 60, dtype=np.int64)
    streams = br.KeyedStreams(5, replications, "customers")
    assert streams._in_place is not None
    in_place = streams.uniforms((4, 3))
    # A stream starts afresh, with no half of a 64-bit draw left buffered by the last one.
    streams.generator(3).integers(0, 2**32, dtype=np.uint32)
    fresh = randomness.stream(5, 43, "customers").integers(0, 2**32, size=3, dtype=np.uint32)
    np.testing.assert_array_equal(
        streams.generator(3).integers(0, 2**32, size=3, dtype=np.uint32), fresh
    )
    monkeypatch.setattr(br, "_STATE_IN_PLACE", False)
    by_property = br.KeyedStreams(5, replications, "customers")
    assert by_property._in_place is None
    np.testing.assert_array_equal(by_property.uniforms((4, 3)), in_place)


def _uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    u[:20] = 0.0
    u[20:40] = LARGEST_UNIFORM
    u[40:60] = SMALLEST_UNIFORM
    return u


def test_the_vector_poisson_counts_are_the_scalar_ones() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    u = _uniforms(rng, n)
    mean = np.exp(rng.uniform(-6.0, 12.0, n))
    mean[60:80] = 0.0
    mean[80:100] = 12.0
    expected = [
        randomness.poisson_count(a, b) for a, b in zip(u.tolist(), mean.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(br.poisson_counts(u, mean), expected)


def test_the_vector_binomial_counts_are_the_scalar_ones() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    u = _uniforms(rng, n)
    trials = np.floor(np.exp(rng.uniform(0.0, 10.0, n)))
    trials[60:80] = 0.0
    p = rng.random(n) ** 3
    p[80:100] = 1.0
    p[100:120] = 0.0
    expected = [
        randomness.binomial_count(a, int(b), c)
        for a, b, c in zip(u.tolist(), trials.tolist(), p.tolist(), strict=True)
    ]
    np.testing.assert_array_equal(br.binomial_counts(u, trials, p), expected)


def test_the_vector_counts_refuse_the_means_the_scalar_ones_refuse() -> None:
    with pytest.raises(ValueError, match="beyond what the simulation can draw"):
        br.poisson_counts(np.array([0.5, 0.5]), np.array([1.0, 1e14]))
    with pytest.raises(ValueError, match="beyond what the simulation can draw"):
        br.binomial_counts(np.array([0.5]), np.array([1e15]), np.array([0.5]))


def test_the_compiled_counts_are_the_numpy_ones() -> None:
    pytest.importorskip("numba")
    compiled = br.CountQuantiles(compiled=True)
    assert compiled.compiled
    rng = np.random.default_rng(5)
    n = 20_000
    u = _uniforms(rng, n)
    mean = np.exp(rng.uniform(-6.0, 12.0, n))
    np.testing.assert_array_equal(compiled.poisson(u, mean), br.poisson_counts(u, mean))
    trials = np.floor(np.exp(rng.uniform(0.0, 10.0, n)))
    p = rng.random(n) ** 3
    p[80:100] = 1.0
    np.testing.assert_array_equal(compiled.binomial(u, trials, p), br.binomial_counts(u, trials, p))


def test_a_batch_with_compiled_counts_keeps_the_books() -> None:
    pytest.importorskip("numba")
    scenario = _scenario("quick_service_restaurant")
    paper = plans_on_paper(scenario, 6, 24)
    plain = run_batch(scenario, 6, range(0, 40), 24, False, paper)
    draws = BatchDraws(6, np.arange(40, dtype=np.int64))
    plans = [
        plan_replication(
            scenario,
            seed=6,
            replication=r,
            horizon_months=24,
            on_paper=paper,
            draw=BatchDraw(draws, r),
        )
        for r in range(40)
    ]
    compiled = run_plans(plans, counts=br.CountQuantiles(compiled=True))
    np.testing.assert_array_equal(plain.monthly, compiled.monthly)
    assert plain.closure_reasons == compiled.closure_reasons


def test_the_compiled_kernels_are_loaded_only_where_they_repay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enough = br.KERNELS_REPAID_ARM_MONTHS
    monkeypatch.setattr(br, "_ARM_MONTHS_SO_FAR", [0.0])  # a new session
    monkeypatch.setattr(br, "kernels_loaded", lambda: False)
    monkeypatch.setattr(br, "numba_installed", lambda: True)
    assert not br.compiled_repays(enough - 1)
    assert br.compiled_repays(enough)
    br.count_arm_months(0.75 * enough)  # runs before this one count: the rent paid so far
    assert not br.compiled_repays(0.25 * enough - 1)
    assert br.compiled_repays(0.25 * enough)
    monkeypatch.setattr(br, "numba_installed", lambda: False)
    assert not br.compiled_repays(10 * enough)  # numpy's then: the same numbers
    monkeypatch.setattr(br, "kernels_loaded", lambda: True)
    assert br.compiled_repays(1)  # a process that has them uses them


def test_a_session_of_short_runs_loads_the_kernels_once_they_would_have_repaid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import franchise_sim.engine.runner as runner

    scenario = _scenario("auto_repair")
    share = 20 * 2 * 12  # each run's arm-months, in this process
    monkeypatch.setattr(br, "_ARM_MONTHS_SO_FAR", [0.0])
    monkeypatch.setattr(br, "KERNELS_REPAID_ARM_MONTHS", 2.5 * share)
    monkeypatch.setattr(br, "kernels_loaded", lambda: False)
    monkeypatch.setattr(br, "numba_installed", lambda: True)
    loads: list[int] = []

    def load() -> bool:
        loads.append(1)
        return True

    monkeypatch.setattr(runner, "load_compiled_counts", load)
    for _ in range(3):
        simulate(scenario, runs=20, workers=1, horizon_months=12)
    assert loads == [1]  # the third run: two without them, and its own share, reach the price
    assert br._ARM_MONTHS_SO_FAR[0] == 2 * share


def test_a_run_asks_for_the_kernels_by_its_share_of_each_process_and_keeps_its_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("numba")
    import franchise_sim.engine.runner as runner

    scenario = _scenario("auto_repair")
    asked: list[float] = []

    def choose(compiled: bool) -> Callable[[float], bool]:
        def compiled_repays(arm_months_per_process: float) -> bool:
            asked.append(arm_months_per_process)
            return compiled

        return compiled_repays

    runs = {}
    monkeypatch.setattr(br, "_ARM_MONTHS_SO_FAR", [0.0])
    for compiled in (False, True):
        monkeypatch.setattr(runner, "compiled_repays", choose(compiled))
        runs[compiled] = simulate(scenario, runs=30, workers=1, horizon_months=24)
    assert asked == [30 * 2 * 24, 30 * 2 * 24]
    assert br._ARM_MONTHS_SO_FAR[0] == 30 * 2 * 24  # the run without them counts towards them
    np.testing.assert_array_equal(runs[True].trajectories, runs[False].trajectories)
    assert runs[True].outcomes.keys() == runs[False].outcomes.keys()
    for name, values in runs[True].outcomes.items():
        np.testing.assert_array_equal(values, runs[False].outcomes[name])


def test_a_run_of_one_round_works_out_a_new_plan_on_paper_where_each_batch_runs() -> None:
    from franchise_sim.engine.batch import plan_on_paper_kept
    from franchise_sim.engine.runner import planned_where_run

    assert planned_where_run(2, 2, kept=False)  # one round, a new scenario: each works it out
    assert not planned_where_run(2, 2, kept=True)  # kept here: sent with each batch
    assert not planned_where_run(3, 2, kept=False)  # more rounds: worked out once, here
    scenario = _scenario("auto_repair")
    assert not plan_on_paper_kept(scenario, 4, 24)
    where_run = simulate(scenario, runs=40, workers=2, seed=4, horizon_months=24)
    assert plan_on_paper_kept(scenario, 4, 24, relationships_in_use(scenario))  # its own batch
    sent = simulate(scenario, runs=40, workers=2, seed=4, horizon_months=24)
    with ProcessPoolExecutor(max_workers=2) as pool:  # this process runs no batch of its own
        other = _scenario("auto_repair")
        given = simulate(other, runs=40, workers=2, seed=4, horizon_months=24, executor=pool)
        assert plan_on_paper_kept(other, 4, 24, relationships_in_use(other))  # brought back
    np.testing.assert_array_equal(where_run.trajectories, given.trajectories)
    longer = simulate(scenario, runs=40, workers=1, seed=4, horizon_months=24)
    np.testing.assert_array_equal(where_run.trajectories, sent.trajectories)
    np.testing.assert_array_equal(where_run.trajectories, longer.trajectories)


def test_a_short_run_does_not_load_numba() -> None:
    code = (
        "import sys, franchise_sim\n"
        f"s = franchise_sim.load_scenario({str(ROOT / 'scenarios' / 'auto_repair.yaml')!r})\n"
        "franchise_sim.simulate(s, runs=50, workers=1, horizon_months=24)\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_kept_plan_on_paper_is_the_one_drawn_afresh() -> None:
    scenario = _scenario("auto_repair")
    kept = plans_on_paper(scenario, 3, 24)
    kept.clear()  # the caller's copy: what is kept stays whole
    again = plans_on_paper(scenario, 3, 24)
    afresh = plans_on_paper(scenario.model_copy(deep=True), 3, 24)  # another scenario object
    assert again == afresh
    assert set(again) == set(scenario.arm_names)
    assert len(plans_on_paper(scenario, 3, 36)["franchise"].earnings_usd) == 36
    dearer = _scenario(
        "auto_repair", lambda d: d["arms"]["franchise"]["franchise"].update(royalty_rate=0.12)
    )
    assert plans_on_paper(dearer, 3, 24)["franchise"] != again["franchise"]
    assert plans_on_paper(dearer, 3, 24)["independent"] == again["independent"]


@pytest.mark.parametrize("correlation", [None, 0.9, -0.5])
def test_a_batch_draws_every_plan_as_the_scalar_draws_do(correlation: float | None) -> None:
    def edit(data: dict[str, Any]) -> None:
        if correlation is not None:
            data["concept"]["mismatch_taste_gap_correlation"] = correlation

    scenario = _scenario("auto_repair", edit)
    paper = plans_on_paper(scenario, 5, 24)
    replications = range(7, 57)
    draws = BatchDraws(5, np.array(replications, dtype=np.int64))
    for i, r in enumerate(replications):
        batch = plan_replication(
            scenario,
            seed=5,
            replication=r,
            horizon_months=24,
            on_paper=paper,
            draw=BatchDraw(draws, i),
        )
        scalar = plan_replication(
            scenario, seed=5, replication=r, horizon_months=24, on_paper=paper
        )
        assert batch == scalar


def test_a_power_of_one_pair_throughout_is_each_elements_own() -> None:
    cases = [
        (np.full(50, 1.01), np.array(7 / 12)),
        (np.full((3, 4), 0.5), np.full((3, 4), 2.5)),
        (np.array([0.0, -0.0, 0.0]), np.array(3.0)),  # alike in value, not in bits
        (np.array([1.5, 1.5, 2.0]), np.array(0.3)),
        (np.array([2.0]), np.array([0.5])),
        (np.array(0.5), np.array([0.3, 1.7, 0.0, 25.0, -2.0])),  # one base, many exponents
        (np.array([[1.1], [0.9]]), np.array([0.5, 2.0, 3.0])),  # both sides many
    ]
    for base, exponent in cases:
        b, e = np.broadcast_arrays(base, exponent)
        each = np.array([float(x) ** float(y) for x, y in zip(b.ravel(), e.ravel(), strict=True)])
        powers = br.exact_pow(base, exponent)
        assert powers.shape == b.shape
        assert powers.ravel().tobytes() == each.tobytes()
