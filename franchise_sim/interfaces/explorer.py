"""Explore a scenario in Jupyter: sliders for its key assumptions, the comparison redrawn live.

``explore(scenario)`` shows a slider for each key assumption of each arm (royalty, ad fund,
initial fee, brand head start and customization limit of a franchise; starting capital and loan
rate of every arm) and of the market (households), with ranges chosen from the scenario's own
values. Each change re-runs a few hundred paired replications and redraws the customer and
cash-flow fans, the survival curve and the headline numbers, in about a second on two cores.

The widget-free part is plain Python and needs no ipywidgets: ``Control`` and ``controls_for``
choose the sliders, ``scenario_for`` builds the scenario a set of slider values describes, and
``picture`` and ``headline`` draw what the explorer shows.

How it stays responsive: a slider only records the newest values and wakes one background
thread. After a short pause (the debounce) the thread simulates the newest values; if a slider
moves again while it runs, the run is abandoned at its next finished batch (batches not yet
started are cancelled) and the newest values run instead. A stale run is never drawn. The
process pool is kept between runs, shared by every open explorer with the same worker count.
"""

from __future__ import annotations

import html
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from matplotlib.figure import Figure

from franchise_sim.analysis.comparison import (
    BASELINE,
    Comparison,
    compare,
    number_text,
    period,
    signed_text,
)
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.outputs import figures
from franchise_sim.scenario.changes import value_at, with_changes
from franchise_sim.scenario.distributions import DistributionModel, mean_of, support_of, with_mean
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.shelf import load_scenario

Kind = Literal["percent", "usd", "count", "per_month"]
"""How a control's value reads: a share as a percent, dollars, a count, a monthly chance."""

MARKET = "Market"
"""The heading of the controls every arm shares."""

RUNS = 500
"""Paired replications per update: enough for smooth fans, fast enough to follow a slider."""

DEBOUNCE_SECONDS = 0.2
"""Pause after the last slider change before a run starts."""

PICTURE_SIZE = (12.0, 3.6)
"""Inches of the three-panel picture."""

PICTURE_DPI = 100
"""Resolution of the picture's PNG: 1,200 by 360 pixels."""

INSTALL_HINT = "explore() needs ipywidgets: pip install 'franchise-sim[notebook]'"


# --- which sliders, over which ranges (no widgets) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Control:
    """One slider: the field it moves, its range and step, and how its value reads.

    Attributes:
        path: Dotted field path as ``Scenario.with_changes`` takes it.
        label: The control in words with its arm, e.g. ``"Franchise: royalty"``.
        low: Smallest value of the slider.
        high: Largest value of the slider.
        step: Step of the slider.
        value: The scenario's current value (its mean when the field is uncertain).
        kind: How the value reads (``percent``, ``usd``, ``count`` or ``per_month``).
        group: Heading the control sits under: an arm's label or ``"Market"``.
        name: Short name shown on the slider under its heading, e.g. ``"Royalty"``.
        uncertain: The field is a distribution; the slider moves its mean.
        help: One sentence on what the field means, shown when hovering over the slider.
    """

    path: str
    label: str
    low: float
    high: float
    step: float
    value: float
    kind: Kind
    group: str
    name: str
    uncertain: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if not (self.step > 0 and self.low <= self.value <= self.high):
            raise ValueError(
                f"{self.path}: needs step > 0 and low <= value <= high, got "
                f"{self.low} <= {self.value} <= {self.high} by {self.step}"
            )

    @property
    def decimals(self) -> int:
        """Decimals the step needs (of the percent for shares and chances)."""
        unit = self.step * 100 if self.kind in ("percent", "per_month") else self.step
        return max(0, math.ceil(-math.log10(unit) - 1e-9))

    @property
    def readout_format(self) -> str:
        """The value's format for the slider's readout (a d3-format string)."""
        if self.kind in ("percent", "per_month"):
            return f".{self.decimals}%"
        return f"{'$' if self.kind == 'usd' else ''},.{self.decimals}f"

    def format(self, value: float | None = None) -> str:
        """A value (the current one if not given) as the slider shows it: ``6.0%``, ``$35,000``."""
        x = self.value if value is None else value
        if self.kind in ("percent", "per_month"):
            return f"{x:.{self.decimals}%}"
        text = f"{abs(x):,.{self.decimals}f}"
        sign = "-" if x < 0 else ""
        return f"{sign}${text}" if self.kind == "usd" else f"{sign}{text}"


