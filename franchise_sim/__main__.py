"""The ``franchise-sim`` command (also ``python -m franchise_sim``), started plainly.

The command line's own module imports the whole library (numpy, pandas, pydantic, SimPy), which
takes a noticeable moment; a Ctrl-C meanwhile would end in a traceback, so it is imported here,
where one is caught. Once the command line runs, it handles Ctrl-C itself.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the command line; Ctrl-C while it loads ends with one line, exit 130."""
    try:
        from franchise_sim.interfaces.cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("franchise-sim: interrupted; nothing was written\n")
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
