"""Where the paired difference between an arm and the independent comes from.

Counterfactual arms switch the arm's steps on one at a time: a franchise arm's mechanisms
(``Mechanisms``), then each other relationship the arm holds (a partnership, a marketing
alliance, ...: its section present or absent). The first has none (a franchise arm with every
switch off runs exactly as the independent, draw for draw; an independent arm without its
relationships is the independent, or differs from it by a first step, "the rest of the arm"),
each next one adds one step in a stated order, and the last has them all, which is the arm
itself. All
of them are simulated in one run with the independent and the franchise arm, so common random
numbers pair every arm's replication ``r`` with every other's, and each step is the paired mean
change from the arm before. The steps telescope: they add up to the total paired difference
(franchise minus independent) exactly, up to floating rounding.

A one-at-a-time decomposition depends on the order when mechanisms interact (the brand's pull
is worth more in a bigger format, fees take a share of whatever the rest brings in). The same
run also walks the reverse order, and a mechanism whose step differs between the two orders by
more than its noise is flagged. The order-free alternative is the Shapley average over every
order, which needs all 2^k combinations of the k switches as arms; it is not built here.

Pure library: nothing printed, drawn or written (see ``attribution_page`` for the folder and
``figures.attribution_waterfall`` for the chart).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from franchise_sim.analysis.statistics import Interval, mean_interval, paired_difference
from franchise_sim.engine.batch import DEFAULT_RELATIONSHIPS
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import Progress, simulate
from franchise_sim.scenario.schema import Mechanisms, Scenario

if TYPE_CHECKING:
    from distributed import Client

BASELINE = "independent"

DEFAULT_ORDER: tuple[str, ...] = (
    "financing",
    "format",
    "fees",
    "brand",
    "template",
    "purchasing",
    "customization_limit",
    "franchisor_risk",
)
"""The order in which mechanisms are switched on, as a buyer meets them.

Financing and the format come first: they are the terms of the deal (what is built, how it is
paid for), so the later steps are valued on the unit actually bought. Fees next: the price of
the system, charged on that unit's sales. Then what the fees buy (brand, template, purchasing),
then the limit on customization that comes with them, and last the franchisor's own risk, which
can take away everything added before it (so it is valued against the whole system).
"""

SURVIVAL_MONTH = 60
"""Survival is compared at the end of year 5, or at the horizon if it is shorter."""

REST_OF_ARM = "rest_of_arm"
"""The first step of an arm that differs from the independent in more than its relationships."""

MECHANISM_LABELS: dict[str, str] = {
    "financing": "Financing",
    "format": "Format",
    "fees": "Fees",
    "brand": "Brand",
    "template": "Template",
    "purchasing": "Purchasing",
    "customization_limit": "Customization limit",
    "franchisor_risk": "Franchisor risk",
    REST_OF_ARM: "Rest of the arm",
}
"""How each step is named in tables and charts (a relationship: its name in words)."""


def step_label(step: str) -> str:
    """A step's display name: a mechanism's label, or a relationship's name in words."""
    return MECHANISM_LABELS.get(step, step.replace("_", " ").capitalize())


def held_relationships(scenario: Scenario, arm: str) -> tuple[str, ...]:
    """The relationships besides a franchise that ``arm`` holds, in the model's order."""
    spec = scenario.arms[arm]
    names = (rel.name for rel in DEFAULT_RELATIONSHIPS if rel.name != "franchise")
    return tuple(name for name in names if getattr(spec, name, None) is not None)


def default_order(scenario: Scenario, arm: str) -> tuple[str, ...]:
    """The steps of ``arm`` in the order switched on.

    A franchise's mechanisms (`DEFAULT_ORDER`), then its other relationships: each
    relationship is valued on the deal the owner made.
    """
    mechanisms = DEFAULT_ORDER if scenario.arms[arm].franchise is not None else ()
    return mechanisms + held_relationships(scenario, arm)


