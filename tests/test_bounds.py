"""Every numeric field of the schema is bounded so that no valid scenario overflows or hangs.

The fuzz pushes each numeric field of a shipped scenario, one at a time and all together, to
the ends of its allowed range and simulates a little: the books stay finite, nothing raises.
"""

from __future__ import annotations

import copy
import math
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types as at
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from franchise_sim.engine.runner import simulate
from franchise_sim.model.randomness import LARGEST_COUNT_MEAN, binomial_count, poisson_count
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.files import parse_scenario
from franchise_sim.scenario.quantities import (
    MAX_HOUSEHOLDS,
    MAX_SEASON_FACTOR,
    MAX_VISITS_PER_CUSTOMER,
    Within,
)
from franchise_sim.scenario.schema import (
    FORMAT_FIELDS,
    ArmSpec,
    SalesRateCap,
    Scenario,
    unusual_values,
)
from tests.conftest import AUTO_REPAIR, SCENARIOS

_TINY = 1e-9
"""Stand-in for "just above" a bound that is exclusive (``gt=0``)."""

_Path = tuple[str, ...]


def _range(info: FieldInfo) -> tuple[float, float] | None:
    """The allowed range of a numeric field, from its constraints; None if not numeric."""
    low, high, numeric = -math.inf, math.inf, False
    for rule in info.metadata:
        if isinstance(rule, at.Ge):
            low, numeric = rule.ge, True  # type: ignore[assignment]
        elif isinstance(rule, at.Gt):
            low, numeric = rule.gt + _TINY, True  # type: ignore[operator]
        elif isinstance(rule, at.Le):
            high = rule.le  # type: ignore[assignment]
        elif isinstance(getattr(rule, "func", None), Within):
            low, high, numeric = rule.func.low, rule.func.high, True
        elif isinstance(getattr(rule, "func", None), SalesRateCap):
            high = rule.func.high
    if info.annotation in (int, float):
        numeric = True
    return (low, high) if numeric else None


def _section(annotation: Any) -> type[BaseModel] | None:
    """The model of a section field (``Operations`` or ``Operations | None``), if it is one."""
    members = (
        typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 and "dist" not in models[0].model_fields else None


def numeric_fields(
    model: type[BaseModel], data: dict[str, Any], path: _Path = ()
) -> Iterator[tuple[_Path, FieldInfo, tuple[float, float]]]:
    """Every numeric field under ``model`` that the data holds or could hold, with its range."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        if model is Scenario and name == "arms":
            for arm, spec in data["arms"].items():
                yield from numeric_fields(ArmSpec, spec, (*path, "arms", arm))
            continue
        sub = _section(info.annotation)
        if sub is not None:
            if key in data:  # an arm's override sections only where the arm has them
                yield from numeric_fields(sub, data[key], (*path, key))
            continue
        if path[:1] == ("arms",) and key not in data and key in FORMAT_FIELDS.get(path[-1], ()):
            continue  # the arm's format sets it in franchise.format; twice would be refused
        bounds = _range(info)
        if bounds is not None and name not in ("runs", "horizon_months"):
            yield (*path, key), info, bounds


def _set(data: dict[str, Any], path: _Path, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def extremes(path: _Path, info: FieldInfo, low: float, high: float) -> list[Any]:
    """Values at the ends of a range: each end, and for an uncertain field a spread over it.

    A lognormal of mean ``high / 1000`` and as large an sd draws up to about 0.6 ``high``.
    """
    if path[-1] == "households":
        low = 1.0  # a market needs a household
    values: list[Any] = [low, high]
    if info.annotation is not int and info.annotation is not float:  # may be a distribution
        values.append({"dist": "uniform", "low": low, "high": high})
        if low <= 0.0:
            values.append({"dist": "lognormal", "mean": high / 1e3, "sd": high / 1e3})
    return values


BASE = yaml.safe_load(AUTO_REPAIR.read_text(encoding="utf-8"))


def pushed_scenarios(base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of ``base`` with one numeric field at an end of its range, then all at once."""
    fields = list(numeric_fields(Scenario, base))
    for path, info, (low, high) in fields:
        for value in extremes(path, info, low, high):
            yield f"{'.'.join(path)}={value}", _set(base, path, value)
    for end in (0, 1):
        data = base
        for path, info, (low, high) in fields:
            # growth must stay below the discount rate, which is pushed too: always its low end
            at = 0 if path[-1] == "growth_rate_per_year" else end
            data = _set(data, path, extremes(path, info, low, high)[at])
        yield f"every field at its {('low', 'high')[end]} end", data
    peak = [MAX_SEASON_FACTOR] + [_TINY] * 11  # all demand in one month: factor 12
    yield "seasonality in one month", _set(base, ("market", "seasonality"), peak)


def _valid(data: dict[str, Any]) -> Scenario | None:
    try:
        return parse_scenario(yaml.safe_dump(data), "fuzz.yaml")
    except ScenarioError:
        return None  # bounds of different fields can clash (equity vs. nothing); skip


_ALWAYS_SET = ("final_cash", "cumulative_owner_cash_flow", "owner_money_in", "npv")
"""Summary columns that hold a number in every run (the others are empty when not reached)."""


def _assert_finite_books(scenario: Scenario) -> None:
    results = simulate(scenario, runs=2, horizon_months=12, workers=1)
    monthly = results.monthly.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(monthly).all()
    summary = results.summary[list(_ALWAYS_SET)].to_numpy(dtype=float)
    assert np.isfinite(summary).all()


CASES = list(pushed_scenarios(BASE))


def test_the_fuzz_reaches_every_section() -> None:
    touched = {name.split(".")[0] for name, _ in CASES}
    assert {"market", "customers", "operations", "investment", "financing", "owner"} <= touched
    assert {"events", "arms", "run", "concept"} <= touched
    assert len(CASES) > 200


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES))
def test_no_valid_scenario_at_its_bounds_overflows_or_raises(
    case: tuple[str, dict[str, Any]],
) -> None:
    _, data = case
    scenario = _valid(data)
    if scenario is not None:
        _assert_finite_books(scenario)


