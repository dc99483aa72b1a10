"""Parts of `business.Business`'s month compiled with numba: the same numbers, fewer calls.

A business's month on a batch's open replications takes numpy calls by the dozen, each paying
numpy's fixed cost of a call on arrays of a few hundred elements. Where this process has the
compiled count kernels (`compiled_counts`, the ``fast`` extra), two parts run as loops over the
replications instead:

* `win_and_lose`, `Business._win_and_lose_customers` of a noisy month: the Bass adoption, the
  departures, the lapsed customers won back and the visits in three loops, with the count
  quantiles between them (the departures and winbacks drawn, then the new customers and visits,
  as `Business` draws them). The same formulas in the same floating-point order, numpy's
  ``maximum`` and ``minimum`` as numpy takes them (the second number where the two are equal,
  so a signed zero comes out as numpy's), and ``math.exp`` and powers through the C library as
  `compiled_counts.exps` and `compiled_counts.powers_to` take them
  (`compiled_counts.MATHS_AGREE`). The numpy code stays the reference and the fallback: where
  any number is not finite, an exponential or a power leaves the ranges those kernels take, or
  a count's mean is out of bounds, `win_and_lose` returns None before changing anything, and
  `Business` takes the month the numpy way, which then gives the same numbers or the same error.
* `close_books_month`, `owner.Owner.close_books` but for the closures: a shortfall covered from
  the reserve, the draw and the patience rule or the review, in `Owner`'s order; the owners it
  finds insolvent or stopping are wound up by `Owner` as before.
* `customer_satisfaction` and `serve_visits`, `Business._customer_satisfaction` (the owner's
  focus is applied after, by numpy; an exponential out of range leaves it to numpy) and
  `Business._serve_visits`,
  each in one loop, the relationships' factors and sales taken as rows in `Business`'s order.
* `record_month`, `Business.report`: the month's cash settled and its books written a row per
  replication (a row is contiguous in the books, a column is not), the cost lines added in
  order as `business.sum_rows` adds them. Plain additions and copies: nothing to fall back on.

Importing this module imports numba; `streams.CountQuantiles` does so only with the compiled
counts.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from franchise_sim.model import compiled_counts as kernels
from franchise_sim.model.books import (
    OWNER_GIVES_UP,
    OWNER_INSOLVENT,
    OWNER_MUST_STOP,
    U_LOSS_CASUAL,
    U_LOSS_LOYAL,
    U_NEW,
    U_SPLIT,
    U_VISITS,
)
from franchise_sim.model.customers import CustomerArrays
from franchise_sim.model.randomness import LARGEST_COUNT_MEAN

_EXP_WITHIN = 708.0
"""Arguments of ``exp`` the compiled loop takes (`compiled_counts.exps`' range)."""
_BASS_STEP_UP_TO = 700.0
"""``p + q`` above which `business.bass_step_share` takes everyone as aware."""


@numba.njit(cache=True)
def _larger(a: float, b: float) -> float:  # pragma: no cover - compiled
    """``numpy.maximum`` of two numbers: NaN if either is, ``b`` where they are equal."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@numba.njit(cache=True)
def _smaller(a: float, b: float) -> float:  # pragma: no cover - compiled
    """``numpy.minimum`` of two numbers: NaN if either is, ``b`` where they are equal."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@numba.njit(cache=True)
def _bass_step(share: float, p: float, q: float) -> tuple[float, bool]:  # pragma: no cover
    """`business.bass_step_share` of one replication, and whether its ``exp`` was in range."""
    if share >= 1.0:
        return 1.0, True
    if p <= 0.0 and share <= 0.0:  # nobody aware, nobody to tell
        return 0.0, True
    if p + q > _BASS_STEP_UP_TO:
        return 1.0, True
    x = p + q
    if not abs(x) <= _EXP_WITHIN:
        return 0.0, False
    ratio = (p + q * share) / (1.0 - share) * math.exp(x)
    return (ratio - p) / (q + ratio), True


@numba.njit(cache=True)
def _departures(
    o: NDArray[np.intp],
    u: NDArray[np.float64],
    winback_u: NDArray[np.float64],
    satisfaction: NDArray[np.float64],
    boosts: NDArray[np.float64],
    loyal: NDArray[np.float64],
    casual: NDArray[np.float64],
    lapsed: NDArray[np.float64],
    potential: NDArray[np.float64],
    decay: NDArray[np.float64],
    advertising_p: NDArray[np.float64],
    marketing_p: NDArray[np.float64],
    last_marketing_usd: NDArray[np.float64],
    innovation: NDArray[np.float64],
    imitation: NDArray[np.float64],
    sensitivity: NDArray[np.float64],
    loyal_hazard: NDArray[np.float64],
    casual_hazard: NDArray[np.float64],
    winback: float,
    with_winback: bool,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    bool,
]:  # pragma: no cover - compiled
    """Awareness, adopters' mean and most, and the departures' (and winbacks') binomial terms.

    Returns the advertising awareness, the new customers' mean and most, the lapsed customers
    who may come back, and the binomial counts' uniforms, trials and shares (loyal, casual,
    then the lapsed), and whether every number was one the numpy code takes the same way.
    """
    n = o.size
    parts = 3 if with_winback else 2
    advertising = np.empty(n)
    mean_new = np.empty(n)
    most_new = np.empty(n)
    away = np.zeros(n)
    us = np.empty(parts * n)
    trials = np.empty(parts * n)
    shares = np.empty(parts * n)
    for i in range(n):
        r = o[i]
        s = satisfaction[i]
        start = loyal[r] + casual[r]
        market = potential[r]
        if not (
            math.isfinite(s)
            and math.isfinite(start)
            and math.isfinite(market)
            and math.isfinite(lapsed[r])
        ):
            return advertising, mean_new, most_new, away, us, trials, shares, False
        d = decay[r]
        aware = d * advertising_p[r] + (1.0 - d) * marketing_p[r] * (last_marketing_usd[r] / 1000.0)
        advertising[i] = aware
        p = innovation[r] + aware + boosts[i]
        q = imitation[r] * _larger(0.0, s)
        room = not (market <= 0.0 or start >= market)
        share = 0.0
        stepped = 0.0
        if room:
            share = start / market
            stepped, in_range = _bass_step(share, p, q)
            if not in_range:
                return advertising, mean_new, most_new, away, us, trials, shares, False
        if with_winback:
            outside = _larger(0.0, market - start)
            back_in = np.floor(_smaller(lapsed[r], outside))
            never = outside - back_in
            adoption = (stepped - share) / (1.0 - share) if room else 0.0
            if adoption >= 1.0:
                back_share = 1.0 if winback > 0.0 else 0.0
            else:
                base = 1.0 - adoption
                power = base**winback
                if not (base >= 0.0 and math.isfinite(power)):
                    return advertising, mean_new, most_new, away, us, trials, shares, False
                back_share = 1.0 - power
            most_new[i] = np.floor(never)
            mean_new[i] = never * adoption
            away[i] = back_in
            us[2 * n + i] = winback_u[i]
            trials[2 * n + i] = back_in
            shares[2 * n + i] = back_share
        else:
            mean_new[i] = market * (stepped - share) if room else 0.0
            most_new[i] = _larger(0.0, market - start)
        if not (math.isfinite(mean_new[i]) and math.isfinite(most_new[i])):
            return advertising, mean_new, most_new, away, us, trials, shares, False
        stress = 1.0 + sensitivity[r] * (1.0 - _smaller(1.0, _larger(0.0, s)))
        x_loyal = -loyal_hazard[r] * stress
        x_casual = -casual_hazard[r] * stress
        if not (abs(x_loyal) <= _EXP_WITHIN and abs(x_casual) <= _EXP_WITHIN):
            return advertising, mean_new, most_new, away, us, trials, shares, False
        us[i] = u[i, U_LOSS_LOYAL]
        us[n + i] = u[i, U_LOSS_CASUAL]
        trials[i] = np.trunc(loyal[r])
        trials[n + i] = np.trunc(casual[r])
        shares[i] = 1.0 - math.exp(x_loyal)
        shares[n + i] = 1.0 - math.exp(x_casual)
    for j in range(parts * n):  # the bounds `CountQuantiles.binomial` checks
        live = trials[j] > 0 and not shares[j] <= 0.0 and us[j] > 0.0
        if live and not trials[j] * shares[j] <= LARGEST_COUNT_MEAN:
            return advertising, mean_new, most_new, away, us, trials, shares, False
        if not math.isfinite(shares[j]):
            return advertising, mean_new, most_new, away, us, trials, shares, False
    return advertising, mean_new, most_new, away, us, trials, shares, True


@numba.njit(cache=True)
def _visits_due(
    o: NDArray[np.intp],
    u: NDArray[np.float64],
    drawn: NDArray[np.float64],
    mean_new: NDArray[np.float64],
    loyal: NDArray[np.float64],
    casual: NDArray[np.float64],
    visit_rate: NDArray[np.float64],
    season_factor: float,
    economy_factor: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], bool]:
    # pragma: no cover - compiled
    """The customers retained, and the Poisson counts' uniforms and means (new, then visits)."""
    n = o.size
    retained = np.empty(n)
    us = np.empty(2 * n)
    means = np.empty(2 * n)
    for i in range(n):
        r = o[i]
        kept = (loyal[r] - drawn[i]) + (casual[r] - drawn[n + i])
        retained[i] = kept
        us[i] = u[i, U_NEW]
        us[n + i] = u[i, U_VISITS]
        means[i] = mean_new[i]
        means[n + i] = kept * visit_rate[r] * season_factor * economy_factor[r]
    for j in range(2 * n):  # the bound `CountQuantiles.poisson` checks
        if not means[j] <= LARGEST_COUNT_MEAN:
            return retained, us, means, False
    return retained, us, means, True


