"""The notebook facade: results that show themselves in Jupyter, draw and save themselves.

One floor up from the data they wrap. ``engine.results.SimulationResults`` is plain, frozen data;
`Results` is the same data with conveniences for a notebook (the headline comparison as HTML,
``results.comparison``, ``results.plot.<figure>()``, ``results.save(folder)``), and the public
``simulate`` and ``load_results`` of the package return it. `plot_sweep` charts a sweep the way
``results.plot`` charts results.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

from franchise_sim.analysis.comparison import Comparison, choose_baseline, compare
from franchise_sim.engine import runner
from franchise_sim.engine.results import SimulationResults
from franchise_sim.outputs import figures, folders
from franchise_sim.outputs.report import headline_html

P = ParamSpec("P")

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from franchise_sim.analysis.attribution import Attribution


@dataclass(frozen=True, eq=False, repr=False)
class Results(SimulationResults):
    """`SimulationResults` with the conveniences of a notebook; the data is the same.

    Attributes:
        baseline: The arm every other arm is compared with in the comparison, the figures and
            a saved folder; None for the default, ``independent``. Choose it with ``against``.
    """

    baseline: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.baseline is not None:
            choose_baseline(self.arms, self.baseline)  # an unknown arm fails here, not later

    @classmethod
    def of(cls, results: SimulationResults, baseline: str | None = None) -> Results:
        """The same results, wrapped (no array is copied), compared with ``baseline``.

        Raises:
            BaselineError: ``baseline`` is not an arm of the results.
        """
        if isinstance(results, cls) and baseline in (None, results.baseline):
            return results
        fields = {f.name: getattr(results, f.name) for f in dataclasses.fields(SimulationResults)}
        if baseline is None and isinstance(results, cls):
            baseline = results.baseline
        return cls(**fields, baseline=baseline)

    def against(self, baseline: str) -> Results:
        """The same results with every other arm compared with ``baseline``.

        ``results.against("franchise").comparison`` is the comparison against the franchise;
        its HTML, figures (``plot.npv_difference``, ``plot.dashboard``) and saved folder
        compare the same way.

        Raises:
            BaselineError: ``baseline`` is not an arm of the results; the message names the arms.
        """
        return Results.of(self, baseline)

    @cached_property
    def comparison(self) -> Comparison:
        """The headline comparison: survival, cash, NPV, differences, every pair of arms.

        The paired differences are against ``baseline`` (``independent`` if None).
        """
        return compare(self, self.baseline)

    @property
    def plot(self) -> ResultsPlot:
        """The figures as methods: ``results.plot.customers()``, ``results.plot.dashboard()``."""
        return ResultsPlot(self, self.baseline)

    def save(
        self,
        out_dir: str | Path,
        *,
        figures: bool = True,
        report: bool = False,
        xlsx: bool = False,
        force: bool = False,
        attribution: Attribution | Sequence[Attribution] | None = None,
    ) -> Path:
        """Write the same results folder as ``franchise-sim run`` (read back by ``load_results``).

        Args:
            out_dir: The folder to write.
            figures: Also write every figure as a PNG.
            report: Also write the self-contained ``report.html``.
            xlsx: Also write ``workbook.xlsx`` for spreadsheets.
            force: Replace ``out_dir`` if it holds earlier results. Without it they are kept
                and the new folder is written beside them (``out_dir-2``, ``out_dir-3``, ...).
            attribution: Where each arm's difference comes from (one or one per arm)
                (``analysis.attribution.attribute``), written as ``attribution.csv`` and
                shown in the report, as ``franchise-sim run --report`` does.

        Returns:
            The folder written: ``out_dir``, or the free name beside it.

        Raises:
            OutputFolderError: The folder exists and does not hold franchise-sim results (or
                holds a sweep), is unsafe to write (the current folder, a symbolic link, ...),
                or cannot be written.
            WorkbookError: ``xlsx`` and more runs than one Excel sheet holds.
        """
        return folders.save_results(
            self,
            out_dir,
            figures=figures,
            report=report,
            xlsx=xlsx,
            force=force,
            attribution=attribution,
            baseline=self.baseline,
        )

    def _repr_html_(self) -> str:
        """The headline comparison as HTML, for Jupyter."""
        return headline_html(self.comparison)


def _wrapping(make: Callable[P, SimulationResults]) -> Callable[P, Results]:
    """``make`` with its results wrapped for a notebook: the same signature and documentation."""

    @functools.wraps(make)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Results:
        return Results.of(make(*args, **kwargs))

    return wrapped


simulate = _wrapping(runner.simulate)
"""``engine.runner.simulate``, returning `Results`."""


@functools.wraps(folders.load_results)
def load_results(folder: str | Path) -> Results:
    """``outputs.folders.load_results``, returning `Results` compared with the run's baseline."""
    return Results.of(folders.load_results(folder), folders.saved_baseline(folder))