@dataclass(frozen=True, slots=True)
class _ArmControl:
    """Which field of an arm a slider moves, and over what range of its current value."""

    field: str  # path inside the arm, the ``franchise.`` step left out
    name: str
    kind: Kind
    span: Callable[[float], tuple[float, float]] | None  # None: up to the arm's investment
    help: str
    step: float | None = None


FRANCHISE_CONTROLS: tuple[_ArmControl, ...] = (
    _ArmControl(
        "royalty_rate",
        "Royalty",
        "percent",
        lambda v: (0.0, 0.15),
        "Royalty as a share of gross sales.",
        step=0.001,
    ),
    _ArmControl(
        "ad_fund_rate",
        "Ad fund",
        "percent",
        lambda v: (0.0, 0.06),
        "Ad-fund contribution as a share of gross sales.",
        step=0.001,
    ),
    _ArmControl(
        "initial_fee_usd",
        "Initial fee",
        "usd",
        lambda v: (0.0, max(2.0 * v, 50_000.0)),
        "Initial franchise fee, paid at signing (part of the investment).",
    ),
    _ArmControl(
        "brand_awareness_p_per_month",
        "Brand head start",
        "per_month",
        lambda v: (0.0, 3.0 * v if v > 0 else 0.05),
        "Monthly chance that a household tries the business because it already knows the "
        "brand (Bass p added by the brand).",
    ),
    _ArmControl(
        "customization_limit",
        "Customization",
        "percent",
        lambda v: (0.0, 1.0),
        "How far the unit may adapt its offer to local tastes (100% = fully).",
        step=0.01,
    ),
)
"""The sliders of every franchise arm: its terms and what the brand brings."""

ARM_CONTROLS: tuple[_ArmControl, ...] = (
    _ArmControl(
        "financing.owner_equity_usd",
        "Starting capital",
        "usd",
        None,
        "Owner's own money put in at the start; the investment is ${investment:,.0f} and a "
        "loan covers the rest.",
    ),
    _ArmControl(
        "financing.loan_rate_per_year",
        "Loan rate",
        "percent",
        lambda v: (0.0, 0.15),
        "Nominal annual interest rate of the start-up loan.",
        step=0.001,
    ),
)
"""The sliders of every arm: how it is financed."""


def controls_for(scenario: Scenario) -> tuple[Control, ...]:
    """The sliders of a scenario: the market, then every arm (``independent`` first).

    Ranges follow the scenario's own values and always contain them: royalty 0-15%, ad fund
    0-6%, initial fee 0 to twice the fee (at least 50,000 USD), brand head start 0 to three
    times its value (0-5% a month when it is 0), customization 0-100%, households a quarter to
    twice the value, starting capital 0 to the larger of twice the value and the arm's total
    investment, loan rate 0-15%. A range widens to take a value outside it.

    Args:
        scenario: The scenario to explore.

    Returns:
        The market's control, then for each franchise arm its royalty, ad fund, initial fee,
        brand head start and customization limit, and for every arm its starting capital and
        loan rate.
    """
    controls = [
        _control(
            scenario,
            "market.households",
            MARKET,
            "Households",
            "count",
            lambda v: (0.25 * v, 2.0 * v),
            help="Households within reach of the location.",
            floor_at_step=True,
        )
    ]
    for arm in scenario.resolved_arms():
        investment = arm.total_investment_usd()
        specs = (FRANCHISE_CONTROLS if arm.is_franchise else ()) + ARM_CONTROLS
        for spec in specs:
            span = spec.span if spec.span is not None else partial(_up_to_investment, investment)
            helped = spec.help.format(investment=investment)
            controls.append(
                _control(
                    scenario,
                    f"arms.{arm.name}.{spec.field}",
                    arm.label,
                    spec.name,
                    spec.kind,
                    span,
                    step=spec.step,
                    help=helped,
                )
            )
    return tuple(controls)


def _up_to_investment(investment: float, value: float) -> tuple[float, float]:
    """Starting capital from 0 to twice its value or the whole investment, if more."""
    return (0.0, max(2.0 * value, investment))


