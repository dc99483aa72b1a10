"""The HTML report: one self-contained page a user can open in any browser, offline.

It holds the question, the key assumptions of each arm, the headline comparison, every figure
(embedded as base64 PNG) and the run manifest. Nothing in it is fetched from elsewhere: no
script, stylesheet, font or image outside the file itself.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from franchise_sim.analysis.attribution import as_attributions
from franchise_sim.analysis.comparison import (
    Comparison,
    Wording,
    compare,
    definitions,
    format_value,
)
from franchise_sim.analysis.reference import BLS_SECTOR_NAMES, BLS_SOURCE
from franchise_sim.analysis.statistics import Interval
from franchise_sim.engine.results import SimulationResults
from franchise_sim.model.books import GAVE_UP, INSOLVENT, OWNER_EXIT, SOLD
from franchise_sim.outputs.figures import FIGURES
from franchise_sim.outputs.relationship_terms import relationship_terms_html
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.schema import Arm, Scenario

if TYPE_CHECKING:
    from franchise_sim.analysis.attribution import Attribution

SECTIONS = ("question", "assumptions", "comparison", "figures", "manifest")
"""The ``id`` of every section of the report, in order."""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .7rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}thead th{background:#f4f4f4}
td.group{background:#fafafa;font-weight:600;text-align:left}
td.text,th.text{text-align:left}
.lead{font-size:1.05rem;background:#f6f8fa;border-left:4px solid #0072B2;padding:.6rem 1rem}
.muted{color:#666;font-size:.88rem}.verdict ul{margin:.3rem 0 .2rem;padding-left:1.2rem}
figure{margin:1.5rem 0}img{max-width:100%;height:auto}
figcaption{color:#444;font-size:.9rem}code{background:#f4f4f4;padding:.1rem .3rem}
@media print{h2{page-break-before:auto}figure{page-break-inside:avoid}}
"""


