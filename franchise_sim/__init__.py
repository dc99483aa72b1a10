"""franchise-sim: buy a franchise or start independently? A SimPy Monte Carlo comparison.

The public API: ``load_scenario`` reads a scenario file (or a shipped one by name) and
``with_changes`` makes a changed copy by dotted path (``value_at`` reads one); ``simulate`` runs
paired replications of every arm over the same market and random events, and returns frozen
``SimulationResults`` (``compare`` gives their headline comparison); ``save_results`` writes them
to a folder (data, figures, report) and ``load_results`` reads one back. ``sweep`` runs a grid of
changes with common random numbers, ``attribute`` shows where a franchise's difference from the
independent comes from (its mechanisms switched on one at a time) and ``explore`` opens the
interactive explorer in Jupyter. The figures are in ``franchise_sim.outputs.figures``.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from franchise_sim.analysis.attribution import attribute
    from franchise_sim.analysis.comparison import compare
    from franchise_sim.analysis.sweeps import sweep
    from franchise_sim.engine.results import SimulationResults
    from franchise_sim.interfaces.explorer import explore
    from franchise_sim.interfaces.notebook import Results, load_results, plot_sweep, simulate
    from franchise_sim.outputs.folders import save_results
    from franchise_sim.scenario.changes import value_at, with_changes
    from franchise_sim.scenario.errors import ScenarioError
    from franchise_sim.scenario.schema import Scenario
    from franchise_sim.scenario.shelf import load_scenario

_LAZY = {
    "Scenario": "franchise_sim.scenario.schema",
    "ScenarioError": "franchise_sim.scenario.errors",
    "Results": "franchise_sim.interfaces.notebook",
    "SimulationResults": "franchise_sim.engine.results",
    "attribute": "franchise_sim.analysis.attribution",
    "compare": "franchise_sim.analysis.comparison",
    "explore": "franchise_sim.interfaces.explorer",
    "load_results": "franchise_sim.interfaces.notebook",
    "load_scenario": "franchise_sim.scenario.shelf",
    "plot_sweep": "franchise_sim.interfaces.notebook",
    "save_results": "franchise_sim.outputs.folders",
    "simulate": "franchise_sim.interfaces.notebook",
    "sweep": "franchise_sim.analysis.sweeps",
    "value_at": "franchise_sim.scenario.changes",
    "with_changes": "franchise_sim.scenario.changes",
}
"""Public names imported on first use: importing the package loads neither matplotlib nor
ipywidgets, and the command line starts (and answers Ctrl-C) before numpy and pydantic load."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'franchise_sim' has no attribute {name!r}")


try:
    __version__ = version("franchise-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "SimulationResults",
    "__version__",
    "attribute",
    "compare",
    "explore",
    "load_results",
    "load_scenario",
    "plot_sweep",
    "save_results",
    "simulate",
    "sweep",
    "value_at",
    "with_changes",
]