CSV_COLUMNS = (
    "row",
    "mechanism",
    "npv_usd",
    "npv_low_usd",
    "npv_high_usd",
    "npv_reverse_usd",
    "npv_reverse_low_usd",
    "npv_reverse_high_usd",
    "survival_points",
    "survival_low_points",
    "survival_high_points",
    "survival_reverse_points",
    "survival_reverse_low_points",
    "survival_reverse_high_points",
    "scenario",
    "arm",
    "arm_label",
    "runs",
    "seed",
    "horizon_months",
    "survival_month",
)
"""Columns of ``attribution.csv``: a ``start`` row, one ``step`` row per mechanism in the
order used, an ``end`` row and a ``total`` row. Start and end hold means (NPV in USD, survival
in percent); steps and the total hold paired mean differences (survival in points)."""


class AttributionError(ValueError):
    """The attribution cannot be made (no arm to attribute) or read (a malformed file)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One mechanism's step: the paired mean change when it is switched on.

    Attributes:
        mechanism: The switch's name (``Mechanisms``).
        npv: Change in the owner's mean NPV (USD) in the order used, with its 95% interval.
        survival: Change in survival at ``survival_month`` (points), with its interval.
        npv_reverse: The same step when the mechanisms are switched on in reverse order.
        survival_reverse: The survival step in reverse order.
        in_arm: Whether the franchise arm has this mechanism on; a switched-off one adds 0.
    """

    mechanism: str
    npv: Interval
    survival: Interval
    npv_reverse: Interval
    survival_reverse: Interval
    in_arm: bool = True

    @property
    def label(self) -> str:
        """The mechanism's display name."""
        return step_label(self.mechanism)


def _half_width(interval: Interval) -> float:
    """Half the width of an interval; 0 when it is undefined (a single run, an exact 0)."""
    half = (interval.high - interval.low) / 2
    return 0.0 if math.isnan(half) else half


def order_matters(forward: Interval, reverse: Interval) -> bool:
    """Whether a step differs between the two orders by more than its noise.

    The noise is the wider of the two intervals' half-widths.
    """
    noise = max(_half_width(forward), _half_width(reverse))
    return abs(forward.estimate - reverse.estimate) > noise