@dataclass(frozen=True, slots=True)
class Assumption:
    """One row of the assumptions table: how to read a value from an arm and show it."""

    group: str
    name: str
    read: Callable[[Arm], Any]
    kind: str = "usd"  # usd, rate, number, months or text


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "Investment", "Initial franchise fee", lambda a: _terms(a, "initial_fee_usd", "fees")
    ),
    Assumption("Investment", "Build-out", lambda a: a.investment.buildout_usd),
    Assumption("Investment", "Equipment", lambda a: a.investment.equipment_usd),
    Assumption("Investment", "Opening inventory", lambda a: a.investment.initial_inventory_usd),
    Assumption(
        "Investment",
        "Working capital (cash on opening day)",
        lambda a: a.investment.working_capital_usd,
    ),
    Assumption("Investment", "Total investment", lambda a: a.total_investment_usd()),
    Assumption("Financing", "Owner's equity", lambda a: a.equity_usd()),
    Assumption("Financing", "Loan", lambda a: a.loan_usd()),
    Assumption("Financing", "Loan rate a year", lambda a: a.financing.loan_rate_per_year, "rate"),
    Assumption("Financing", "Loan term", lambda a: a.financing.loan_term_months, "months"),
    Assumption("Financing", "Owner's reserve", lambda a: a.owner.reserve_usd),
    Assumption("Fees", "Royalty (of sales)", lambda a: _terms(a, "royalty_rate", "fees"), "rate"),
    Assumption("Fees", "Ad fund (of sales)", lambda a: _terms(a, "ad_fund_rate", "fees"), "rate"),
    Assumption(
        "Fees", "Fixed fees a month", lambda a: _terms(a, "fixed_fees_usd_per_month", "fees"), "usd"
    ),
    Assumption(
        "Fees",
        "Local marketing minimum (of sales)",
        lambda a: _terms(a, "local_marketing_min_rate", "fees"),
        "rate",
    ),
    Assumption("Fees", "Term, years", lambda a: _terms(a, "term_years", "fees"), "number"),
    Assumption(
        "Brand",
        "Brand awareness pull (Bass p a month)",
        lambda a: _terms(a, "brand_awareness_p_per_month", "brand"),
        "number",
    ),
    Assumption(
        "Brand",
        "Ad-fund pull (Bass p a month)",
        lambda a: _terms(a, "ad_fund_p_per_month", "brand"),
        "number",
    ),
    Assumption(
        "Brand",
        "Brand's pull halved at (share of the market won)",
        lambda a: _terms(a, "brand_fade_half_customer_share", "brand"),
        "rate",
    ),
    Assumption(
        "Brand",
        "Brand's pull halved after",
        lambda a: _terms(a, "brand_fade_half_life_months", "brand"),
        "months",
    ),
    Assumption(
        "Brand",
        "Franchisor failure rate a year",
        lambda a: _terms(a, "franchisor", "franchisor_risk", "failure_rate_per_year"),
        "rate",
    ),
    Assumption(
        "Concept",
        "Operating quality (0-1)",
        lambda a: _terms(a, "template", "template", "quality", a.concept.quality),
        "number",
    ),
    Assumption(
        "Concept",
        "Learning months",
        lambda a: _terms(a, "template", "template", "learning_months", a.concept.learning_months),
        "number",
    ),
    Assumption(
        "Concept",
        "Learning by doing: visits to learn (replaces months)",
        lambda a: _terms(a, "template", "template", "learning_visits", a.concept.learning_visits),
        "number",
    ),
    Assumption(
        "Concept",
        "Customization limit (share of taste gap it may close)",
        lambda a: _terms(a, "customization_limit", "customization_limit", otherwise=1.0),
        "rate",
    ),
    Assumption("Concept", "Adaptation months", lambda a: a.concept.adaptation_months, "number"),
    Assumption(
        "Operations",
        "System purchasing discount (of variable costs)",
        lambda a: _terms(a, "purchasing_discount_rate", "purchasing"),
        "rate",
    ),
    Assumption("Operations", "Spend per visit", lambda a: a.customers.spend_per_visit_usd, "usd"),
    Assumption(
        "Operations",
        "Capacity, visits a month",
        lambda a: a.operations.capacity_visits_per_month,
        "number",
    ),
    Assumption(
        "Operations", "Variable cost (of sales)", lambda a: a.operations.variable_cost_rate, "rate"
    ),
    Assumption("Operations", "Payroll a month", lambda a: a.operations.payroll_usd_per_month),
    Assumption("Operations", "Rent a month", lambda a: a.operations.rent_usd_per_month),
    Assumption("Operations", "Marketing a month", lambda a: a.operations.marketing_usd_per_month),
    Assumption("Owner", "Target draw a month", lambda a: a.owner.draw_usd_per_month),
    Assumption(
        "Owner", "Cash floor: draws only from cash above it", lambda a: a.owner.cash_floor_usd
    ),
    Assumption(
        "Owner",
        "Cash ceiling: any cash above it is paid out",
        lambda a: max(a.owner.cash_ceiling_usd, a.owner.cash_floor_usd),
    ),
    Assumption(
        "Owner",
        "Outside wage a month (deducted in the NPV)",
        lambda a: a.owner.outside_wage_usd_per_month,
    ),
    Assumption("Owner", "Gives up when earnings fall short of", lambda a: _benchmark(a), "text"),
    Assumption(
        "Owner",
        "Shortfall shrugged off a month",
        lambda a: None if a.owner.review is None else a.owner.review.slack_usd_per_month,
    ),
    Assumption(
        "Owner",
        "Running shortfall at which the owner closes",
        lambda a: None if a.owner.review is None else a.owner.review.give_up_shortfall_usd,
    ),
    Assumption(
        "Owner", "Personal exit a year", lambda a: a.owner.personal_exit_rate_per_year, "rate"
    ),
    Assumption(
        "Owner",
        "Sold at exit for (times yearly earnings)",
        lambda a: None if a.owner.sale is None else a.owner.sale.multiple_of_earnings,
        "number",
    ),
)
"""The assumptions table, row by row; ``None`` shows as a dash (e.g. fees of the independent)."""


BENCHMARK_WORDS = {
    "plan": "its plan",
    "plan_or_outside_wage": "its plan, at most the outside wage",
    "expected": "a stated level",
    "outside_wage": "the outside wage",
}
"""How the assumptions table names each review benchmark (``owner.review.benchmark``)."""


def _benchmark(arm: Arm) -> str:
    """What the owner sets earnings against, in words (the old patience rule without a review)."""
    review = arm.owner.review
    if review is None:
        return "half the draw, for too many months in a row"
    words = BENCHMARK_WORDS[review.benchmark]
    if review.scaled_to_plan_sales_usd_per_month is not None:
        words += " (allowances scaled to the plan's sales)"
    return words