@numba.njit(cache=True)
def _arrivals(
    o: NDArray[np.intp],
    u: NDArray[np.float64],
    lost: NDArray[np.float64],
    drawn: NDArray[np.float64],
    most_new: NDArray[np.float64],
    away: NDArray[np.float64],
    retained: NDArray[np.float64],
    advertising: NDArray[np.float64],
    loyal_share: NDArray[np.float64],
    loyal: NDArray[np.float64],
    casual: NDArray[np.float64],
    lapsed: NDArray[np.float64],
    kept_retained: NDArray[np.float64],
    advertising_p: NDArray[np.float64],
    with_winback: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], bool]:
    # pragma: no cover - compiled
    """New customers split loyal and casual; the month's state written if every number is sound.

    Returns the new customers, those lost and the returning visits, and whether it wrote.
    """
    n = o.size
    new = np.empty(n)
    new_loyal = np.empty(n)
    gone = np.empty(n)
    for i in range(n):
        r = o[i]
        arrived = _smaller(drawn[i], most_new[i])
        if with_winback:
            arrived = arrived + lost[2 * n + i]
        split = arrived * loyal_share[r] + u[i, U_SPLIT]
        if not math.isfinite(split):
            return new, gone, drawn[n:], False
        new[i] = arrived
        new_loyal[i] = np.floor(split)
        gone[i] = lost[i] + lost[n + i]
    for i in range(n):
        r = o[i]
        loyal[r] = (loyal[r] - lost[i]) + new_loyal[i]
        casual[r] = (casual[r] - lost[n + i]) + (new[i] - new_loyal[i])
        if with_winback:
            lapsed[r] = (away[i] - lost[2 * n + i]) + gone[i]
        kept_retained[r] = retained[i]
        advertising_p[r] = advertising[i]
    return new, gone, drawn[n:], True


