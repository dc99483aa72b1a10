"""The terms of the relationships each arm holds besides a franchise, as the report shows them.

One table per arm and relationship: every field of its section, its value (an uncertain one as
its mean and where 90% of the runs draw it) and the field's own description, which says where
the figure comes from (a source tagged [H], [M] or [L]) or that it is a stated assumption. The
fields are read from the section itself, so a new relationship form shows without edits here.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from franchise_sim.analysis.attribution import held_relationships, step_label
from franchise_sim.scenario.distributions import mean_of
from franchise_sim.scenario.quantities import Section
from franchise_sim.scenario.schema import Scenario


def plain_value(name: str, value: Any) -> str:
    """A value in words, its unit read from the field's name."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    number = float(value)
    if "usd" in name:
        return f"${number:,.2f}" if abs(number) < 10 else f"${number:,.0f}"
    if name.endswith("_rate_per_year"):
        return f"{100 * number:.3g}% a year"
    if name.endswith("_share") or name.endswith("_rate"):
        return f"{100 * number:.3g}%"
    if name.endswith("_hours_per_month"):
        return f"{number:,.3g} h a month"
    if name.endswith("_per_month"):
        return f"{number:,.4g} a month"
    if name.endswith("_months"):
        return f"{number:,.0f} months"
    if name.endswith("_month"):
        return f"month {number:,.0f}"
    return f"{number:,.4g}"


def html_term(name: str, value: Any) -> str:
    """A fixed value as is; an uncertain one as its mean and the middle 90% of its draws."""
    if value is None:
        return "&ndash;"
    if isinstance(value, bool | str | int | float):
        return escape(plain_value(name, value))
    low, high = (float(x) for x in value.ppf(np.array([0.05, 0.95])))
    shape = escape(str(getattr(value, "dist", "uncertain")))
    return (
        f"{escape(plain_value(name, mean_of(value)))} "
        f'<span class="muted">({shape}; 90% of runs {escape(plain_value(name, low))} to '
        f"{escape(plain_value(name, high))})</span>"
    )


def _rows(section: Section, prefix: str = "") -> list[str]:
    """One row per field of a section, a sub-section's fields under its name."""
    rows = []
    for field, info in type(section).model_fields.items():
        value = getattr(section, field)
        label = f"{prefix}{field}"
        if isinstance(value, Section):
            rows += _rows(value, f"{label}.")
            continue
        rows.append(
            f"<tr><td><code>{escape(label)}</code></td><td>{html_term(field, value)}</td>"
            f'<td class="muted text">{escape(info.description or "")}</td></tr>'
        )
    return rows


def relationship_terms_html(scenario: Scenario, arms: tuple[str, ...]) -> str:
    """Each arm's relationships besides a franchise, one table each; "" if no arm has any."""
    parts = []
    for arm in arms:
        for name in held_relationships(scenario, arm):
            section = getattr(scenario.arm(arm), name)
            parts.append(
                f"<h4>{escape(scenario.arm(arm).label)}: {escape(step_label(name).lower())}</h4>"
                '<table><thead><tr><th>Term</th><th>Value</th><th class="text">What it is, and its '
                f"source</th></tr></thead><tbody>{''.join(_rows(section))}</tbody></table>"
            )
    if not parts:
        return ""
    return (
        "<h3>Relationships with other firms</h3>"
        '<p class="muted">The terms of each relationship an arm holds besides a franchise. A '
        "figure tagged [H] comes from peer-reviewed work, [M] from a survey or vendor data, [L] "
        "from a secondary citation; every other figure is a stated assumption.</p>" + "".join(parts)
    )