def _control(
    scenario: Scenario,
    path: str,
    group: str,
    name: str,
    kind: Kind,
    span: Callable[[float], tuple[float, float]],
    *,
    step: float | None = None,
    help: str = "",
    floor_at_step: bool = False,
) -> Control:
    """A control over ``span(value)``, widened to hold the value and aligned to its step."""
    raw = value_at(scenario, path)
    value = mean_of(raw)
    lo_support, hi_support = support_of(raw)
    low, high = span(value)
    low, high = min(low, value), max(high, value)
    step = step if step is not None else _nice_step((high - low) / 200)
    low = _tidy(step * math.floor(low / step + 1e-9))
    high = _tidy(step * math.ceil(high / step - 1e-9))
    if floor_at_step and low < step <= value:
        low = step
    uncertain = lo_support != hi_support
    return Control(
        path=path,
        label=f"{group}: {name.lower()}" + (" (mean)" if uncertain else ""),
        low=min(low, value),
        high=max(high, value),
        step=step,
        value=value,
        kind=kind,
        group=group,
        name=name + (" (mean)" if uncertain else ""),
        uncertain=uncertain,
        help=help,
    )


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= raw * (1 - 1e-9):
            return _tidy(factor * power)
    return _tidy(10.0 * power)  # pragma: no cover - the loop always returns


def _tidy(x: float) -> float:
    """``x`` without the float noise of step arithmetic (``0.15000000000000002`` is ``0.15``)."""
    return float(f"{x:.12g}")


