"""Per-business outcomes computed from the monthly books: closure, break-even, payback, NPV.

Pure, vectorised functions over arrays shaped (arm, replication, month). Months are numbered
from 1; a month that is never reached is NaN.

* ``closed_month``: the month at whose end the business closed.
* ``first_profitable_month``: the first month with an operating profit above zero (sales less
  running costs and franchise fees, before debt service and the owner's draw). NaN if none.
* ``break_even_month``: the first month from which operating profit stays non-negative through
  the last month the business operated: the month it became profitable *for good*. A single
  later loss month (a recession, a breakdown) moves it past that loss. NaN if its last
  operating month made a loss.
* ``payback_month``: the first month at which the owner's cumulative cash flow (draws less the
  equity and any savings put in) reaches zero, i.e. the owner has got back what they put in.
  Draws can return that money while loss months still lie ahead: a later loss month moves the
  break-even month past it but does not undo payback, so break-even can come after payback.
* ``npv``: present value of the owner's cash flows: equity (and a guarantee fee paid at
  signing) out at opening, draws in and injections out each month, and the terminal value
  (going-concern value at the horizon, or the liquidation result at closure) at the end, less
  the present value of the owner's outside wage over the months the business was open (their
  opportunity cost; none unless ``owner.outside_wage_usd_per_month`` is stated). Where closures
  are settled in the books (``operations.closure`` or ``owner.sale``), a closed business's
  sale, liquidation, lease, wind-down and guarantee call are already in its last month's
  draws and injections, so its terminal value is what is left: nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from franchise_sim.model.batch_plan import owner_money
from franchise_sim.model.money import (
    implied_capitalisation_rate,
    monthly_discount_factor,
    outside_wage_present_value_usd,
    terminal_value_usd,
)
from franchise_sim.scenario.schema import Arm, RunSettings, Scenario

Array = NDArray[np.float64]


def closed_month(alive: Array) -> Array:
    """Month of closure per (arm, replication); NaN where the business survived."""
    closed = alive < 0.5
    first = np.argmax(closed, axis=-1).astype(float) + 1.0
    return np.where(closed.any(axis=-1), first, np.nan)


def last_operating_month(alive: Array) -> Array:
    """The closure month, or the horizon for survivors."""
    horizon = alive.shape[-1]
    closed = closed_month(alive)
    return np.where(np.isnan(closed), float(horizon), closed)


def first_profitable_month(operating_profit: Array, alive: Array) -> Array:
    """First month with operating profit above zero, up to the last operating month."""
    months = np.arange(1, alive.shape[-1] + 1, dtype=float)
    profit = (operating_profit > 0) & (months <= last_operating_month(alive)[..., None])
    first = np.argmax(profit, axis=-1).astype(float) + 1.0
    return np.where(profit.any(axis=-1), first, np.nan)


def break_even_month(operating_profit: Array, alive: Array) -> Array:
    """First month from which operating profit stays >= 0 to the last operating month."""
    horizon = alive.shape[-1]
    months = np.arange(1, horizon + 1, dtype=float)
    last = last_operating_month(alive)[..., None]
    loss = (operating_profit < 0) & (months <= last)
    any_loss = loss.any(axis=-1)
    last_loss = horizon - np.argmax(loss[..., ::-1], axis=-1)  # 1-based month of the last loss
    month = np.where(any_loss, last_loss + 1.0, 1.0)
    return np.where(month > last[..., 0], np.nan, month)


def owner_cash_flow(draw: Array, injection: Array, equity_usd: Array) -> Array:
    """Owner's cumulative cash flow after each month: draws less equity and injections."""
    return np.cumsum(draw - injection, axis=-1) - equity_usd[..., None]


def payback_month(cumulative_owner_cash_flow: Array) -> Array:
    """First month at which the owner's cumulative cash flow reaches zero."""
    reached = cumulative_owner_cash_flow >= 0
    first = np.argmax(reached, axis=-1).astype(float) + 1.0
    return np.where(reached.any(axis=-1), first, np.nan)


def owner_npv(
    draw: Array,
    injection: Array,
    equity_usd: Array,
    terminal_value_usd: Array,
    end_month: Array,
    discount_rate_per_year: float,
) -> Array:
    """NPV of the owner's cash flows: equity at month 0, draws less injections, terminal value."""
    horizon = draw.shape[-1]
    factor = monthly_discount_factor(discount_rate_per_year)
    discount = factor ** np.arange(1, horizon + 1, dtype=float)
    monthly = ((draw - injection) * discount).sum(axis=-1)
    return np.asarray(-equity_usd + monthly + terminal_value_usd * factor**end_month, dtype=float)


def trailing_year_profit(operating_profit: Array, end_month: Array) -> Array:
    """Operating profit summed over the twelve months up to and including ``end_month``."""
    horizon = operating_profit.shape[-1]
    months = np.arange(1, horizon + 1, dtype=float)
    end = end_month[..., None]
    window = (months <= end) & (months > end - 12)
    return np.asarray((operating_profit * window).sum(axis=-1), dtype=float)