@dataclass(frozen=True, slots=True)
class Attribution:
    """The steps from the independent's outcome to the attributed arm's.

    Attributes:
        scenario: The scenario's name.
        arm: The franchise arm attributed.
        arm_label: Its display label.
        order: The mechanisms in the order they were switched on.
        steps: One step per mechanism, in ``order``.
        start_npv: The independent's mean NPV (USD).
        end_npv: The franchise arm's mean NPV (USD).
        start_survival: The independent's survival at ``survival_month`` (percent).
        end_survival: The franchise arm's survival at ``survival_month`` (percent).
        total_npv: Paired mean NPV difference, franchise minus independent, with its interval.
        total_survival: Paired survival difference (points), with its interval.
        runs: Paired replications per arm.
        seed: Master seed.
        horizon_months: Months simulated.
        survival_month: The month survival is compared at (60, or the horizon if shorter).
    """

    scenario: str
    arm: str
    arm_label: str
    order: tuple[str, ...]
    steps: tuple[Step, ...]
    start_npv: float
    end_npv: float
    start_survival: float
    end_survival: float
    total_npv: Interval
    total_survival: Interval
    runs: int
    seed: int
    horizon_months: int
    survival_month: int

    @property
    def order_flags(self) -> tuple[str, ...]:
        """Sentences naming each step whose value depends on the order beyond its noise."""
        flags = []
        for step in self.steps:
            for what, forward, reverse, unit in (
                ("NPV", step.npv, step.npv_reverse, "usd"),
                ("survival", step.survival, step.survival_reverse, "points"),
            ):
                if order_matters(forward, reverse):
                    flags.append(
                        f"the order matters for {step.label.lower()} ({what}): "
                        f"{_signed(forward.estimate, unit)} forward, "
                        f"{_signed(reverse.estimate, unit)} in reverse"
                    )
        return tuple(flags)

    def step_sum(self, measure: str) -> float:
        """The steps of ``npv`` or ``survival`` added up (``math.fsum``): the total's estimate."""
        return math.fsum(getattr(step, measure).estimate for step in self.steps)

    def to_text(self) -> str:
        """The attribution as a plain-text table, with the order used and any order flags."""
        w = min(40, max(24, len(self.arm_label) + 2))
        head = f"{'':<{w}}{'NPV (USD)':>14}{'95% interval':>26}{'Survival':>12}{'95% interval':>18}"
        lines = [
            f"Where the difference comes from: {self.arm_label} against the independent, "
            f"{self.scenario}",
            f"{self.runs:,} paired runs, seed {self.seed}, {self.horizon_months} months; "
            f"survival at month {self.survival_month}.",
            f"Switched on one at a time in this order: "
            f"{', '.join(step_label(m) for m in self.order)}.",
            "",
            head,
            f"{'Independent':<{w}}{_usd(self.start_npv):>14}{'':>26}"
            f"{self.start_survival:>11.1f}%{'':>18}",
        ]
        for step in self.steps:
            name = step.label + ("" if step.in_arm else " (off)")
            lines.append(_row(f"+ {name}", step.npv, step.survival, w))
        lines.append(
            f"{self.arm_label[: w - 1]:<{w}}{_usd(self.end_npv):>14}{'':>26}"
            f"{self.end_survival:>11.1f}%{'':>18}"
        )
        lines.append(_row("Total difference", self.total_npv, self.total_survival, w))
        lines.append("")
        lines.append(
            "Each step is the paired mean change when the step is switched on (survival "
            "in points); the steps add up to the total."
        )
        flags = self.order_flags
        if flags:
            lines.append("In reverse order some steps differ by more than their noise:")
            lines.extend(f"  {flag}" for flag in flags)
        else:
            lines.append("In reverse order no step differs by more than its noise.")
        lines.append(
            "An order-free alternative is the Shapley average over every order "
            f"(2^{len(self.order)} arms)."
        )
        return "\n".join(lines)

    def to_csv(self) -> str:
        """The attribution as CSV text (``CSV_COLUMNS``), read back by ``read_attribution_csv``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        meta = (
            self.scenario,
            self.arm,
            self.arm_label,
            self.runs,
            self.seed,
            self.horizon_months,
            self.survival_month,
        )
        nothing = Interval(math.nan, math.nan, math.nan)
        rows: list[tuple[str, str, Interval, Interval, Interval, Interval]] = [
            (
                "start",
                "",
                Interval(self.start_npv, math.nan, math.nan),
                nothing,
                Interval(self.start_survival, math.nan, math.nan),
                nothing,
            )
        ]
        for step in self.steps:
            kind = "step" if step.in_arm else "step-off"
            rows.append(
                (
                    kind,
                    step.mechanism,
                    step.npv,
                    step.npv_reverse,
                    step.survival,
                    step.survival_reverse,
                )
            )
        rows.append(
            (
                "end",
                "",
                Interval(self.end_npv, math.nan, math.nan),
                nothing,
                Interval(self.end_survival, math.nan, math.nan),
                nothing,
            )
        )
        rows.append(("total", "", self.total_npv, nothing, self.total_survival, nothing))
        for kind, mechanism, *intervals in rows:
            values = [_number(v) for i in intervals for v in (i.estimate, i.low, i.high)]
            writer.writerow((kind, mechanism, *values, *meta))
        return buffer.getvalue()


def _number(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def _usd(value: float) -> str:
    return f"{value:,.0f}".replace("-", "\u2212")


def _signed(value: float, unit: str) -> str:
    sign = "+" if value >= 0 else "\u2212"
    if unit == "usd":
        return f"{sign}{abs(value):,.0f} USD"
    return f"{sign}{abs(value):.1f} points"


def _row(name: str, npv: Interval, survival: Interval, width: int) -> str:
    npv_range = f"{_signed(npv.low, 'usd')} to {_signed(npv.high, 'usd')}"
    survival_range = f"{_signed_points(survival.low)} to {_signed_points(survival.high)}"
    return (
        f"{name[: width - 1]:<{width}}{_signed(npv.estimate, 'usd').removesuffix(' USD'):>14}"
        f"{npv_range.replace(' USD', ''):>26}{_signed_points(survival.estimate):>12}"
        f"{survival_range:>18}"
    )


def _signed_points(value: float) -> str:
    if math.isnan(value):
        return "-"
    return ("+" if value >= 0 else "\u2212") + f"{abs(value):.1f}"


def _arm_name(direction: str, k: int) -> str:
    return f"attribution-{direction}-{k}"


def counterfactual_scenario(
    scenario: Scenario, arm: str = "franchise", order: Sequence[str] | None = None
) -> tuple[Scenario, dict[str, list[str]]]:
    """The scenario with the counterfactual arms of both orders added.

    Only the independent and ``arm`` are kept of the scenario's own arms (every draw is keyed
    by what it draws, not by the arm, so dropping arms changes no number). Each counterfactual
    arm is a copy of ``arm`` with only the steps switched on so far: a franchise's switches on
    only for those mechanisms (and on in ``arm`` itself), only those relationships' sections
    kept. One whose steps equal an earlier arm's is that arm. An independent arm that without
    its relationships is not the independent starts with a `REST_OF_ARM` step in both orders.

    Args:
        scenario: A validated scenario.
        arm: The arm to attribute: a franchise arm, or one holding other relationships.
        order: Every step of the arm once (`default_order` if not given).

    Returns:
        The scenario, and for ``"forward"`` and ``"reverse"`` the arm names of the chain from
        the independent to ``arm``, one more step each.

    Raises:
        AttributionError: ``arm`` has nothing to attribute, or ``order`` is not every step once.
    """
    spec = scenario.arms.get(arm)
    steps = () if spec is None or arm == BASELINE else default_order(scenario, arm)
    if not steps:
        choices = [n for n in scenario.arms if n != BASELINE and default_order(scenario, n)]
        raise AttributionError(
            f"--arm {arm}: no such arm with a franchise or other relationships; "
            f"arms to attribute are {', '.join(choices) or 'none'}"
        )
    assert spec is not None
    order = steps if order is None else tuple(order)
    if sorted(order) != sorted(steps):
        raise AttributionError(f"the order must name every step once: {', '.join(steps)}")
    names = tuple(Mechanisms.model_fields)
    held = held_relationships(scenario, arm)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    own = data["arms"][arm]
    base = data["arms"][BASELINE]
    has = spec.franchise.mechanisms if spec.franchise is not None else None
    arms: dict[str, Any] = {BASELINE: base, arm: own}

    def key(switched: set[str]) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
        mechanisms = tuple(has is not None and getattr(has, n) and n in switched for n in names)
        return mechanisms, tuple(n in switched for n in held)

    def copy_of(switched: set[str], label: str) -> dict[str, Any]:
        copy = {k: v for k, v in own.items() if k not in held or k in switched}
        copy["label"] = f"{own['label'][:40]}: {label[:200]}"
        if has is not None:
            mechanisms = dict(zip(names, key(switched)[0], strict=True))
            copy["franchise"] = {**own["franchise"], "mechanisms": mechanisms}
        return copy

    by_steps = {key(set(steps)): arm}
    bare = copy_of(set(), "nothing switched on")
    rest = has is None and _differs(bare, base)
    chains: dict[str, list[str]] = {}
    for direction, sequence in (("forward", list(order)), ("reverse", list(reversed(order)))):
        chain = [BASELINE] if rest else []
        for k in range(len(sequence) + 1):
            switched = set(sequence[:k])
            if key(switched) not in by_steps:
                name = _arm_name(direction, k)
                arms[name] = copy_of(switched, ", ".join(sequence[:k]) or "nothing switched on")
                by_steps[key(switched)] = name
            chain.append(by_steps[key(switched)])
        chains[direction] = chain
    data["arms"] = arms
    return Scenario.model_validate(data), chains


def _differs(arm: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Whether two arms' data differ in more than their labels."""
    drop = ("label",)
    return {k: v for k, v in arm.items() if k not in drop} != {
        k: v for k, v in baseline.items() if k not in drop
    }


