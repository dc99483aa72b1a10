"""A canvas that keeps the rasterised texts of a figure redrawn in place, for the next draw.

matplotlib 3.11 lays out and rasterises a text glyph by glyph in Python (a font transform and
a glyph bitmap each), about half the time of the explorer's redraw. Most of a redrawn
picture's texts (titles, axis labels, the months' ticks, the legend) are the same strings at the
same places each time, so `TextKeepingCanvas` records, for each text it draws, the glyph bitmaps
and where they went (the arguments of the Agg renderer's ``draw_text_image``), and replays
them when the same text is drawn again with the same font at the same place: the same calls
with the same arguments, so the pixels are the same (``tests/test_figures.py`` compares the
PNG bytes). The colour, alpha and clipping come from the graphics context of the draw itself.

Only the texts of the last two draws are kept. A text drawn some other way (mathtext, a
matplotlib whose renderer is not laid out so) is drawn as usual and not kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

_AGG: Any = backend_agg
"""matplotlib's Agg backend, whose functions carry no annotations."""

Glyphs = list[tuple[np.ndarray[Any, Any], Any, Any, Any]]
"""The ``draw_text_image`` calls of one text: bitmap, left, top, angle."""


class _GlyphRecorder:
    """Stands for the Agg renderer while a text is drawn, noting its ``draw_text_image`` calls.

    Anything else asked of the renderer meanwhile makes the text one not to keep.
    """

    def __init__(self, renderer: Any) -> None:
        self._renderer = renderer
        self.glyphs: Glyphs = []
        self.replayable = True

    def draw_text_image(self, image: Any, x: Any, y: Any, angle: Any, gc: Any) -> Any:
        """Draw the bitmap as the renderer does, noting a copy of it."""
        if isinstance(image, np.ndarray):
            self.glyphs.append((image.copy(), x, y, angle))
        else:  # a font object (matplotlib before 3.11): its state is not ours to keep
            self.replayable = False
        return self._renderer.draw_text_image(image, x, y, angle, gc)

    def __getattr__(self, name: str) -> Any:
        self.replayable = False
        return getattr(self._renderer, name)


class _TextKeepingRenderer(RendererAgg):
    """The Agg renderer, replaying the glyphs of a text drawn the same way in the last draws."""

    def __init__(self, width: int, height: int, dpi: float) -> None:
        self._agg().__init__(width, height, dpi)
        self._this_draw: dict[tuple[Any, ...], Glyphs] = {}
        self._last_draw: dict[tuple[Any, ...], Glyphs] = {}
        self.replayed = 0
        """Texts replayed so far (`TextKeepingCanvas.texts_replayed`)."""

    def _agg(self) -> Any:
        """The Agg renderer's own methods (untyped)."""
        return super()

    def clear(self) -> None:
        """Start a draw: the texts of the draw before it are kept one more draw."""
        self._agg().clear()
        self._last_draw, self._this_draw = self._this_draw, {}

    def draw_text(
        self,
        gc: Any,
        x: float,
        y: float,
        s: str,
        prop: Any,
        angle: float,
        ismath: Any = False,
        mtext: Any = None,
    ) -> None:
        """Draw a text, from the glyphs kept of it where the same text went to the same place."""
        if ismath:
            self._agg().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        # A line of a text of several lines comes without its text (``mtext``): the Agg
        # renderer then lays it out with no font features and no language, as the key says.
        key = (
            s,
            hash(prop),
            float(x),
            float(y),
            float(angle),
            bool(gc.get_antialiased()),
            self.dpi,
            self.width,
            self.height,
            _AGG.get_hinting_flag(),
            repr(None if mtext is None else mtext.get_fontfeatures()),
            repr(None if mtext is None else mtext.get_language()),
        )
        glyphs = self._this_draw.get(key)
        if glyphs is None:
            glyphs = self._last_draw.get(key)
        if glyphs is not None:
            for image, left, top, turned in glyphs:
                self._renderer.draw_text_image(image, left, top, turned, gc)
            self._this_draw[key] = glyphs
            self.replayed += 1
            return
        real = self._renderer
        recorder = _GlyphRecorder(real)
        self._renderer = recorder
        try:
            self._agg().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        finally:
            self._renderer = real
        if recorder.replayable:
            self._this_draw[key] = recorder.glyphs


class TextKeepingCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer keeps the texts it drew for the next draw (see the module)."""

    def get_renderer(self) -> RendererAgg:
        """The renderer, made anew (and its texts forgotten) only when the size or dpi change."""
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _TextKeepingRenderer(width, height, self.figure.dpi)
            self._lastKey = key
        renderer: RendererAgg = self.renderer
        return renderer

    @property
    def texts_replayed(self) -> int:
        """How many texts this canvas's renderer has drawn from the glyphs it kept."""
        renderer = getattr(self, "renderer", None)
        return renderer.replayed if isinstance(renderer, _TextKeepingRenderer) else 0