def _terms(
    arm: Arm, name: str, mechanism: str, part: str | None = None, otherwise: Any = None
) -> Any:
    """A franchise term (or a ``part`` of it) the arm runs on, else ``otherwise``.

    ``otherwise`` (None shows as a dash) stands for an arm without franchise terms and for a
    franchise arm with that mechanism switched off, which runs on the shared value instead.
    """
    terms = arm.franchise
    if terms is None or not getattr(terms.mechanisms, mechanism):
        return otherwise
    value = getattr(terms, name)
    return value if part is None else getattr(value, part)


def _plain(value: float, kind: str) -> str:
    if kind == "usd":
        return f"${value:,.0f}"
    if kind == "rate":
        return f"{100 * value:.2f}".rstrip("0").rstrip(".") + "%"
    if kind == "months":
        return f"{value:,.0f} months"
    if abs(value) < 1:
        return f"{value:,.3g}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".removesuffix(".0")


def _value(value: Any, kind: str) -> str:
    """A fixed value as is; an uncertain one as its mean and the middle 90% of its draws."""
    if value is None:
        return "&ndash;"
    if isinstance(value, bool | str):
        return escape(str(value))
    if isinstance(value, int | float):
        return _plain(float(value), kind)
    low, high = (float(x) for x in value.ppf(np.array([0.05, 0.95])))
    shape = escape(str(getattr(value, "dist", "uncertain")))
    return (
        f"{_plain(mean_of(value), kind)} "
        f'<span class="muted">({shape}; 90% of runs {_plain(low, kind)} to '
        f"{_plain(high, kind)})</span>"
    )


def _assumptions_table(results: SimulationResults) -> str:
    """Each arm's key assumptions; the franchise terms only when an arm has franchise terms."""
    arms = [results.scenario.arm(a) for a in results.arms]
    head = "".join(f"<th>{escape(a.label)}</th>" for a in arms)
    rows, group = [], ""
    franchise = any(a.franchise is not None for a in arms)
    for row in ASSUMPTIONS:
        if not franchise and all(row.read(a) is None for a in arms):
            continue  # a franchise term, a dash for every arm of a scenario without franchise
        if row.group != group:
            group = row.group
            rows.append(f'<tr><td class="group" colspan="{len(arms) + 1}">{group}</td></tr>')
        cells = "".join(f"<td>{_value(row.read(a), row.kind)}</td>" for a in arms)
        rows.append(f"<tr><td>{escape(row.name)}</td>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _market_table(results: SimulationResults) -> str:
    """The market and the random events both arms share."""
    scenario = results.scenario
    market, events = scenario.market, scenario.events
    on = events.enabled and not results.deterministic
    rows = (
        ("Households within reach", _value(market.households, "number")),
        ("Share that would use such a business", _value(market.addressable_share, "rate")),
        ("Local taste gap from a national template", _value(market.local_taste_gap, "rate")),
        ("Market growth a year", _value(market.size_trend_per_year, "rate")),
        ("Competitor entries a year", _value(events.competitor_entry.rate_per_year, "number")),
        ("Rivals at opening", _value(events.competitor_entry.rivals_at_start, "number")),
        (
            "A rival's yearly chance of closing",
            _value(events.competitor_entry.exit_rate_per_year, "rate"),
        ),
        ("Recessions a year", _value(events.recession.rate_per_year, "number")),
        ("Equipment breakdowns a year", _value(events.equipment_breakdown.rate_per_year, "number")),
        ("Key staff departures a year", _value(events.key_staff_loss.rate_per_year, "number")),
        ("Random events", "on" if on else "off"),
    )
    body = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in rows)
    return f"<table><tbody>{body}</tbody></table>"


def npv_definition(scenario: Scenario) -> str:
    """What the owner's NPV counts, in words, for this scenario's money rules."""
    rate = f"{scenario.run.discount_rate_per_year:.0%}"
    wages = {a.owner.outside_wage_usd_per_month is not None for a in scenario.resolved_arms()}
    wage = ""
    if wages == {True}:
        wage = ", less the outside wage the owner gives up while the business is open"
    elif True in wages:
        wage = ", less the outside wage where one is stated"
    tv = scenario.run.terminal_value
    end = (
        "its earnings less the outside wage, capitalised at the discount rate"
        if tv is not None and tv.method == "capitalised"
        else "a multiple of its yearly operating profit"
    )
    return (
        "the owner's equity out, draws in, savings put in out"
        f"{wage}, and at the end the going business valued at {end} (a closed one is settled "
        f"or liquidated), discounted at {rate} a year."
    )