def _steps(
    values: NDArray[np.float64], chain: list[str], results: SimulationResults
) -> list[Interval]:
    rows = [values[results.arm_index(name)] for name in chain]
    return [paired_difference(after, before) for before, after in pairwise(rows)]


def attribution_from_results(
    results: SimulationResults,
    arm: str,
    chains: Mapping[str, list[str]],
    order: Sequence[str],
    *,
    scenario_name: str,
    arm_label: str,
) -> Attribution:
    """The attribution from a run of ``counterfactual_scenario``'s arms.

    Args:
        results: The run.
        arm: The arm attributed.
        chains: ``counterfactual_scenario``'s arm chains.
        order: The order used (a `REST_OF_ARM` step, where the chains start with one, comes
            first without being named here).
        scenario_name: The scenario's name, for the tables.
        arm_label: The arm's label, for the tables.

    Returns:
        The attribution.
    """
    month = min(SURVIVAL_MONTH, results.horizon_months)
    npv = results.outcomes["npv"]
    alive = 100.0 * results.alive_at(month)
    base, top = results.arm_index(BASELINE), results.arm_index(arm)
    has = results.scenario.arms[arm].franchise
    first = (REST_OF_ARM,) if chains["forward"][0] == BASELINE else ()
    order = (*first, *(m for m in order if m != REST_OF_ARM))

    def by_step(sequence: Sequence[str], chain: Any) -> dict[str, Any]:
        """Each step's NPV and survival change along one chain of arms."""
        steps = zip(_steps(npv, chain, results), _steps(alive, chain, results), strict=True)
        return dict(zip(sequence, steps, strict=True))

    forward = by_step(order, chains["forward"])
    reverse = by_step((*first, *reversed(order[len(first) :])), chains["reverse"])
    steps = tuple(
        Step(
            mechanism=m,
            npv=forward[m][0],
            survival=forward[m][1],
            npv_reverse=reverse[m][0],
            survival_reverse=reverse[m][1],
            in_arm=has is None or bool(getattr(has.mechanisms, m, True)),
        )
        for m in order
    )
    return Attribution(
        scenario=scenario_name,
        arm=arm,
        arm_label=arm_label,
        order=tuple(order),
        steps=steps,
        start_npv=mean_interval(npv[base]).estimate,
        end_npv=mean_interval(npv[top]).estimate,
        start_survival=float(alive[base].mean()),
        end_survival=float(alive[top].mean()),
        total_npv=paired_difference(npv[top], npv[base]),
        total_survival=paired_difference(alive[top], alive[base]),
        runs=results.runs,
        seed=results.seed,
        horizon_months=results.horizon_months,
        survival_month=month,
    )