def win_and_lose(
    o: NDArray[np.intp],
    u: NDArray[np.float64],
    winback_u: NDArray[np.float64] | None,
    satisfaction: NDArray[np.float64],
    boosts: NDArray[np.float64],
    customers: CustomerArrays,
    market: Any,
    winback: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """`Business._win_and_lose_customers` of a noisy month, compiled; None to leave it to numpy.

    Args:
        o: The open replications.
        u: Their month's uniforms (row per replication, `books`' ``U_`` columns).
        winback_u: Their month's winback uniforms, with a winback share.
        satisfaction: Their customers' satisfaction.
        boosts: Their relationships' boosts to awareness, added up.
        customers: The business's customers and the plans' rates (changed in place).
        market: The market (`market.Market`: its potential customers, season and economy).
        winback: The lapsed customers' winback share, if any.

    Returns:
        The new customers, the customers lost and the visits of those retained, as `Business`
        takes them; None where some number must be left to the numpy code (nothing changed).
    """
    c = customers
    with_winback = winback is not None
    advertising, mean_new, most_new, away, us, trials, shares, sound = _departures(
        o,
        u,
        winback_u if winback_u is not None else u[:, 0],
        satisfaction,
        boosts,
        c.loyal,
        c.casual,
        c.lapsed,
        market.potential_customers,
        c.decay,
        c.advertising_p,
        c.marketing_p,
        c.last_marketing_usd,
        c.innovation,
        c.imitation,
        c.sensitivity,
        c.loyal_hazard,
        c.casual_hazard,
        0.0 if winback is None else float(winback),
        with_winback,
    )
    if not sound:
        return None
    lost = kernels.binomial_counts(us, trials, shares)
    retained, us, means, sound = _visits_due(
        o,
        u,
        lost,
        mean_new,
        c.loyal,
        c.casual,
        c.visit_rate,
        float(market.season_factor),
        market.economy_factor,
    )
    if not sound:
        return None
    drawn = kernels.poisson_counts(us, means)
    new, gone, returning, sound = _arrivals(
        o,
        u,
        lost,
        drawn,
        most_new,
        away,
        retained,
        advertising,
        c.loyal_share,
        c.loyal,
        c.casual,
        c.lapsed,
        c.retained,
        c.advertising_p,
        with_winback,
    )
    return (new, gone, returning) if sound else None


@numba.njit(cache=True)
def _operating_costs(costs: NDArray[np.float64], r: int) -> float:  # pragma: no cover - compiled
    """Replication ``r``'s cost lines added in order (`business.sum_rows`' numbers)."""
    operating: float = costs[0, r]
    for j in range(1, costs.shape[0]):
        operating = operating + costs[j, r]
    return operating


@numba.njit(cache=True)
def record_month(
    o: NDArray[np.intp],
    month: int,
    flows: NDArray[np.float64],
    costs: NDArray[np.float64],
    counts: NDArray[np.float64],
    recorded: NDArray[np.float64],
    records: NDArray[np.float64],
    month_start_cash: NDArray[np.float64],
    cash: NDArray[np.float64],
    loan_balance: NDArray[np.float64],
    satisfaction: NDArray[np.float64],
    is_open: NDArray[np.bool_],
    months_reported: NDArray[np.int64],
) -> None:  # pragma: no cover - compiled
    """`Business.report`: the month's cash settled and its books written, one row at a time.

    ``flows``, ``costs``, ``counts`` and ``recorded`` hold a row per flow, cost line, count and
    recorded column (`business.REVENUE` and on), ``records`` the books (replication, month,
    column in `books`' order). The cost lines are added in order, as `business.sum_rows` adds
    them; a replication not in ``o`` (closed before this month) gets a row of zeros. The month's
    running totals are cleared after.
    """
    n = records.shape[0]
    lines = costs.shape[0]
    head = counts.shape[0] + 1
    tail = head + lines
    trading = np.zeros(n, dtype=np.bool_)
    for i in range(o.size):
        trading[o[i]] = True
    m = month - 1
    for r in range(n):
        row = records[r, m]
        if not trading[r]:
            row[:] = 0.0
            continue
        operating = _operating_costs(costs, r)
        revenue = flows[0, r]
        profit = revenue - operating
        before_owner = profit - flows[1, r] - flows[2, r]
        cash_flow = before_owner + flows[3, r] - flows[4, r] + flows[5, r] - flows[6, r]
        settled = month_start_cash[r] + cash_flow
        for j in range(head - 1):
            row[j] = counts[j, r]
        row[head - 1] = revenue
        for j in range(lines):
            row[head + j] = costs[j, r]
        row[tail] = operating
        row[tail + 1] = profit
        for j in range(6):  # interest to closure costs, in order
            row[tail + 2 + j] = flows[1 + j, r]
        row[tail + 8] = cash_flow
        row[tail + 9] = settled
        row[tail + 10] = loan_balance[r]
        row[tail + 11] = satisfaction[r]
        row[tail + 12] = 1.0 if is_open[r] else 0.0
        for j in range(recorded.shape[0]):
            row[tail + 13 + j] = recorded[j, r]
        cash[r] = settled
        months_reported[r] = month
        month_start_cash[r] = settled
    flows[:] = 0.0
    costs[:] = 0.0
    recorded[:] = 0.0


@numba.njit(cache=True)
def close_books_month(
    o: NDArray[np.intp],
    month: int,
    flows: NDArray[np.float64],
    costs: NDArray[np.float64],
    month_start_cash: NDArray[np.float64],
    reserve_left_usd: NDArray[np.float64],
    draw_target: NDArray[np.float64],
    cash_floor: NDArray[np.float64],
    cash_ceiling: NDArray[np.float64],
    must_stop: NDArray[np.bool_],
    reviewing: bool,
    living_share: NDArray[np.float64],
    lean_months: NDArray[np.float64],
    patience: NDArray[np.float64],
    expected: NDArray[np.float64],
    slack: NDArray[np.float64],
    shortfall_usd: NDArray[np.float64],
    give_up: NDArray[np.float64],
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:  # pragma: no cover - compiled
    """`owner.Owner.close_books`' month but for the closures: what each owner finds, and the cash.

    Covers a shortfall from the reserve, takes the draw and applies the patience rule or the
    review (``patience`` and ``give_up`` already steadied), in `Owner`'s order and arithmetic,
    changing ``flows`` (rows per flow), the reserve and the review's state in place. Returns,
    per replication of ``o``, `books.OWNER_GOES_ON`, ``OWNER_INSOLVENT`` (cash below zero after
    the reserve), ``OWNER_GIVES_UP`` or ``OWNER_MUST_STOP``, and the cash it closes with (after
    the draw, for the last two), for the caller to wind those up in that order.
    """
    fate = np.zeros(o.size, dtype=np.int8)
    closing = np.zeros(o.size)
    for i in range(o.size):
        r = o[i]
        operating = _operating_costs(costs, r)
        earned = flows[0, r] - operating - flows[1, r] - flows[2, r]
        cash = month_start_cash[r] + earned
        injection = _smaller(reserve_left_usd[r], _larger(0.0, -cash))
        if injection > 0:
            reserve_left_usd[r] -= injection
            flows[3, r] += injection
            cash += injection
        if cash < 0:
            fate[i] = OWNER_INSOLVENT
            closing[i] = cash
            continue
        target = draw_target[r] if earned >= 0 else 0.0
        draw = _smaller(target, _larger(0.0, cash - cash_floor[r]))
        draw = draw + _larger(0.0, cash - draw - _larger(cash_ceiling[r], cash_floor[r]))
        flows[4, r] += draw
        if reviewing:
            short = _larger(0.0, shortfall_usd[r] + (expected[r, month - 1] - slack[r]) - earned)
            shortfall_usd[r] = short
            gave_up = short > give_up[r]
        else:
            lean = earned < living_share[r] * draw_target[r]
            lean_months[r] = lean_months[r] + 1 if lean else 0.0
            gave_up = lean_months[r] >= patience[r]
        if gave_up or must_stop[r]:
            fate[i] = OWNER_GIVES_UP if gave_up else OWNER_MUST_STOP
            closing[i] = cash - draw
    return fate, closing


@numba.njit(cache=True)
def customer_satisfaction(
    o: NDArray[np.intp],
    elapsed: int,
    learned_quality: NDArray[np.float64],
    on_visits: bool,
    learning_visits: float,
    quality_potential: NDArray[np.float64],
    starting_quality_share: NDArray[np.float64],
    visits_served_to_date: NDArray[np.float64],
    taste_fit: NDArray[np.float64],
    vacancies: NDArray[np.int64],
    vacancy_quality_drop: NDArray[np.float64],
    overload_penalty: NDArray[np.float64],
    overload_share: NDArray[np.float64],
    factors: NDArray[np.float64],
) -> tuple[NDArray[np.float64], bool]:  # pragma: no cover - compiled
    """`Business._customer_satisfaction` but for the owner's focus; whether it could take it.

    Quality follows the learning curve in months (the table ``learned_quality``, replication by
    month) or, ``on_visits``, in visits served (``learning_visits``); where an exponential of
    that curve leaves the compiled range, it returns False and leaves it to numpy. ``taste_fit``
    is a table too; ``factors`` holds a row per relationship's factor on satisfaction, in the
    order `Business` applies them.
    """
    out = np.empty(o.size)
    for i in range(o.size):
        r = o[i]
        if on_visits:
            x = -visits_served_to_date[r] / learning_visits
            if not abs(x) <= _EXP_WITHIN:
                return out, False
            gap = (1.0 - starting_quality_share[r]) * math.exp(x)
            quality = quality_potential[r] * (1.0 - gap)
        else:
            quality = learned_quality[r, elapsed]
        for _ in range(vacancies[r]):  # each vacant post takes its share in turn
            quality *= 1.0 - vacancy_quality_drop[r]
        served_share = 1.0 - overload_penalty[r] * overload_share[r]
        satisfaction = quality * taste_fit[r, elapsed] * served_share
        for j in range(factors.shape[0]):
            satisfaction *= factors[j, r]
        out[i] = satisfaction
    return out, True


@numba.njit(cache=True)
def serve_visits(
    o: NDArray[np.intp],
    new: NDArray[np.float64],
    lost: NDArray[np.float64],
    returning: NDArray[np.float64],
    capacity: NDArray[np.float64],
    capacity_lost_share: NDArray[np.float64],
    capacity_factors: NDArray[np.float64],
    spend: NDArray[np.float64],
    other_sales_usd: NDArray[np.float64],
    loyal: NDArray[np.float64],
    casual: NDArray[np.float64],
    visits_served_to_date: NDArray[np.float64],
    overload_share: NDArray[np.float64],
    revenue: NDArray[np.float64],
    counts: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    """`Business._serve_visits`: visits served up to capacity, the sales and the month's counts.

    ``capacity_factors`` and ``other_sales_usd`` hold a row per relationship's, in the order
    `Business` takes them; ``revenue`` is the month's revenue row, ``counts`` its count rows.
    """
    for i in range(o.size):
        r = o[i]
        visits = new[i] + returning[i]
        room = capacity[r] * (1.0 - capacity_lost_share[r])
        for j in range(capacity_factors.shape[0]):
            room = room * capacity_factors[j, r]
        served = _smaller(visits, room)
        visits_served_to_date[r] += served
        overload_share[r] = (visits - served) / visits if visits > 0 else 0.0
        capacity_lost_share[r] = 0.0
        sales = served * spend[r]
        for j in range(other_sales_usd.shape[0]):
            sales += other_sales_usd[j, r]
        revenue[r] = sales
        counts[0, r] = loyal[r] + casual[r]
        counts[1, r] = new[i]
        counts[2, r] = lost[i]
        counts[3, r] = visits
        counts[4, r] = served
