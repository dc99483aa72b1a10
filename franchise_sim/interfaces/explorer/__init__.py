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

from franchise_sim.interfaces.explorer.controls import Control, controls_for, scenario_for
from franchise_sim.interfaces.explorer.view import headline, picture
from franchise_sim.interfaces.explorer.widget import Explorer, explore

__all__ = [
    "Control",
    "Explorer",
    "controls_for",
    "explore",
    "headline",
    "picture",
    "scenario_for",
]