def attribute(
    scenario: Scenario,
    arm: str = "franchise",
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    horizon_months: int | None = None,
    order: Sequence[str] | None = None,
    progress: Progress | None = None,
    executor: Executor | Client | None = None,
    summary_only: bool = False,
) -> Attribution:
    """Where the paired difference between ``arm`` and the independent comes from.

    Adds the counterfactual arms (``counterfactual_scenario``) and simulates them once with the
    independent and ``arm`` (common random numbers), in ``order`` and in reverse.

    Args:
        scenario: A validated scenario.
        arm: The arm to attribute: a franchise arm, or one holding other relationships.
        runs: Paired replications per arm; the scenario's ``run.runs`` if not given.
        seed: Master seed; the scenario's ``run.seed`` if not given.
        workers: Processes to use (see ``simulate``).
        horizon_months: Months to simulate; the scenario's if not given.
        order: The steps in the order switched on (`default_order`).
        progress: Called with the number of replications just finished.
        executor: Where to run the batches (see ``simulate``).
        summary_only: Keep no monthly books (see ``simulate``): the attribution reads only
            the outcomes and survival, which are the same.

    Returns:
        The attribution: start, one step per mechanism, end and total, NPV and survival.

    Raises:
        AttributionError: ``arm`` has nothing to attribute, or ``order`` is not every step once.
    """
    extended, chains = counterfactual_scenario(scenario, arm, order)
    results = simulate(
        extended,
        runs=runs,
        seed=seed,
        workers=workers,
        horizon_months=horizon_months,
        progress=progress,
        executor=executor,
        summary_only=summary_only,
    )
    return attribution_from_results(
        results,
        arm,
        chains,
        default_order(scenario, arm) if order is None else order,
        scenario_name=scenario.name,
        arm_label=scenario.arm(arm).label,
    )


def attributable_arms(scenario: Scenario) -> tuple[str, ...]:
    """Every arm besides the independent with a franchise or other relationships, in order."""
    return tuple(n for n in scenario.arms if n != BASELINE and default_order(scenario, n))


def default_arm(scenario: Scenario) -> str:
    """The arm a report attributes.

    ``franchise`` if there is one, else the first franchise arm, else the first arm holding
    other relationships.

    Raises:
        AttributionError: No arm has anything to attribute.
    """
    names = [n for n, s in scenario.arms.items() if s.franchise is not None]
    if "franchise" in names:
        return "franchise"
    if names:
        return names[0]
    held = [n for n in scenario.arms if n != BASELINE and held_relationships(scenario, n)]
    if not held:
        raise AttributionError("no arm has a franchise or other relationships to attribute")
    return held[0]