def scenario_for(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with the fields at the given paths set to the given values.

    A field holding a distribution keeps its family, moved so its mean is the value (see
    ``distributions.with_mean``); where the family cannot have that mean, or its moved spread
    would leave the field's allowed range (a share's beyond 1), the field is fixed at the value.
    A value equal to the field's current one (its mean) leaves the field exactly as it is.

    Args:
        scenario: The scenario to start from; it is not changed.
        values: Dotted field paths (as ``Scenario.with_changes`` takes them) and new values.

    Returns:
        The changed, validated scenario (``scenario`` itself when nothing changes).

    Raises:
        ScenarioError: A path names no numeric field, or the values make the scenario invalid;
            the message names the field and says what is wrong.
    """
    changes: dict[str, Any] = {}
    moved: list[str] = []
    for path, value in values.items():
        current = value_at(scenario, path)
        if isinstance(current, bool) or not isinstance(current, int | float | DistributionModel):
            raise ScenarioError(f"{path}: not a number or a distribution; a slider cannot move it")
        if mean_of(current) == value:
            continue
        if isinstance(current, int) and float(value).is_integer():
            changes[path] = int(value)
        elif isinstance(current, DistributionModel):
            try:
                changes[path] = with_mean(current, float(value))
                moved.append(path)
            except ValueError:
                changes[path] = float(value)
        else:
            changes[path] = float(value)
    if not changes:
        return scenario
    try:
        return with_changes(scenario, changes)
    except ScenarioError:
        if not moved:
            raise
    for path in moved:  # a moved spread may leave its field's range: fix such fields instead
        try:
            with_changes(scenario, {path: changes[path]})
        except ScenarioError:
            changes[path] = float(values[path])
    return with_changes(scenario, changes)


# --- what the explorer shows (no widgets) ------------------------------------------------------


def picture(results: SimulationResults) -> Figure:
    """The explorer's figure: customer fan, cash-flow fan and survival side by side.

    Lighter than the report's figures: fixed margins instead of a layout engine, and one legend
    (the survival panel's, which names the arms and the BLS curve of the scenario's sector).

    Args:
        results: The results to draw.

    Returns:
        A matplotlib figure (not registered with pyplot).
    """
    figure = Figure(figsize=PICTURE_SIZE)
    figure.subplots_adjust(left=0.055, right=0.98, bottom=0.2, top=0.84, wspace=0.3)
    left, middle, right = figure.subplots(1, 3)
    figures.customers(results, left)
    figures.cash_flow(results, middle)
    figures.survival(results, right)
    shown = figures.fan_note(results, brief=True)
    left.set_title(f"Active customers, open businesses\n({shown})")
    middle.set_title(f"Monthly cash flow after loan payments,\nbefore owner's pay ({shown})")
    right.set_title("Share of businesses still open")
    for ax in (left, middle, right):
        ax.title.set_fontsize(10)
        ax.xaxis.label.set_fontsize(9)
        ax.yaxis.label.set_fontsize(9)
        ax.tick_params(labelsize=8)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    handles, labels = right.get_legend_handles_labels()
    labels = ["BLS survival of the sector" if t.startswith("BLS") else t for t in labels]
    right.legend(handles, labels, loc="best", fontsize=7.5)
    return figure


def headline(
    results: SimulationResults,
    comparison: Comparison | None = None,
    seconds: float | None = None,
) -> str:
    """The headline numbers as an HTML table: survival, median NPV, paired NPV difference.

    Args:
        results: The results summarised.
        comparison: Their comparison, if already computed.
        seconds: Time the update took, shown under the table if given.

    Returns:
        HTML: share open after one year and at the horizon per arm, the owner's median NPV,
        each franchise arm's paired NPV difference with the independent (mean and 95% CI)
        and the share of runs where its NPV is higher; then the runs, horizon and seed.
    """
    comparison = comparison or compare(results)
    colours = figures.arm_colours(results.arms)
    months = sorted({m for m in (12, results.horizon_months) if m <= results.horizon_months})
    contrasts = {c.arm: c for c in comparison.contrasts}
    cell = 'style="text-align:right;padding:1px 10px"'
    first = 'style="text-align:left;padding:1px 10px 1px 0"'
    head = "".join(
        f'<th {cell}><span style="color:{colours[a.arm]}">&#9632;</span> {html.escape(a.label)}'
        "</th>"
        for a in comparison.arms
    )
    rows = [f"<tr><th {first}></th>{head}</tr>"]

    def row(name: str, cells: Iterable[str]) -> None:
        tds = "".join(f"<td {cell}>{c}</td>" for c in cells)
        rows.append(f"<tr><td {first}>{html.escape(name)}</td>{tds}</tr>")

    for month in months:
        row(f"Open after {period(month)}", [f"{a.survival[month]:.1%}" for a in comparison.arms])
    rate = f"{comparison.discount_rate_per_year:.0%}"
    row(f"Owner's NPV at {rate}, USD: median", [number_text(a.npv.median) for a in comparison.arms])
    blank = "&ndash;"
    row(
        f"NPV minus {results.labels[BASELINE].lower()}: paired mean (95% CI)",
        [
            blank
            if a.arm not in contrasts
            else f"{signed_text(contrasts[a.arm].npv.estimate)} "
            f"({signed_text(contrasts[a.arm].npv.low)} to "
            f"{signed_text(contrasts[a.arm].npv.high)})"
            for a in comparison.arms
        ],
    )
    row(
        "Runs where its NPV is higher",
        [
            blank if a.arm not in contrasts else f"{contrasts[a.arm].probability_npv_better:.0%}"
            for a in comparison.arms
        ],
    )
    note = f"{results.runs:,} paired runs x {results.horizon_months} months, seed {results.seed}"
    if seconds is not None:
        note += f"; updated in {seconds:.1f} s"
    return (
        f'<table style="border-collapse:collapse;font-size:13px">{"".join(rows)}</table>'
        f'<div style="color:#666;font-size:12px">{html.escape(note)}</div>'
    )


# --- the widgets -------------------------------------------------------------------------------


class _SupersededError(Exception):
    """A newer request (or closing) makes the run in progress stale."""


@dataclass(frozen=True, slots=True)
class _Shown:
    """Everything one update puts on screen."""

    scenario: Scenario
    results: SimulationResults
    comparison: Comparison
    png: bytes
    headline: str
    seconds: float


class Explorer:
    """Sliders for a scenario's key assumptions, with the comparison redrawn as they move.

    Made by ``explore``; shows itself when it is the last expression of a Jupyter cell (or via
    ``display(explorer)``). It stays live until ``close()`` or the end of the Python session.

    Attributes:
        base: The scenario explored; the sliders start at its values.
        controls: The sliders' specifications.
        runs: Paired replications per update.
        seed: Master seed of every update.
        workers: Processes simulating (1: in the background thread itself).
        horizon_months: Months simulated (None: the scenario's).
        debounce_seconds: Pause after the last change before a run starts.
        sliders: The slider widgets by field path.
        image: The picture's widget.
        widget: The root widget (controls, status, headline, picture).
        scenario: The scenario the picture shows.
        results: The results the picture shows.
        comparison: Their headline comparison.
        requests: Slider changes received.
        updates: Pictures drawn after a change (the first picture is not counted).
        runs_started: Runs started after a change.
        runs_cancelled: Runs abandoned or discarded because a newer change came.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        runs: int = RUNS,
        seed: int | None = None,
        workers: int | None = None,
        horizon_months: int | None = None,
        debounce_seconds: float = DEBOUNCE_SECONDS,
        controls: Iterable[Control] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Build the widgets, draw the first picture and start the background thread.

        Args:
            scenario: The scenario to explore.
            runs: Paired replications per update.
            seed: Master seed; the scenario's ``run.seed`` if not given. Every update uses it,
                so a change shows its effect, not new luck.
            workers: Processes to simulate with; all cores if not given, in-process when 1.
            horizon_months: Months simulated; the scenario's if not given.
            debounce_seconds: Pause after the last change before a run starts.
            controls: The sliders; ``controls_for(scenario)`` if not given.
            progress: Optional callback, from the background thread, after each finished batch
                of a run with the replications done so far.

        Raises:
            ImportError: ipywidgets is not installed.
            ValueError: ``runs``, ``workers`` or ``debounce_seconds`` out of range.
        """
        widgets = _ipywidgets()
        workers = (os.cpu_count() or 1) if workers is None else workers
        if runs < 1 or workers < 1 or debounce_seconds < 0:
            raise ValueError("runs and workers must be >= 1 and debounce_seconds >= 0")
        self.base = scenario
        self.controls = tuple(controls_for(scenario) if controls is None else controls)
        self.runs = runs
        self.seed = scenario.run.seed if seed is None else seed
        self.workers = workers
        self.horizon_months = horizon_months
        self.debounce_seconds = debounce_seconds
        self._progress = progress
        self._wake = threading.Condition(threading.RLock())
        self._stop = threading.Event()
        self._values = {c.path: c.value for c in self.controls}
        self._changed_at = 0.0
        self._handled = 0
        self._busy = False
        self.requests = 0
        self.updates = 0
        self.runs_started = 0
        self.runs_cancelled = 0
        self._status = ""

        self.sliders = {c.path: _slider(widgets, c) for c in self.controls}
        self._status_widget = widgets.HTML()
        self._headline_widget = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [_group(widgets, g, self.controls, self.sliders) for g in _groups(self)],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self._status_widget,
                self._headline_widget,
                self.image,
            ]
        )

        self._lease = _Lease(workers)
        try:
            self._show(self._compute(scenario, lambda: False))
        except BaseException:
            self._lease.release()
            raise
        self._thread = threading.Thread(target=self._loop, name="franchise-sim explorer")
        self._thread.daemon = True
        self._closer = weakref.finalize(
            self, _shut_down, self._stop, self._wake, self._thread, self._lease
        )
        self._thread.start()
        for path, slider in self.sliders.items():
            slider.observe(partial(self._on_change, path), names="value")

    # -- what a notebook and a script see --

    @property
    def status(self) -> str:
        """The status line as text: ``running…``, ``500 paired runs in 1.1 s`` or a problem."""
        return self._status

    @property
    def values(self) -> dict[str, float]:
        """The newest slider values by field path."""
        with self._wake:
            return dict(self._values)

    @property
    def png(self) -> bytes:
        """The picture on screen as PNG bytes."""
        return self._png

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """Display as the root widget in Jupyter (and as its ``repr`` where widgets cannot)."""
        bundle: dict[str, Any] | None = self.widget._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.status
        return f"<Explorer {self.base.name!r}: {len(self.controls)} controls; {state}>"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every change so far is handled (drawn, superseded or reported).

        Args:
            timeout: Most seconds to wait; no limit if not given.

        Returns:
            True when idle, False if the timeout passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._wake:
            while (self._busy or self._handled < self.requests) and not self._stop.is_set():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._wake.wait(remaining)
        return True

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has stopped the explorer."""
        return self._stop.is_set()

    def close(self) -> None:
        """Stop the background thread, release the process pool and freeze the sliders.

        The picture stays as it is. Safe to call more than once; also done when Python exits.
        """
        self._closer()
        for slider in self.sliders.values():
            slider.disabled = True
        self._set_status(f"Closed. {self._status}" if self._status else "Closed.")

    # -- the background thread --

    def _on_change(self, path: str, change: Mapping[str, Any]) -> None:
        """A slider moved: record its value and wake the thread (nothing else on this thread)."""
        with self._wake:
            if self._stop.is_set():
                return
            self._values[path] = float(change["new"])
            self.requests += 1
            self._changed_at = time.monotonic()
            self._wake.notify_all()

    def _loop(self) -> None:
        """Wait for changes; after the debounce pause, run the newest values."""
        while True:
            with self._wake:
                while not self._stop.is_set() and self._handled >= self.requests:
                    self._wake.wait()
                while not self._stop.is_set():
                    pause = self._changed_at + self.debounce_seconds - time.monotonic()
                    if pause <= 0:
                        break
                    self._wake.wait(pause)
                if self._stop.is_set():
                    return
                generation = self.requests
                values = dict(self._values)
                self._busy = True
            try:
                self._update(generation, values)
            except BaseException as exc:  # the thread must outlive any one update
                self._set_status(f"Not redrawn: {type(exc).__name__}: {exc}", error=True)
            finally:
                with self._wake:
                    self._busy = False
                    self._handled = generation
                    self._wake.notify_all()

    def _update(self, generation: int, values: Mapping[str, float]) -> None:
        """Simulate and draw one request, unless a newer one makes it stale first."""

        def stale() -> bool:
            return self._stop.is_set() or self.requests != generation

        try:
            scenario = scenario_for(self.base, values)
        except ScenarioError as exc:
            if not stale():
                self._set_status(f"Not redrawn: {exc}", error=True)
            return
        with self._wake:
            self.runs_started += 1
        self._set_status("running…")
        try:
            shown = self._compute(scenario, stale)
        except _SupersededError:
            with self._wake:
                self.runs_cancelled += 1
            return
        except BrokenExecutor as exc:
            self._lease.renew()
            self._set_status(
                f"Not redrawn: the worker processes stopped ({exc}); move a slider to try again",
                error=True,
            )
            return
        except Exception as exc:
            if not stale():
                self._set_status(f"Not redrawn: {type(exc).__name__}: {exc}", error=True)
            return
        with self._wake:
            if stale():
                self.runs_cancelled += 1
                return
            self._show(shown)
            self.updates += 1

    def _compute(self, scenario: Scenario, stale: Callable[[], bool]) -> _Shown:
        """Simulate, draw and summarise; raise ``_SupersededError`` as soon as ``stale()`` holds."""
        started = time.perf_counter()
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            done += count
            if self._progress is not None:
                self._progress(done)
            if stale():
                raise _SupersededError
            self._set_status(f"running… {done / self.runs:.0%}")

        results = simulate(
            scenario,
            runs=self.runs,
            seed=self.seed,
            workers=self.workers,
            horizon_months=self.horizon_months,
            progress=progress,
            executor=self._lease.pool,
        )
        if stale():
            raise _SupersededError
        image = figures.png_bytes(picture(results), dpi=PICTURE_DPI)
        comparison = compare(results)
        seconds = time.perf_counter() - started
        return _Shown(
            scenario, results, comparison, image, headline(results, comparison, seconds), seconds
        )

    def _show(self, shown: _Shown) -> None:
        """Put one update on screen."""
        self.scenario = shown.scenario
        self.results = shown.results
        self.comparison = shown.comparison
        self._png = shown.png
        self.image.value = shown.png
        self._headline_widget.value = shown.headline
        self._set_status(f"{shown.results.runs:,} paired runs in {shown.seconds:.1f} s")

    def _set_status(self, text: str, *, error: bool = False) -> None:
        """Show a status line (a problem in red, never a traceback)."""
        self._status = text
        body = html.escape(text).replace("\n", "<br>")
        colour = "#b00020" if error else "#555555"
        self._status_widget.value = f'<span style="color:{colour}">{body}</span>'


def explore(
    scenario: Scenario | str | os.PathLike[str],
    *,
    runs: int = RUNS,
    seed: int | None = None,
    workers: int | None = None,
    horizon_months: int | None = None,
    debounce_seconds: float = DEBOUNCE_SECONDS,
    controls: Iterable[Control] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Explorer:
    """Explore a scenario in Jupyter: sliders for its key assumptions, redrawn as they move.

    Shows the first picture at once; each change then re-runs ``runs`` paired replications
    (with the same seed, so a change shows its effect rather than new luck) and redraws.

    Args:
        scenario: A scenario, a scenario file or the name of a shipped scenario.
        runs: Paired replications per update.
        seed: Master seed; the scenario's ``run.seed`` if not given.
        workers: Processes to simulate with; all cores if not given, in-process when 1.
        horizon_months: Months simulated; the scenario's if not given.
        debounce_seconds: Pause after the last change before a run starts.
        controls: The sliders; ``controls_for(scenario)`` if not given.
        progress: Optional callback, from the background thread, after each finished batch of
            a run with the replications done so far.

    Returns:
        The explorer; the last expression of a cell shows it. ``close()`` it when done.

    Raises:
        ImportError: ipywidgets is not installed.
        ScenarioError: A file or name given is not a valid scenario.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(os.fspath(scenario))
    return Explorer(
        scenario,
        runs=runs,
        seed=seed,
        workers=workers,
        horizon_months=horizon_months,
        debounce_seconds=debounce_seconds,
        controls=controls,
        progress=progress,
    )


def _ipywidgets() -> Any:
    """The ipywidgets module, imported only when an explorer is made."""
    try:
        import ipywidgets  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return ipywidgets


def _slider(widgets: Any, control: Control) -> Any:
    """A slider for a control; it reports a value only when released."""
    return widgets.FloatSlider(
        value=control.value,
        min=control.low,
        max=control.high,
        step=control.step,
        description=control.name,
        tooltip=control.help or control.label,
        readout_format=control.readout_format,
        continuous_update=False,
        style={"description_width": "11em"},  # room for "Households (mean)"
        layout=widgets.Layout(width="27em"),
    )


def _groups(explorer: Explorer) -> list[str]:
    """Headings in the order their first control comes."""
    return list(dict.fromkeys(c.group for c in explorer.controls))


def _group(
    widgets: Any, group: str, controls: Iterable[Control], sliders: Mapping[str, Any]
) -> Any:
    """One heading and its sliders."""
    heading = widgets.HTML(f"<b>{html.escape(group)}</b>")
    return widgets.VBox(
        [heading, *(sliders[c.path] for c in controls if c.group == group)],
        layout=widgets.Layout(margin="0 24px 8px 0"),
    )


def _shut_down(
    stop: threading.Event, wake: threading.Condition, thread: threading.Thread, lease: _Lease
) -> None:
    """Stop an explorer's thread and release its pool (from ``close()`` or when Python exits)."""
    stop.set()
    with wake:
        wake.notify_all()
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout=5.0)
    lease.release()


# --- the process pool, shared by open explorers with the same worker count --------------------

_POOL_LOCK = threading.Lock()
_POOLS: dict[int, tuple[ProcessPoolExecutor, int]] = {}
"""Worker count -> (pool, explorers using it)."""


class _Lease:
    """One explorer's hold on the shared pool of its worker count (none when in-process)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = _lease_pool(workers) if workers > 1 else None

    def renew(self) -> None:
        """Replace a broken pool with a new one."""
        if self.pool is not None:
            _discard_pool(self.pool)
            self.pool = _lease_pool(self.workers)

    def release(self) -> None:
        """Let the pool go; the last explorer using it shuts it down."""
        pool, self.pool = self.pool, None
        if pool is not None:
            _return_pool(pool)


def _lease_pool(workers: int) -> ProcessPoolExecutor:
    """The shared pool with ``workers`` processes, made if there is none."""
    with _POOL_LOCK:
        pool, users = _POOLS.get(workers, (None, 0))
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=workers)
        _POOLS[workers] = (pool, users + 1)
        return pool


def _return_pool(pool: ProcessPoolExecutor) -> None:
    """One explorer is done with a pool; the last one shuts it down."""
    with _POOL_LOCK:
        for workers, (shared, users) in list(_POOLS.items()):
            if shared is pool and users > 1:
                _POOLS[workers] = (shared, users - 1)
                return
            if shared is pool:
                del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool: whoever uses it next gets a new one."""
    with _POOL_LOCK:
        for workers, (shared, _users) in list(_POOLS.items()):
            if shared is pool:
                del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


__all__ = [
    "Control",
    "Explorer",
    "controls_for",
    "explore",
    "headline",
    "picture",
    "scenario_for",
]
