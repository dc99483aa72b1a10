"""franchise-sim: buy a franchise or start independently? A SimPy Monte Carlo comparison.

The public API: ``load_scenario`` reads a scenario file (or a shipped one by name) and
``Scenario.with_changes`` changes it by dotted path; ``simulate`` runs paired replications of
every arm over the same market and random events, and returns frozen ``SimulationResults``
(``compare`` gives their headline comparison); ``save_results`` writes them to a folder (data,
figures, report) and ``load_results`` reads one back. ``sweep`` runs a grid of changes with
common random numbers, ``attribute`` shows where a franchise's difference from the
independent comes from (its mechanisms switched on one at a time) and ``explore`` opens the
interactive explorer in Jupyter. The figures are in ``franchise_sim.figures``.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from franchise_sim.archive import load_results, save_results
    from franchise_sim.attribution import attribute
    from franchise_sim.comparison import compare
    from franchise_sim.explorer import explore
    from franchise_sim.monte_carlo import simulate
    from franchise_sim.results import SimulationResults
    from franchise_sim.scenario import Scenario
    from franchise_sim.scenario_file import ScenarioError, load_scenario
    from franchise_sim.sweeps import sweep

_LAZY = {
    "Scenario": "franchise_sim.scenario",
    "ScenarioError": "franchise_sim.scenario_file",
    "SimulationResults": "franchise_sim.results",
    "attribute": "franchise_sim.attribution",
    "compare": "franchise_sim.comparison",
    "explore": "franchise_sim.explorer",
    "load_results": "franchise_sim.archive",
    "load_scenario": "franchise_sim.scenario_file",
    "save_results": "franchise_sim.archive",
    "simulate": "franchise_sim.monte_carlo",
    "sweep": "franchise_sim.sweeps",
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
    "Scenario",
    "ScenarioError",
    "SimulationResults",
    "__version__",
    "attribute",
    "compare",
    "explore",
    "load_results",
    "load_scenario",
    "save_results",
    "simulate",
    "sweep",
]