@pytest.mark.parametrize("end", ["low", "high"])
def test_every_field_at_one_end_at_once_is_valid_and_finite(end: str) -> None:
    (data,) = [d for name, d in CASES if name == f"every field at its {end} end"]
    scenario = _valid(data)
    assert scenario is not None
    _assert_finite_books(scenario)


def test_the_largest_count_mean_a_valid_file_allows_is_drawable() -> None:
    """Households x visits x peak season factor stays under the count functions' limit."""
    assert MAX_HOUSEHOLDS * MAX_VISITS_PER_CUSTOMER * 12 < LARGEST_COUNT_MEAN


@pytest.mark.parametrize(
    "draw",
    [lambda: poisson_count(0.5, 3e15), lambda: binomial_count(0.5, 6 * 10**15, 0.5)],
    ids=["poisson", "binomial"],
)
def test_a_count_beyond_its_limit_raises_instead_of_searching_forever(draw: Any) -> None:
    with pytest.raises(ValueError, match="beyond what the simulation can draw"):
        draw()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("market", "households"), 1e308, "market.households: 1e+308 lies outside"),
        (("market", "households"), 0, "0 households leaves no market"),
        (("operations", "rent_usd_per_month"), 1e308, "rent_usd_per_month: 1e+308 lies outside"),
        (("investment", "buildout_usd"), 1e308, "investment.buildout_usd: 1e+308 lies outside"),
        (("customers", "spend_per_visit_usd"), 1e308, "spend_per_visit_usd: 1e+308 lies"),
        (
            ("market", "households"),
            {"dist": "lognormal", "mean": 25000, "sd": 1e300},
            "a lognormal's sd may be at most 1,000 times its mean",
        ),
        (
            ("market", "households"),
            {"dist": "uniform", "low": 0, "high": 1e308},
            "support [0, 1e+308] lies outside the allowed range [0, 1e+08]",
        ),
        (
            ("customers", "spend_per_visit_usd"),
            {"dist": "normal", "mean": 50, "sd": 1e307, "low": 0},
            "spend_per_visit_usd: draws [50, 8.29236e+307] lies outside",
        ),
        (("market", "seasonality"), [1e308] + [1.0] * 11, "market.seasonality.0: 1e+308 should be"),
        (("arms", "franchise", "franchise", "term_years"), 1e308, "term_years: 1e+308 should be"),
        (
            ("arms", "franchise", "franchise", "royalty_rate"),
            0.7,
            "0.7 is no royalty a franchisor charges: published ones run 1-15% of sales",
        ),
        (("arms", "franchise", "franchise", "ad_fund_rate"), 0.5, "ad-fund rate"),
    ],
)
def test_values_that_cannot_be_meant_or_carried_are_refused(
    path: _Path, value: Any, message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(yaml.safe_dump(_set(BASE, path, value)), "x.yaml")
    text = str(caught.value)
    assert message in text
    assert text.count("\n") == 0  # one message, the one problem


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_raise_no_warning(path: Path) -> None:
    assert unusual_values(parse_scenario(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    ("path", "value", "warning"),
    [
        (("arms", "franchise", "franchise", "royalty_rate"), 0.14, "above the published range"),
        (("arms", "franchise", "franchise", "ad_fund_rate"), 0.06, "above the usual 1-4%"),
        (("arms", "franchise", "franchise", "initial_fee_usd"), 250_000, "initial fees"),
        (("arms", "franchise", "franchise", "term_years"), 40, "initial terms, 3-20 years"),
        (("financing", "loan_rate_per_year"), 0.3, "above the SBA 7(a) cap of 15.0%"),
        (("financing", "owner_equity_usd"), 1000, "SBA 7(a) lenders ask at least 10%"),
        (("financing", "owner_equity_usd"), 300_000, "is kept as cash in the business"),
    ],
)
def test_unusual_values_are_warned_about(path: _Path, value: Any, warning: str) -> None:
    scenario = parse_scenario(yaml.safe_dump(_set(BASE, path, value)), "x.yaml")
    assert any(warning in note for note in unusual_values(scenario))


def test_equity_beyond_the_investment_is_opening_cash_not_lost() -> None:
    """300k of equity against a 235k independent shop: 65k more cash on opening day."""
    rich = parse_scenario(
        yaml.safe_dump(_set(BASE, ("financing", "owner_equity_usd"), 300_000)), "x.yaml"
    )
    arm = rich.arm("independent")
    investment = arm.total_investment_usd()
    assert arm.equity_usd() == 300_000
    assert arm.loan_usd() == 0.0
    assert arm.surplus_equity_usd() == pytest.approx(300_000 - investment)
    working = arm.investment.working_capital_usd
    assert isinstance(working, float)
    assert arm.opening_cash_usd() == working + 300_000 - investment
    plain = parse_scenario(
        yaml.safe_dump(_set(BASE, ("financing", "owner_equity_usd"), investment)), "x.yaml"
    )
    kept = []  # cash in the business plus what the owner took out, after one month
    for scenario in (rich, plain):
        results = simulate(scenario, runs=1, horizon_months=1, deterministic=True)
        month = {k: results.series(k)[0, 0, 0] for k in ("cash", "owner_draw", "owner_injection")}
        kept.append(month["cash"] + month["owner_draw"] - month["owner_injection"])
    assert kept[0] - kept[1] == pytest.approx(300_000 - investment)