def read_attribution_csv(text: str, where: str = "attribution.csv") -> Attribution:
    """An attribution from the text ``Attribution.to_csv`` wrote.

    Raises:
        AttributionError: The text is not one such table (``where`` names it in the message).
    """
    found = read_attributions_csv(text, where)
    if len(found) != 1:
        raise AttributionError(f"{where}: holds {len(found)} arms' attributions, not one")
    return found[0]


def as_attributions(
    attribution: Attribution | Sequence[Attribution] | None,
) -> tuple[Attribution, ...]:
    """One attribution, several or none, as a tuple."""
    if attribution is None:
        return ()
    if isinstance(attribution, Attribution):
        return (attribution,)
    return tuple(attribution)


def attributions_csv(attributions: Sequence[Attribution]) -> str:
    """Several arms' attributions as one CSV text: one header, each arm's rows in turn."""
    parts = [a.to_csv() for a in attributions]
    return parts[0] + "".join(p.split("\n", 1)[1] for p in parts[1:]) if parts else ""


def read_attributions_csv(text: str, where: str = "attribution.csv") -> tuple[Attribution, ...]:
    """Every arm's attribution in the text `attributions_csv` (or ``to_csv``) wrote, in order.

    Raises:
        AttributionError: The text is not such a table (``where`` names it in the message).
    """
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or tuple(rows[0].keys()) != CSV_COLUMNS:
            raise AttributionError(f"{where}: not an attribution table (its columns differ)")
    except (KeyError, ValueError, TypeError, csv.Error) as exc:
        if isinstance(exc, AttributionError):
            raise
        raise AttributionError(f"{where}: not a readable attribution table ({exc})") from None
    tables: list[list[dict[str, str]]] = []
    for row in rows:
        if row["row"] == "start" or not tables:
            tables.append([])
        tables[-1].append(row)
    return tuple(_attribution_of(table, where) for table in tables)


def _attribution_of(rows: list[dict[str, str]], where: str) -> Attribution:
    """One arm's attribution from its rows (start, steps, end, total)."""
    try:

        def interval(row: dict[str, str], prefix: str, unit: str) -> Interval:
            def value(name: str) -> float:
                cell = row[name]
                return math.nan if cell == "" else float(cell)

            return Interval(
                value(f"{prefix}_{unit}"),
                value(f"{prefix}_low_{unit}"),
                value(f"{prefix}_high_{unit}"),
            )

        kinds = [row["row"] for row in rows]
        if kinds[0] != "start" or kinds[-2:] != ["end", "total"]:
            raise AttributionError(f"{where}: rows must run start, steps, end, total")
        steps = tuple(
            Step(
                mechanism=row["mechanism"],
                npv=interval(row, "npv", "usd"),
                survival=interval(row, "survival", "points"),
                npv_reverse=interval(row, "npv_reverse", "usd"),
                survival_reverse=interval(row, "survival_reverse", "points"),
                in_arm=row["row"] == "step",
            )
            for row in rows[1:-2]
        )
        if any(row["row"] not in ("step", "step-off") for row in rows[1:-2]):
            raise AttributionError(f"{where}: rows must run start, steps, end, total")
        first, end, total = rows[0], rows[-2], rows[-1]
        return Attribution(
            scenario=first["scenario"],
            arm=first["arm"],
            arm_label=first["arm_label"],
            order=tuple(step.mechanism for step in steps),
            steps=steps,
            start_npv=float(first["npv_usd"]),
            end_npv=float(end["npv_usd"]),
            start_survival=float(first["survival_points"]),
            end_survival=float(end["survival_points"]),
            total_npv=interval(total, "npv", "usd"),
            total_survival=interval(total, "survival", "points"),
            runs=int(first["runs"]),
            seed=int(first["seed"]),
            horizon_months=int(first["horizon_months"]),
            survival_month=int(first["survival_month"]),
        )
    except (KeyError, ValueError, TypeError, csv.Error) as exc:
        if isinstance(exc, AttributionError):
            raise
        raise AttributionError(f"{where}: not a readable attribution table ({exc})") from None
