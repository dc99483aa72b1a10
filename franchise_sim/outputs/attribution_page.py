"""The attribution on paper: a folder with its table as CSV, its waterfall and a small page.

`save_attribution` writes ``attribution.csv`` (read back by
``attribution.read_attribution_csv``), ``attribution.png`` (the NPV and survival waterfalls)
and ``attribution.html``, self-contained (the figure embedded, nothing fetched from elsewhere),
into a folder marked as an attribution (``archive.StagedFolder``): written completely or not at
all, and a user's folder never replaced.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from franchise_sim.analysis.attribution import Attribution
from franchise_sim.outputs.figures import attribution_figure, png_bytes
from franchise_sim.outputs.folders import ATTRIBUTION_FILE, StagedFolder
from franchise_sim.outputs.report import STYLE, attribution_section

PAGE_FILE = "attribution.html"
FIGURE_FILE = "attribution.png"


def attribution_html(attribution: Attribution, picture: bytes | None = None) -> str:
    """The attribution as one self-contained HTML page (``picture``: its waterfall PNG)."""
    title = escape(f"{attribution.scenario}: where the difference comes from")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(attribution.scenario)}</h1>
<p>{escape(attribution.arm_label)} against the independent, {attribution.horizon_months} months
simulated.</p>
{attribution_section(attribution, picture)}
</body></html>
"""


def save_attribution(attribution: Attribution, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``attribution.csv``, ``attribution.png`` and ``attribution.html`` into a folder.

    Args:
        attribution: What ``attribution.attribute`` returned.
        out_dir: The folder to write.
        force: Replace ``out_dir`` if it holds an earlier attribution. Without it the earlier
            one is kept and this one is written beside it (``out_dir-2``, ...). A folder
            franchise-sim did not write, or one of another kind, is never written.

    Returns:
        The folder written.

    Raises:
        OutputFolderError: The folder may not be written or cannot be.
    """
    image = png_bytes(attribution_figure(attribution))
    page = attribution_html(attribution, image)
    staged = StagedFolder(out_dir, kind="attribution", force=force)
    with staged as staging:
        (staging / ATTRIBUTION_FILE).write_text(attribution.to_csv(), encoding="utf-8")
        (staging / FIGURE_FILE).write_bytes(image)
        (staging / PAGE_FILE).write_text(page, encoding="utf-8")
    return staged.destination
