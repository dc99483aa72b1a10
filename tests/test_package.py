"""The package's public names: every one resolves, the heavy ones only on first use."""

from __future__ import annotations

import pytest

import franchise_sim

from .conftest import printed_by


def test_every_public_name_resolves() -> None:
    for name in franchise_sim.__all__:
        assert getattr(franchise_sim, name) is not None
    from franchise_sim.analysis.comparison import compare
    from franchise_sim.analysis.sweeps import sweep
    from franchise_sim.interfaces.explorer import explore

    assert (franchise_sim.compare, franchise_sim.explore, franchise_sim.sweep) == (
        compare,
        explore,
        sweep,
    )


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'sweeep'"):
        _ = franchise_sim.sweeep


def test_importing_the_package_loads_no_plotting_or_widgets() -> None:
    code = (
        "import sys, franchise_sim; print(sorted({'matplotlib', 'ipywidgets'} & set(sys.modules)))"
    )
    assert printed_by(code) == "[]"


def test_a_run_and_its_comparison_do_not_load_scipy_stats() -> None:
    # scipy.stats takes about half a second to import; the statistics use scipy.special.
    code = (
        "import sys, franchise_sim as fs; from franchise_sim.interfaces import cli; "
        "r = fs.simulate(fs.load_scenario('auto_repair'), runs=8, workers=1, horizon_months=6); "
        "r.comparison.to_text(); print('scipy.stats' in sys.modules)"
    )
    assert printed_by(code) == "False"