class ResultsPlot:
    """The figures of one set of results, as methods for notebooks.

    Each method draws into ``ax`` when given and returns it. Without ``ax`` it draws into a new
    pyplot figure, so Jupyter shows it and ``plt.show()`` shows it from a script, the way
    ``DataFrame.plot`` does. The same functions, without pyplot, are in ``outputs.figures``.
    """

    def __init__(self, results: SimulationResults, baseline: str | None = None) -> None:
        """Hold the results whose figures are drawn, and the arm differences are taken from."""
        self._results = results
        self._baseline = baseline

    def _draw(self, name: str, ax: Axes | None, size: tuple[float, float] = (8.0, 4.5)) -> Axes:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=size, layout="constrained")
        drawn: Axes = getattr(figures, name)(self._results, ax)
        return drawn

    def customers(self, ax: Axes | None = None) -> Axes:
        """Fan chart of the customer base of businesses still open, per arm."""
        return self._draw("customers", ax)

    def cash(self, ax: Axes | None = None) -> Axes:
        """Fan chart of the monthly cash flow after loan payments, per arm."""
        return self._draw("cash_flow", ax)

    def owner_cash(self, ax: Axes | None = None) -> Axes:
        """Fan chart of the owner's cumulative cash flow; crossing zero is payback."""
        return self._draw("owner_cash", ax)

    def survival(self, ax: Axes | None = None) -> Axes:
        """Share of businesses still open per month, with the BLS curve of the sector."""
        return self._draw("survival", ax)

    def final_cash(self, ax: Axes | None = None) -> Axes:
        """Distribution of the business's cash at the horizon or at closure."""
        return self._draw("final_cash", ax)

    def npv(self, ax: Axes | None = None) -> Axes:
        """Distribution of the owner's NPV, per arm."""
        return self._draw("npv", ax)

    def break_even(self, ax: Axes | None = None) -> Axes:
        """Share of runs that have broken even by each month."""
        return self._draw("break_even", ax)

    def payback(self, ax: Axes | None = None) -> Axes:
        """Share of runs in which the owner has got their money back by each month."""
        return self._draw("payback", ax)

    def npv_difference(self) -> Figure:
        """Histogram of the paired NPV difference of each arm from the baseline, one per arm."""
        return self._shown(figures.paired_differences(self._results, baseline=self._baseline))

    def dashboard(self) -> Figure:
        """The key panels on one page (A4 landscape for two arms), a difference panel per arm."""
        return self._shown(figures.dashboard(self._results, baseline=self._baseline))

    @staticmethod
    def _shown(figure: Figure) -> Figure:
        """A whole figure, returned to be shown once in Jupyter (not also held by pyplot).

        A figure pyplot does not hold is shown only where IPython has a display for figures;
        the inline backend registers one only once pyplot draws, so one is registered here (as
        PNG) if the shell has none.
        """
        try:
            from IPython import get_ipython
            from IPython.core.pylabtools import select_figure_formats
        except ImportError:  # pragma: no cover - the notebook extra installs IPython
            return figure
        shell = get_ipython()
        if shell is not None:
            formatters = shell.display_formatter.formatters
            shown = ("image/png", "image/svg+xml", "image/jpeg", "application/pdf")
            if not any(type(figure) in formatters[kind].type_printers for kind in shown):
                select_figure_formats(shell, {"png"})  # type: ignore[no-untyped-call]
        return figure


def plot_sweep(frame: pd.DataFrame, metric: str = "npv_mean", ax: Axes | None = None) -> Axes:
    """Chart one metric of a sweep, shown in Jupyter: ``plot_sweep(frame, "npv_difference")``.

    Draws ``outputs.figures.sweep_chart`` into ``ax`` when given. Without ``ax`` it draws
    into a new pyplot figure, so Jupyter shows it and ``plt.show()`` shows it from a script,
    the way ``results.plot`` and ``DataFrame.plot`` do.

    Args:
        frame: What ``sweep`` returned.
        metric: A metric of the frame (see ``analysis.sweeps.metric_names``).
        ax: Axes to draw on; a new pyplot figure's if not given.

    Returns:
        The axes drawn on.

    Raises:
        KeyError: The frame has no such metric.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        if metric not in set(frame["metric"]):
            raise KeyError(f"no metric {metric!r} in the sweep")  # before opening a figure
        _, ax = plt.subplots(figsize=(8.0, 4.8), layout="constrained")
    return figures.sweep_chart(frame, metric, ax=ax)