CLOSURE_REASONS = (
    (INSOLVENT, "ran out of cash and savings"),
    (GAVE_UP, "owner gave up (no living earned)"),
    (OWNER_EXIT, "owner left for personal reasons"),
    (SOLD, "owner left and sold the going business"),
)


def _closure_table(results: SimulationResults) -> str:
    """Share of runs of each arm closed by the horizon, by why they closed."""
    head = "".join(f"<th>{escape(results.labels[a])}</th>" for a in results.arms)
    rows = []
    for reason, words in CLOSURE_REASONS:
        shares = (results.closure_reasons == reason).mean(axis=1)
        cells = "".join(f"<td>{share:.1%}</td>" for share in shares)
        rows.append(f"<tr><td>Closed: {words}</td>{cells}</tr>")
    still = "".join(f"<td>{s:.1%}</td>" for s in (results.closure_reasons == "").mean(axis=1))
    rows.append(f"<tr><td>Still open at month {results.horizon_months}</td>{still}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def html_value(value: float, kind: str) -> str:
    """A number as ``format_value`` writes it, for HTML: a true minus sign, never broken.

    A signed or dollar amount is wrapped in a ``white-space:nowrap`` span and its minus is
    U+2212, so that a negative amount never breaks between the sign and the digits.
    """
    text = format_value(value, kind)
    if not any(c in text for c in "-+$"):
        return text
    return f'<span style="white-space:nowrap">{text.replace("-", MINUS)}</span>'


MINUS = "\u2212"
"""The minus sign (U+2212) the report writes."""

HTML_WORDING = Wording(value=html_value, name=escape)
"""The verdict written for HTML: escaped labels, unbreakable amounts."""


def _cell(cell: tuple[float, ...], kind: str) -> str:
    return " to ".join(html_value(x, kind) for x in cell)


def _definitions(comparison: Comparison) -> str:
    return "".join(f"<li>{escape(d)}</li>" for d in definitions(comparison.horizon_months))


def _policy_note(results: SimulationResults) -> str:
    """The owner's draw policy in words, with each arm's floor and ceiling."""
    arms = [results.scenario.arm(a) for a in results.arms]
    levels = "; ".join(
        f"{escape(a.label)}: floor {html_value(a.owner.cash_floor_usd, 'usd')}, ceiling "
        f"{html_value(max(a.owner.cash_ceiling_usd, a.owner.cash_floor_usd), 'usd')}"
        for a in arms
    )
    return (
        '<p class="muted"><strong>The owner\'s draw policy</strong> (a stated assumption, '
        "<code>owner.cash_floor_usd</code> and <code>owner.cash_ceiling_usd</code>): each month "
        "the owner takes the target draw only out of cash above the floor, none in a month "
        "whose cash flow after loan payments is negative, and is paid whatever cash still "
        "stands above the ceiling; savings cover a shortfall only up to zero. The business's "
        f"cash at the end is therefore mostly this policy ({levels}): the headline table leads "
        "with survival, the owner's NPV and cash flow and the customers, which it does not "
        "set.</p>"
    )


def _figure_note(name: str, comparison: Comparison) -> str:
    """What the report adds under a figure's caption: definitions a reader needs there."""
    if name == "break_even":
        medians = ", ".join(
            f"{escape(a.label)} {html_value(a.first_profitable_month.median, 'month')}"
            for a in comparison.arms
        )
        return (
            " Break-even is the first month from which operating profit (sales less running "
            "costs and franchise fees, before loan payments and the owner's draw) stays at or "
            "above zero to the end. It can come after payback: the owner's draws can return "
            "what they put in while a loss month still lies ahead (a recession, a breakdown), "
            "and that loss moves break-even past it but does not undo payback. The first month "
            f"with any operating profit comes earlier (median: {medians})."
        )
    if name == "payback":
        return (
            " Payback is the first month by which the owner's draws have returned the equity "
            "and savings put in; it can come before break-even (see the break-even figure)."
        )
    if name == "final_cash":
        return (
            " Mostly the owner's draw policy: cash stays near the floor while draws take what "
            "is above it, and never above the ceiling (see the assumptions)."
        )
    return ""


def _headline_table(comparison: Comparison) -> str:
    arms = comparison.arms
    head = "".join(f"<th>{escape(a.label)}</th>" for a in arms)
    rows = []
    for row in comparison.headline_rows():
        muted = ' class="muted"' if row.detail else ""
        name = f"&nbsp;&nbsp;{escape(row.name)}" if row.detail else escape(row.name)
        cells = "".join(f"<td{muted}>{_cell(c, row.kind)}</td>" for c in row.cells)
        rows.append(f"<tr><td{muted}>{name}</td>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _contrast_table(comparison: Comparison) -> str:
    """A table of paired differences for each arm against the baseline, one after the other."""
    labels = {a.arm: a.label for a in comparison.arms}
    tables = []
    for c in comparison.contrasts:
        body = ""
        for row in comparison.difference_rows(c):
            if isinstance(row.value, Interval):
                estimate = html_value(row.value.estimate, row.kind)
                interval = (
                    ""
                    if comparison.deterministic
                    else f"<td>{_cell((row.value.low, row.value.high), row.kind)}</td>"
                )
            else:
                estimate, interval = html_value(row.value, row.kind), "<td></td>"
            body += f"<tr><td>{escape(row.name)}</td><td>{estimate}</td>{interval}</tr>"
        interval = "" if comparison.deterministic else "<th>95% interval</th>"
        tables.append(
            f'<h3 class="contrast">{escape(labels[c.arm])} minus {escape(labels[c.baseline])}'
            f"</h3><table><thead><tr><th></th><th>paired</th>{interval}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    return "".join(tables)


def pairs_table(comparison: Comparison) -> str:
    """Every pair of arms in one table: a row per pair, its paired differences with intervals.

    Empty for two arms, whose one pair is the contrast with the baseline.
    """
    if len(comparison.pairs) <= len(comparison.contrasts):
        return ""
    labels = {a.arm: a.label for a in comparison.arms}
    intervals = not comparison.deterministic
    heads = ""
    for d in comparison.pair_rows(comparison.pairs[0]):
        heads += f"<th>{escape(d.name)}</th>"
        if intervals and isinstance(d.value, Interval):
            heads += "<th>95% interval</th>"
    body = []
    for pair in comparison.pairs:
        cells = ""
        for row in comparison.pair_rows(pair):
            if not isinstance(row.value, Interval):
                cells += f"<td>{html_value(row.value, row.kind)}</td>"
                continue
            cells += f"<td>{html_value(row.value.estimate, row.kind)}</td>"
            if intervals:
                cells += (
                    '<td class="muted" style="white-space:nowrap">'
                    f"{_cell((row.value.low, row.value.high), row.kind)}</td>"
                )
        body.append(
            f'<tr class="pair"><td>{escape(labels[pair.arm])} minus '
            f"{escape(labels[pair.baseline])}</td>{cells}</tr>"
        )
    return (
        '<h3 id="every-pair">Every pair</h3>'
        '<p class="muted">Each row is one arm minus another, run by run over the same markets '
        "and events; the rows against the baseline repeat the tables above.</p>"
        f"<table><thead><tr><th></th>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _verdict(comparison: Comparison) -> str:
    """The verdict in words, one paragraph per arm compared with the baseline."""
    parts = []
    for v in comparison.verdicts:
        first, *rest = v.sentences(HTML_WORDING)
        items = "".join(f"<li>{sentence}</li>" for sentence in rest)
        parts.append(
            f'<div class="lead verdict"><p><strong>Verdict, {escape(v.label)} against '
            f"{escape(v.baseline_label)}.</strong> {first}</p><ul>{items}</ul></div>"
        )
    return "".join(parts)


def headline_html(comparison: Comparison) -> str:
    """The headline comparison as an HTML fragment, which a notebook shows for results.

    Args:
        comparison: What ``compare`` made of the results.

    Returns:
        A title naming the run, the verdict in words, the headline table, the paired
        differences of each arm from the baseline and, for three arms or more, the table of
        every pair; no page, style or script.
    """
    if comparison.deterministic:
        kind = "the plan on paper (every input at its mean, no random events)"
    else:
        kind = f"{comparison.runs:,} paired runs, seed {comparison.seed}"
    tables = (
        _headline_table(comparison) + _contrast_table(comparison) + pairs_table(comparison)
    ).replace(
        "<tr><td",
        '<tr><td style="text-align:left"',  # notebooks right-align every cell
    )
    # Jupyter reads a pair of dollar signs as TeX: these classes tell its MathJax to leave
    # the amounts alone.
    return (
        '<div class="tex2jax_ignore mathjax_ignore">'
        f"<h3>{escape(comparison.scenario_name)}: {escape(comparison.question)}</h3>"
        f"<p>{comparison.horizon_months} months from opening, {kind}.</p>"
        f"{_verdict(comparison)}{tables}</div>"
    )


def _manifest_table(record: Mapping[str, Any]) -> str:
    keys = (
        ("scenario_name", "Scenario"),
        ("scenario_file", "Scenario file"),
        ("seed", "Master seed"),
        ("runs", "Paired runs"),
        ("horizon_months", "Months simulated"),
        ("deterministic", "Plan on paper (deterministic)"),
        ("franchise_sim_version", "franchise-sim version"),
        ("created_utc", "Created (UTC)"),
        ("run_seconds", "Simulation time, s"),
        ("worker_processes", "Worker processes"),
        ("python", "Python"),
        ("numpy", "NumPy"),
        ("simpy", "SimPy"),
    )
    rows = "".join(
        f"<tr><td>{label}</td><td>{escape(str(record.get(key, '')))}</td></tr>"
        for key, label in keys
        if key in record
    )
    replay = escape(str(record.get("replay", "")))
    return (
        f"<table><tbody>{rows}</tbody></table>"
        f"<p>To replay this run exactly: <code>{replay}</code>. The full resolved scenario is in "
        "<code>manifest.json</code> beside this report.</p>"
    )


def _attribution_cells(npv: Interval, survival: Interval) -> str:
    """A step's or the total's NPV and survival cells, each with its 95% interval."""
    return (
        f'<td class="num">{html_value(npv.estimate, "signed_usd")}</td>'
        f'<td class="num">{html_value(npv.low, "signed_usd")} to '
        f"{html_value(npv.high, 'signed_usd')}</td>"
        f'<td class="num">{html_value(survival.estimate, "points")}</td>'
        f'<td class="num">{html_value(survival.low, "points")} to '
        f"{html_value(survival.high, 'points')}</td>"
    )


def attribution_section(attribution: Attribution, picture: bytes | None = None) -> str:
    """The section "Where the difference comes from": the waterfall and the table, as HTML.

    Args:
        attribution: What ``attribution.attribute`` returned.
        picture: The waterfall as PNG bytes (``figures.attribution_figure``); drawn if not given.
    """
    from franchise_sim.analysis.attribution import step_label
    from franchise_sim.outputs.figures import attribution_figure, png_bytes

    if picture is None:
        picture = png_bytes(attribution_figure(attribution))
    image = base64.b64encode(picture).decode("ascii")
    a = attribution
    rows = [
        "<tr><td>Independent</td>"
        f'<td class="num">{html_value(a.start_npv, "usd")}</td><td></td>'
        f'<td class="num">{a.start_survival:.1f}%</td><td></td></tr>'
    ]
    rows += [
        f"<tr><td>+ {escape(step.label)}{'' if step.in_arm else ' (off in the arm)'}</td>"
        f"{_attribution_cells(step.npv, step.survival)}</tr>"
        for step in a.steps
    ]
    rows.append(
        f"<tr><td>{escape(a.arm_label)}</td>"
        f'<td class="num">{html_value(a.end_npv, "usd")}</td><td></td>'
        f'<td class="num">{a.end_survival:.1f}%</td><td></td></tr>'
    )
    rows.append(
        f"<tr><th>Total difference</th>{_attribution_cells(a.total_npv, a.total_survival)}</tr>"
    )
    order = ", ".join(step_label(m).lower() for m in a.order)
    flags = a.order_flags
    flag_text = (
        "Switched on in reverse order, some steps differ by more than their noise (the wider "
        "half-width of the two intervals): " + "; ".join(escape(f) for f in flags) + "."
        if flags
        else "Switched on in reverse order, no step differs by more than its noise."
    )
    return f"""<section id="attribution-{escape(a.arm)}">
<h2>Where the difference comes from: {escape(a.arm_label)}</h2>
<p class="muted">Counterfactual arms switch the arm's steps on one at a time (a franchise's
mechanisms, then each other relationship it holds) over the same markets and events (common
random numbers, {a.runs:,} paired runs, seed {a.seed}): the first has none and runs as the
independent, the last has all and is {escape(a.arm_label)}. Each step is the paired mean change
in the owner's NPV and in survival at month {a.survival_month} (points) when one more step is on;
the steps add up to the total paired difference. Order used: {escape(order)}.</p>
<figure id="figure-attribution-{escape(a.arm)}"><img alt="Waterfall of the steps from the
independent to {escape(a.arm_label)}" src="data:image/png;base64,{image}"></figure>
<table><thead><tr><th></th><th>NPV (USD)</th><th>95% interval</th><th>Survival</th>
<th>95% interval</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<p class="muted">{flag_text} An order-free alternative, the Shapley average over every order of
the {len(a.order)} steps, would need {2 ** len(a.order):,} arms.</p>
</section>"""


def html_report(
    results: SimulationResults,
    record: Mapping[str, Any],
    images: Mapping[str, bytes],
    *,
    attribution: Attribution | Sequence[Attribution] | None = None,
    baseline: str | None = None,
) -> str:
    """The whole report as one HTML page.

    Args:
        results: The results reported on.
        record: The run manifest (see ``archive.manifest``).
        images: PNG bytes of every figure, by figure name (see ``figures.render``), drawn
            with the same baseline.
        attribution: Where each arm's difference comes from (one or one per arm); without it
            the report has no such section.
        baseline: The arm every other is compared with; ``independent`` if not given.

    Returns:
        The HTML text, with every figure embedded.

    Raises:
        BaselineError: ``baseline`` is not an arm of the results.
    """
    scenario = results.scenario
    comparison = compare(results, baseline)
    base_label = escape(results.labels[comparison.baseline])
    kind = (
        "the plan on paper: every input at its mean, no random events, expected flows"
        if results.deterministic
        else f"{results.runs:,} paired Monte Carlo runs over the same markets and events "
        f"(common random numbers), seed {results.seed}"
    )
    figures = "".join(
        f'<figure id="figure-{spec.name}"><img alt="{escape(spec.caption)}" '
        f'src="data:image/png;base64,{base64.b64encode(images[spec.name]).decode("ascii")}">'
        f"<figcaption>{escape(spec.caption)}{_figure_note(spec.name, comparison)}"
        "</figcaption></figure>"
        for spec in FIGURES
        if spec.name in images
    )
    title = escape(scenario.name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: {escape(comparison.question)}</title><style>{STYLE}</style></head>
<body>
<section id="question">
<h1>{title}</h1>
<p><strong>The question:</strong> {escape(comparison.question)}</p>
<p>{escape(scenario.description)}</p>
<p class="muted">Simulated {results.horizon_months} months from opening, {kind}. Survival is
compared with the BLS curve of {escape(BLS_SECTOR_NAMES[scenario.bls_sector])}
({escape(BLS_SOURCE)}).</p>
{_verdict(comparison)}
</section>
<section id="assumptions">
<h2>Key assumptions of each arm</h2>
<p class="muted">Uncertain inputs show their mean and where 90% of the runs draw them; each run
draws its own value, the same draw for every arm where the input is shared. The scenario file
says where each figure comes from.</p>
{_assumptions_table(results)}
{_policy_note(results)}
{relationship_terms_html(scenario, results.arms)}
<h3>Market and random events (the same for every arm)</h3>
{_market_table(results)}
</section>
<section id="comparison">
<h2>Headline comparison</h2>
{_headline_table(comparison)}
<h3>Why businesses closed</h3>
{_closure_table(results)}
<h2>Paired differences</h2>
<p class="muted">Each run of an arm is set against the run of {base_label} (the baseline) with
the same market and the same random events, so the differences are measured run by run.</p>
{_contrast_table(comparison)}
{pairs_table(comparison)}
<div class="muted"><p>Definitions.</p><ul><li><em>Open</em>: not closed by running out of
cash and savings, the owner giving up, or a personal exit (a sale counts as an exit, as in
BLS).</li><li><em>NPV</em>: {npv_definition(scenario)}</li>{_definitions(comparison)}
</ul></div>
</section>
{"".join(attribution_section(a) for a in as_attributions(attribution))}
<section id="figures">
<h2>Figures</h2>
{figures}
</section>
<section id="manifest">
<h2>Run manifest</h2>
{_manifest_table(record)}
</section>
</body></html>
"""
