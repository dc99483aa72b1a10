"""franchise-sim: buy a franchise or start independently? A SimPy Monte Carlo comparison.

The public API: ``load_scenario`` reads a scenario file, ``simulate`` runs paired replications
of every arm over the same market and random events, and returns frozen ``SimulationResults``;
``save_results`` writes them to a folder (data, figures, report) and ``load_results`` reads one
back. The figures are in ``franchise_sim.figures``.
"""

from importlib.metadata import PackageNotFoundError, version

from franchise_sim.archive import load_results, save_results
from franchise_sim.monte_carlo import simulate
from franchise_sim.results import SimulationResults
from franchise_sim.scenario import Scenario
from franchise_sim.scenario_file import ScenarioError, load_scenario

try:
    __version__ = version("franchise-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimulationResults",
    "__version__",
    "load_results",
    "load_scenario",
    "save_results",
    "simulate",
]
