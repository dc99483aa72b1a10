"""The explorer's widgets and the background thread that keeps them responsive.

A slider only records the newest values and wakes one background thread. After a short pause
(the debounce) the thread simulates the newest values; if a slider moves again while it runs, the
run is abandoned at its next finished batch and the newest values run instead. A stale run is
never drawn.
"""

from __future__ import annotations

import html
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from franchise_sim.analysis.comparison import (
    Comparison,
    choose_baseline,
    compare,
)
from franchise_sim.engine.results import SimulationResults
from franchise_sim.engine.runner import simulate
from franchise_sim.interfaces.explorer.controls import Control, controls_for, scenario_for
from franchise_sim.interfaces.explorer.pool import PoolLease
from franchise_sim.interfaces.explorer.view import Picture, headline
from franchise_sim.model.streams import load_compiled_counts
from franchise_sim.scenario.errors import ScenarioError
from franchise_sim.scenario.schema import Scenario
from franchise_sim.scenario.shelf import load_scenario

RUNS = 500
"""Paired replications per update: enough for smooth fans, fast enough to follow a slider."""

DEBOUNCE_SECONDS = 0.2
"""Pause after the last slider change before a run starts."""

INSTALL_HINT = "explore() needs ipywidgets: pip install 'franchise-sim[notebook]'"

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
    Beside the sliders, a menu chooses the arm the others are compared with: choosing another
    recomputes the comparison of the results on screen (no new run).

    Attributes:
        base: The scenario explored; the sliders start at its values.
        controls: The sliders' specifications.
        runs: Paired replications per update.
        seed: Master seed of every update.
        workers: Processes simulating (1: in the background thread itself).
        horizon_months: Months simulated (None: the scenario's).
        debounce_seconds: Pause after the last change before a run starts.
        sliders: The slider widgets by field path.
        baseline_menu: The menu of the arm the others are compared with.
        image: The picture's widget.
        widget: The root widget (controls, status, headline, picture).
        scenario: The scenario the picture shows.
        results: The results the picture shows.
        comparison: Their headline comparison, against ``baseline``.
        baseline: The arm the others are compared with.
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
        baseline: str | None = None,
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
            baseline: The arm the others are compared with first; ``independent`` (or the
                first arm) if not given.

        Raises:
            ImportError: ipywidgets is not installed.
            ValueError: ``runs``, ``workers`` or ``debounce_seconds`` out of range.
            BaselineError: ``baseline`` is not an arm of the scenario.
        """
        widgets = _ipywidgets()
        workers = (os.cpu_count() or 1) if workers is None else workers
        if runs < 1 or workers < 1 or debounce_seconds < 0:
            raise ValueError("runs and workers must be >= 1 and debounce_seconds >= 0")
        self.base = scenario
        self.baseline = choose_baseline(scenario.arm_names, baseline)
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
        self._asked_baseline = self.baseline
        self._shown_values = dict(self._values)  # the values the results on screen ran with
        self._changed_at = 0.0
        self._handled = 0
        self._busy = False
        self.requests = 0
        self.updates = 0
        self.runs_started = 0
        self.runs_cancelled = 0
        self._status = ""

        self.sliders = {c.path: _slider(widgets, c) for c in self.controls}
        labels = {arm.name: arm.label for arm in scenario.resolved_arms()}
        self.baseline_menu = widgets.Dropdown(
            options=[(labels[arm], arm) for arm in scenario.arm_names],
            value=self.baseline,
            description="Compare with",
            style={"description_width": "7em"},
            layout=widgets.Layout(width="27em"),
        )
        self._status_widget = widgets.HTML()
        self._headline_widget = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [_group(widgets, g, self.controls, self.sliders) for g in _groups(self)],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.baseline_menu,
                self._status_widget,
                self._headline_widget,
                self.image,
            ]
        )

        self._picture = Picture()
        load_compiled_counts()  # an explorer runs often: before its workers fork, which share them
        self._lease = PoolLease(workers)
        try:
            self._show(self._compute(scenario, self.baseline, lambda: False))
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
        self.baseline_menu.observe(self._on_baseline, names="value")

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
        self.baseline_menu.disabled = True
        self._set_status(f"Closed. {self._status}" if self._status else "Closed.")

    # -- the background thread --

    def _on_change(self, path: str, change: Mapping[str, Any]) -> None:
        """A slider moved: record its value and wake the thread (nothing else on this thread)."""
        self._ask(partial(self._values.__setitem__, path, float(change["new"])))

    def _on_baseline(self, change: Mapping[str, Any]) -> None:
        """Another arm to compare with: recorded and handled as a slider's change is."""
        self._ask(partial(setattr, self, "_asked_baseline", str(change["new"])))

    def _ask(self, record: Callable[[], object]) -> None:
        """Record a change under the lock, count it as a request and wake the thread."""
        with self._wake:
            if self._stop.is_set():
                return
            record()
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
                baseline = self._asked_baseline
                self._busy = True
            try:
                self._update(generation, values, baseline)
            except BaseException as exc:  # the thread must outlive any one update
                self._set_status(f"Not redrawn: {type(exc).__name__}: {exc}", error=True)
            finally:
                with self._wake:
                    self._busy = False
                    self._handled = generation
                    self._wake.notify_all()

    def _update(self, generation: int, values: Mapping[str, float], baseline: str) -> None:
        """Simulate and draw one request, unless a newer one makes it stale first.

        A request whose values are those of the results on screen (only the baseline changed)
        compares them anew without running them again.
        """

        def stale() -> bool:
            return self._stop.is_set() or self.requests != generation

        if dict(values) == self._shown_values:
            shown = self._compared(baseline)
            with self._wake:
                if not stale():
                    self._show(shown)
                    self.updates += 1
            return
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
            shown = self._compute(scenario, baseline, stale)
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
            self._shown_values = dict(values)
            self.updates += 1

    def _compared(self, baseline: str) -> _Shown:
        """The results on screen compared against ``baseline``: their picture and run time."""
        comparison = compare(self.results, baseline)
        text = headline(self.results, comparison, self._seconds)
        return _Shown(self.scenario, self.results, comparison, self._png, text, self._seconds)

    def _compute(self, scenario: Scenario, baseline: str, stale: Callable[[], bool]) -> _Shown:
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
        image = self._picture.draw(results)
        comparison = compare(results, baseline)
        seconds = time.perf_counter() - started
        return _Shown(
            scenario, results, comparison, image, headline(results, comparison, seconds), seconds
        )

    def _show(self, shown: _Shown) -> None:
        """Put one update on screen."""
        self.scenario = shown.scenario
        self.results = shown.results
        self.comparison = shown.comparison
        self.baseline = shown.comparison.baseline
        self._png = shown.png
        self._seconds = shown.seconds
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
    baseline: str | None = None,
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
        baseline: The arm the others are compared with first (a menu changes it);
            ``independent`` (or the first arm) if not given.

    Returns:
        The explorer; the last expression of a cell shows it. ``close()`` it when done.

    Raises:
        ImportError: ipywidgets is not installed.
        ScenarioError: A file or name given is not a valid scenario.
        BaselineError: ``baseline`` is not an arm of the scenario.
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
        baseline=baseline,
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
    stop: threading.Event, wake: threading.Condition, thread: threading.Thread, lease: PoolLease
) -> None:
    """Stop an explorer's thread and release its pool (from ``close()`` or when Python exits)."""
    stop.set()
    with wake:
        wake.notify_all()
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout=5.0)
    lease.release()
