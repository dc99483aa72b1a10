"""The headline comparison of the arms: survival, cash, NPV, customers, paired differences.

``compare`` turns results into a frozen ``Comparison``; ``Comparison.to_text`` renders the table
the command line prints, and ``Comparison.to_frame`` gives the same figures as a tidy table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from franchise_sim.results import SimulationResults
from franchise_sim.statistics import (
    Interval,
    Spread,
    paired_difference,
    probability_better,
    spread,
    survival_at,
)

if TYPE_CHECKING:
    import pandas as pd

BASELINE = "independent"
"""The arm every other arm is compared with."""


@dataclass(frozen=True, slots=True)
class ArmSummary:
    """Headline figures of one arm."""

    arm: str
    label: str
    survival: dict[int, float]  # month -> share open at its end
    final_cash: Spread
    npv: Spread
    final_customers: Spread  # of the businesses still open at the horizon
    break_even_month: Spread
    break_even_share: float


@dataclass(frozen=True, slots=True)
class Contrast:
    """One arm against the baseline over paired replications (mean differences)."""

    arm: str
    survival_points: dict[int, Interval]  # month -> difference in points open at its end
    final_cash: Interval
    npv: Interval
    final_customers: Interval  # a closed business counts 0
    probability_npv_better: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything the headline table shows."""

    scenario_name: str
    runs: int
    horizon_months: int
    seed: int
    deterministic: bool
    discount_rate_per_year: float
    arms: tuple[ArmSummary, ...]
    contrasts: tuple[Contrast, ...]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (arm, metric, statistic)."""
        import pandas as pd

        rows: list[dict[str, object]] = []
        for a in self.arms:
            for month, share in a.survival.items():
                rows.append(_row(a.arm, f"survival_month_{month}", "share", share))
            for metric in ("final_cash", "npv", "final_customers", "break_even_month"):
                s: Spread = getattr(a, metric)
                for stat in ("median", "p10", "p90"):
                    rows.append(_row(a.arm, metric, stat, getattr(s, stat)))
            rows.append(_row(a.arm, "break_even_month", "share_reaching", a.break_even_share))
        for c in self.contrasts:
            for month, gap in c.survival_points.items():
                for stat in ("estimate", "low", "high"):
                    rows.append(
                        _row(c.arm, f"difference_survival_month_{month}", stat, getattr(gap, stat))
                    )
            for metric in ("final_cash", "npv", "final_customers"):
                i: Interval = getattr(c, metric)
                for stat in ("estimate", "low", "high"):
                    rows.append(_row(c.arm, f"difference_{metric}", stat, getattr(i, stat)))
            rows.append(
                _row(c.arm, "difference_npv", "probability_better", c.probability_npv_better)
            )
        return pd.DataFrame(rows)

    def to_text(self) -> str:
        """The comparison as a plain-text table for a terminal."""
        width = max(24, *(len(a.label) + 2 for a in self.arms))
        head = f"{'':34}" + "".join(f"{a.label:>{width}}" for a in self.arms)
        if self.deterministic:
            title = (
                f"{self.scenario_name}: the plan on paper over {self.horizon_months} months "
                "(every input at its mean, no random events, expected flows)"
            )
        else:
            runs = f"{self.runs:,} paired run{'s' if self.runs != 1 else ''}"
            title = (
                f"{self.scenario_name}: {runs} x {self.horizon_months} months (seed {self.seed})"
            )
        lines = [
            title,
            "",
            head,
        ]

        def row(name: str, cells: list[str]) -> None:
            lines.append(f"{name:34}" + "".join(f"{c:>{width}}" for c in cells))

        for month in self.arms[0].survival:
            row(f"Open after {period(month)}", [f"{a.survival[month]:.1%}" for a in self.arms])
        pct = f"{self.discount_rate_per_year:.0%}"
        for title, metric, fmt in (
            ("Final cash, USD", "final_cash", number_text),
            (f"NPV to the owner at {pct}, USD", "npv", number_text),
            (f"Customers at month {self.horizon_months} if open", "final_customers", number_text),
            ("Break-even month", "break_even_month", number_text),
        ):
            spreads: list[Spread] = [getattr(a, metric) for a in self.arms]
            row(f"{title}: median", [fmt(s.median) for s in spreads])
            row("  P10 to P90", [f"{fmt(s.p10)} to {fmt(s.p90)}" for s in spreads])
        row("  share reaching break-even", [f"{a.break_even_share:.0%}" for a in self.arms])
        labels = {a.arm: a.label for a in self.arms}
        for c in self.contrasts:
            if self.deterministic:
                lines += ["", f"{labels[c.arm]} minus {labels[BASELINE]}"]
            else:
                lines += ["", f"{labels[c.arm]} minus {labels[BASELINE]}: paired mean, 95% CI"]
            diff_rows = [
                (f"Open after {period(month)}", gap, _points)
                for month, gap in c.survival_points.items()
            ]
            diff_rows += [
                ("Final cash, USD", c.final_cash, signed_text),
                ("NPV to the owner, USD", c.npv, signed_text),
                ("Customers at horizon, closed 0", c.final_customers, signed_text),
            ]
            for name, interval, fmt in diff_rows:
                line = f"  {name:32}{fmt(interval.estimate):>14}"
                if not self.deterministic:
                    line += f"   ({fmt(interval.low)} to {fmt(interval.high)})"
                lines.append(line)
            if not self.deterministic:
                lines.append(
                    f"  {'Runs where its NPV is higher':32}{c.probability_npv_better:>14.0%}"
                )
        return "\n".join(lines)


def compare(results: SimulationResults) -> Comparison:
    """Headline figures of each arm and paired differences against the independent arm."""
    horizon = results.horizon_months
    months = sorted({m for m in (12, 36, 60) if m <= horizon} | {horizon})
    alive = results.series("alive")
    out = results.outcomes
    arms: list[ArmSummary] = []
    for i, arm in enumerate(results.arms):
        break_even = out["break_even_month"][i]
        arms.append(
            ArmSummary(
                arm=arm,
                label=results.labels[arm],
                survival={m: float(survival_at(alive[i], m)) for m in months},
                final_cash=spread(out["final_cash"][i]),
                npv=spread(out["npv"][i]),
                final_customers=spread(
                    np.where(out["survived"][i] > 0.5, out["final_customers"][i], np.nan)
                ),
                break_even_month=spread(break_even),
                break_even_share=float(np.mean(~np.isnan(break_even))),
            )
        )
    base = results.arm_index(BASELINE)
    contrasts = []
    for i, arm in enumerate(results.arms):
        if i == base:
            continue

        def diff(name: str, i: int = i) -> Interval:
            return paired_difference(out[name][i], out[name][base])

        contrasts.append(
            Contrast(
                arm=arm,
                survival_points={
                    m: paired_difference(100.0 * alive[i, :, m - 1], 100.0 * alive[base, :, m - 1])
                    for m in months
                },
                final_cash=diff("final_cash"),
                npv=diff("npv"),
                final_customers=diff("final_customers"),
                probability_npv_better=probability_better(out["npv"][i], out["npv"][base]),
            )
        )
    return Comparison(
        scenario_name=results.scenario.name,
        runs=results.runs,
        horizon_months=horizon,
        seed=results.seed,
        deterministic=results.deterministic,
        discount_rate_per_year=results.scenario.run.discount_rate_per_year,
        arms=tuple(arms),
        contrasts=tuple(contrasts),
    )


def _row(arm: str, metric: str, statistic: str, value: float) -> dict[str, object]:
    return {"arm": arm, "metric": metric, "statistic": statistic, "value": value}


def period(month: int) -> str:
    """``1 year``, ``3 years`` or ``18 months``."""
    if month % 12:
        return f"{month} months"
    years = month // 12
    return f"{years} year{'s' if years != 1 else ''}"


def number_text(x: float) -> str:
    """A whole number with thousands separators (``12,500``); ``n/a`` for NaN."""
    return "n/a" if math.isnan(x) else f"{x:,.0f}"


def signed_text(x: float) -> str:
    """A whole number with its sign and thousands separators (``+12,500``); ``n/a`` for NaN."""
    return "n/a" if math.isnan(x) else f"{x:+,.0f}"


def _points(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.1f} pts"