def going_concern_basis(
    arm: Arm, run: RunSettings, trailing_year_profit_usd: Array, outside_wage_usd: Array
) -> tuple[float, Array]:
    """The multiple and the yearly earnings a business open at the horizon is valued on.

    Today's rule (``run.terminal_value`` absent): ``owner.valuation_multiple_of_profit`` times
    the trailing year's operating profit. ``multiple``: the stated multiple of the same. A
    multiple ``M`` implies a capitalisation rate of ``1 / M``. ``capitalised``: the trailing
    year's profit less twelve months of the owner's outside wage, times ``(1 + g) / (r - g)``
    with ``r`` the NPV's discount rate: the Gordon value of those earnings.
    """
    tv = run.terminal_value
    if tv is None:
        return arm.owner.valuation_multiple_of_profit, trailing_year_profit_usd
    if tv.method == "multiple":
        return tv.multiple_of_earnings, trailing_year_profit_usd
    g, r = tv.growth_rate_per_year, run.discount_rate_per_year
    return (1.0 + g) / (r - g), trailing_year_profit_usd - 12.0 * outside_wage_usd


def terminal_value_rule(scenario: Scenario, arm: str) -> str:
    """How a business of ``arm`` still open at the horizon is valued, in words.

    States the multiple of a year's operating profit and the capitalisation rate it implies
    beside the NPV's discount rate, so that a 2x multiple shows as the 50% a year it means.
    """
    run, owner = scenario.run, scenario.arm(arm).owner
    r = run.discount_rate_per_year
    tv = run.terminal_value
    if tv is not None and tv.method == "capitalised":
        g = tv.growth_rate_per_year
        multiple = (1.0 + g) / (r - g)
        return (
            f"a year's operating profit less the owner's outside wage, capitalised at the "
            f"{r:.0%} discount rate less {g:.1%} growth: {multiple:.1f}x "
            f"(implied capitalisation rate {implied_capitalisation_rate(multiple):.1%})"
        )
    multiple = owner.valuation_multiple_of_profit if tv is None else tv.multiple_of_earnings
    return (
        f"{multiple:g}x a year's operating profit (implied capitalisation rate "
        f"{implied_capitalisation_rate(multiple):.0%} a year, against a {r:.0%} discount rate)"
    )


def outcome_table(
    scenario: Scenario,
    arms: tuple[str, ...],
    columns: tuple[str, ...],
    monthly: Array,
    counters: Mapping[str, Array],
    *,
    seed: int,
    deterministic: bool,
    replications: range | None = None,
) -> dict[str, Array]:
    """Every per-(arm, replication) outcome, from the monthly books and the relationships' counters.

    Args:
        scenario: The scenario simulated (equity, valuation and liquidation inputs per arm).
        arms: Arm names, in the order of the first axis of ``monthly``.
        columns: Names of the last axis of ``monthly``.
        monthly: Array (arm, replication, month, column) of the monthly books.
        counters: Each relationship counter by name, an array (arm, replication), in order
            (a franchisor's failure month, brand shocks, ...): passed through.
        seed: Master seed of the run (uncertain money inputs are drawn again from it).
        deterministic: Whether it was the plan on paper (inputs at their means).
        replications: The replications ``monthly`` holds (one batch's); ``range(runs)`` if
            not given. Nothing else depends on the replication or on the rest of the run.

    Returns:
        Arrays (arm, replication): ``results.CORE_OUTCOMES``, then ``counters``.
    """

    def col(name: str) -> Array:
        return monthly[..., columns.index(name)]

    alive = col("alive")
    if replications is None:
        replications = range(monthly.shape[1])
    end = last_operating_month(alive)
    end_index = (end - 1).astype(int)[..., None]
    money = owner_money(scenario, arms, seed, replications, deterministic=deterministic)
    equity = money["upfront_usd"]
    wage = money["outside_wage_usd_per_month"]
    liquidation = np.where(money["settles_in_ledger"], 0.0, money["liquidation_value_usd"])
    draw, injection = col("owner_draw"), col("owner_injection")
    cumulative = owner_cash_flow(draw, injection, equity)
    cash = np.take_along_axis(col("cash"), end_index, axis=-1)[..., 0]
    debt = np.take_along_axis(col("loan_balance"), end_index, axis=-1)[..., 0]
    trailing = trailing_year_profit(col("operating_profit"), end)
    survived = alive[..., -1] > 0.5
    terminal = np.empty_like(cash)
    for i, name in enumerate(arms):
        arm = scenario.arm(name)
        multiple, earnings = going_concern_basis(arm, scenario.run, trailing[i], wage[i])
        terminal[i] = terminal_value_usd(
            cash[i],
            debt[i],
            earnings,
            multiple,
            alive=survived[i],
            liquidation_value_usd=liquidation[i],
            personal_guarantee=arm.financing.personal_guarantee,
        )
    value = owner_npv(draw, injection, equity, terminal, end, scenario.run.discount_rate_per_year)
    if np.any(wage != 0.0):
        value = value - outside_wage_present_value_usd(
            wage, end, scenario.run.discount_rate_per_year
        )
    return {
        "survived": survived.astype(float),
        "closed_month": closed_month(alive),
        "first_profitable_month": first_profitable_month(col("operating_profit"), alive),
        "break_even_month": break_even_month(col("operating_profit"), alive),
        "payback_month": payback_month(cumulative),
        "final_customers": col("customers")[..., -1],
        "final_cash": col("cash")[..., -1],
        "cumulative_owner_cash_flow": cumulative[..., -1],
        "owner_money_in": equity + injection.sum(axis=-1),
        "terminal_value": terminal,
        "npv": value,
        **counters,
    }
