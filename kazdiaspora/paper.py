"""The paper edition of every figure: files a journal accepts as they are.

``python -m kazdiaspora.figures paper [ID ...] [--width single|double|MM] [--formats ...]
[--grayscale] [--line-art]`` (``make paper-figures``) writes, for each figure and width,
``figures/paper/<id>.<width>.<ext>`` for ext in pdf, svg, eps, tif (600 dpi, LZW; 1200 dpi with
``--line-art``) and png (300 dpi), plus ``figures/paper/<id>.caption.txt``.

What makes them journal-clean:

* the layout is drawn at the column width (89 mm single, 183 mm double, or any width in mm), not
  scaled: the chart code reads the width from :func:`kazdiaspora.style.figsize` (and lays a chart
  out again for one column where it needs to: :func:`kazdiaspora.charts.narrow_column`), and
  :func:`reflow` (called by :func:`kazdiaspora.figures.freeze_layout` before the layout is fixed)
  leaves the title out, sets text a size smaller in a column narrower than 120 mm (never below
  6 pt), moves legends that stick out under the figure and narrows or wraps them; text is at
  least 6 pt at final size;
* no title and no source line inside the image: they go to the caption file;
* text stays text: SVG ``<text>``, TrueType (Type 42) fonts embedded in PDF and EPS, no Type 3;
  one font, Liberation Sans (metric-compatible with Arial/Helvetica, SIL OFL), with DejaVu Sans as
  per-glyph fallback for the characters it lacks;
* no transparency: every colour with an alpha below 1 is flattened onto white before saving;
* at most 170 mm high: a taller figure is delivered as parts cut between rows of panels,
  ``<id>.<width>.part-1.<ext>``, ``part-2`` ... (listed in the caption file);
* metadata inside each file (title, figure id, book title and version, licence, URL);
* deterministic (a second run writes the same bytes) and incremental: a figure is redone only
  when the hash of its inputs (its chart module, the shared drawing code, the data, the
  bibliography, the font and the options) changed.

``figures/paper/`` is generated, never committed (it is in ``.gitignore``).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import bib, figures, hotspots, paths, style

WIDTHS_MM = {"single": 89.0, "double": 183.0}
MAX_HEIGHT_MM = 170.0
FORMATS = ("pdf", "svg", "eps", "tif", "png")
TIFF_DPI = 600
LINE_ART_DPI = 1200
PNG_DPI = 300
PAD_IN = 0.03
OUTDIR = paths.FIGURES_DIR / "paper"
MM = 1 / 25.4

# Height of a figure in the single-column edition, relative to its book design (a map keeps its
# shape, so it gets shorter when it gets narrower; a chart of n rows keeps its height).
SINGLE_HEIGHT_SCALE = {
    "diaspora-map": 0.75,
    "scripts-map": 0.7,
    "route-map-iran": 0.75,
    "route-map-xinjiang": 0.75,
    "route-map-kashmir": 0.75,
    "route-map-other": 0.8,
    "route-map-overview": 0.8,
}


def book_version() -> str:
    m = re.search(r"^version:\s*([^\s]+)", (paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"), re.M)
    return m.group(1).strip("'\"") if m else "unversioned"


def width_mm(width: str | float) -> float:
    if isinstance(width, str) and width in WIDTHS_MM:
        return WIDTHS_MM[width]
    try:
        w = float(width)
    except ValueError:
        raise ValueError(f"width {width!r}: use single, double or a width in mm") from None
    if not 40 <= w <= 260:
        raise ValueError(f"width {w:g} mm: choose between 40 and 260 mm")
    return w


def width_name(width: str | float) -> str:
    return width if isinstance(width, str) and width in WIDTHS_MM else f"{width_mm(width):g}mm"


# ------------------------------------------------------------------ re-flow (before the layout is fixed)
def _legends(fig):
    out = list(fig.legends)
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            out.append(leg)
    return out


def remove_titles(fig) -> list[str]:
    """Take the figure's own title out (``suptitle``, or an axes title at the figure-title size)."""
    removed = []
    st = getattr(fig, "_suptitle", None)
    if st is not None and st.get_text():
        removed.append(st.get_text())
        st.set_text("")
        st.set_visible(False)
        st.set_in_layout(False)
    for ax in fig.axes:
        for t in (ax.title, ax._left_title, ax._right_title):
            if t.get_text() and abs(t.get_fontsize() - style.FIGURE_TITLE_PT) < 1e-6:
                removed.append(t.get_text())
                t.set_text("")
    return removed


def set_legend_ncols(leg, ncols: int) -> None:
    """Re-pack a legend into ``ncols`` columns, keeping its entries, title and text styles."""
    title = leg.get_title()
    ttext, tprop = title.get_text(), title.get_fontproperties().copy()
    handles = list(leg.legend_handles)
    texts = list(leg.texts)
    props = [(t.get_text(), t.get_fontweight(), t.get_fontstyle(), t.get_color()) for t in texts]
    align = leg._legend_box.align
    leg._ncols = ncols
    leg._init_legend_box(handles, [p[0] for p in props], markerfirst=True)
    leg.set_title(ttext, prop=tprop)
    leg._legend_box.align = align
    leg._legend_box.set_offset(leg._findoffset)  # the new box must be placed like the old one
    for t, (_, w, s, c) in zip(leg.texts, props):
        t.set_fontweight(w)
        t.set_fontstyle(s)
        t.set_color(c)
    leg.stale = True


def fit_legends(fig) -> None:
    """Narrow every legend wider than the figure (or sticking out of it) by taking columns away."""
    for _ in range(6):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        fw = fig.bbox.width
        changed = False
        for leg in _legends(fig):
            bb = leg.get_window_extent(renderer)
            ncols = getattr(leg, "_ncols", 1)
            if ncols > 1 and (bb.width > fw * 0.98 or bb.x1 > fw + 1 or bb.x0 < -1):
                set_legend_ncols(leg, ncols - 1)
                changed = True
        if not changed:
            return


def wrap_titles(fig) -> None:
    """Wrap every panel title wider than its panel, at word boundaries."""
    import textwrap

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        aw = ax.get_window_extent(renderer).width
        for t in (ax.title, ax._left_title, ax._right_title):
            text = t.get_text()
            if not text or not t.get_visible():
                continue
            tw = t.get_window_extent(renderer).width
            if tw > aw * 1.02 and aw > 0:
                longest = max(len(line) for line in text.split("\n"))
                chars = max(12, int(longest * aw / tw * 0.97))
                t.set_text("\n".join(textwrap.fill(line, chars) for line in text.split("\n")))


def _tick_label_sets(fig):
    """(every tick label, the tick labels actually drawn) as sets of ids."""
    every, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.majorTicks + axis.minorTicks:
                every.update((id(tick.label1), id(tick.label2)))
            if not (ax.axison and ax.get_visible() and axis.get_visible()):
                continue
            for tick in axis._update_ticks():
                for lab in (tick.label1, tick.label2):
                    if lab.get_visible() and lab.get_text():
                        drawn.add(id(lab))
    return every, drawn


def _crowded(labels, renderer, vertical: bool) -> bool:
    bbs = sorted((lab.get_window_extent(renderer) for lab in labels), key=lambda b: b.y0 if vertical else b.x0)
    for a, b in zip(bbs, bbs[1:]):
        if (b.y0 < a.y1 - 0.5) if vertical else (b.x0 < a.x1 - 0.5):
            if (min(a.x1, b.x1) > max(a.x0, b.x0)) and (min(a.y1, b.y1) > max(a.y0, b.y0)):
                return True
    return False


def thin_ticks(fig) -> None:
    """Fewer ticks on an axis whose tick labels touch each other (every other one of a fixed list)."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    for _ in range(3):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        changed = False
        for ax in fig.axes:
            if not ax.axison:
                continue
            for axis, vertical in ((ax.xaxis, False), (ax.yaxis, True)):
                labels = [t.label1 for t in axis._update_ticks() if t.label1.get_visible() and t.label1.get_text()]
                if len(labels) < 3 or not _crowded(labels, renderer, vertical):
                    continue
                loc = axis.get_major_locator()
                if isinstance(loc, FixedLocator):
                    if loc.locs is None or len(loc.locs) < 3 or vertical:
                        continue  # a fixed list of categories: every label is needed
                    fmt = axis.get_major_formatter()
                    texts = [t.get_text() for t in axis.get_ticklabels()]
                    locs = list(loc.locs)
                    keep = locs[::2]
                    axis.set_major_locator(FixedLocator(keep))
                    if len(texts) == len(locs) and fmt.__class__.__name__ == "FixedFormatter":
                        axis.set_ticklabels(texts[::2])
                elif isinstance(loc, MaxNLocator) or loc.__class__.__name__ in ("AutoLocator", "MaxNLocator"):
                    n = max(2, len(labels) // 2 + 1)
                    axis.set_major_locator(MaxNLocator(nbins=n - 1, steps=[1, 2, 2.5, 5, 10]))
                else:
                    continue
                changed = True
        if not changed:
            return


def _sticks_out(bb, fw: float) -> bool:
    return bb.x1 > fw + 1 or bb.x0 < -1


def _wrap_to(t, width_px: float, renderer, min_chars: int = 10) -> bool:
    """Wrap a text at word boundaries so that it is at most ``width_px`` wide; True if changed."""
    import textwrap

    text = t.get_text()
    tw = t.get_window_extent(renderer).width
    if tw <= width_px or " " not in text:
        return False
    longest = max(len(line) for line in text.split("\n"))
    chars = max(min_chars, int(longest * width_px / tw * 0.95))
    new = "\n".join(textwrap.fill(line, chars, break_long_words=False) for line in text.split("\n"))
    if new == text:
        return False
    t.set_text(new)
    return True


def _collapse_if_empty(ax) -> None:
    """An axes that only held a legend (axis off, nothing else drawn) gives its grid row up."""
    if ax.axison or ax.get_legend() is not None:
        return
    if any(a.get_visible() for a in [*ax.texts, *ax.lines, *ax.patches, *ax.collections, *ax.images]):
        return
    ss = ax.get_subplotspec()
    if ss is None:
        return
    gs = ss.get_gridspec()
    rows = set(ss.rowspan)
    others = [a for a in ax.figure.axes if a is not ax and a.get_subplotspec() is not None
              and a.get_subplotspec().get_gridspec() is gs and rows & set(a.get_subplotspec().rowspan)]
    if others:
        return
    ratios = list(gs.get_height_ratios() or [1] * gs.nrows)
    for r in rows:
        ratios[r] = 1e-3 * max(ratios)
    gs.set_height_ratios(ratios)
    ax.set_visible(False)


def move_legends_below(fig) -> None:
    """An axes legend that sticks out of the column becomes a legend under the figure.

    Its entries, title and text styles are kept; :func:`fit_legends` then gives it as many
    columns as the width takes.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fw = fig.bbox.width
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not _sticks_out(leg.get_window_extent(renderer), fw):
            continue
        title = leg.get_title()
        ttext, tprop = title.get_text(), title.get_fontproperties().copy()
        props = [(t.get_text(), t.get_fontweight(), t.get_fontstyle(), t.get_color()) for t in leg.texts]
        handles = list(leg.legend_handles)
        kw = dict(fontsize=leg.texts[0].get_fontsize() if leg.texts else None,
                  frameon=leg.get_frame_on(), handlelength=leg.handlelength,
                  markerscale=leg.markerscale, borderaxespad=0.3)
        leg.remove()
        _collapse_if_empty(ax)
        new = fig.legend(handles, [p[0] for p in props], loc="outside lower center",
                         ncols=max(1, min(len(handles), 3)), **{k: v for k, v in kw.items() if v is not None})
        if ttext:
            new.set_title(ttext, prop=tprop)
        for t, (_, w, st, c) in zip(new.texts, props):
            t.set_fontweight(w)
            t.set_fontstyle(st)
            t.set_color(c)


def wrap_wide_texts(fig) -> None:
    """Legend entries and axis labels wider than the column (or than their axes) are wrapped."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fw = fig.bbox.width
    changed = False
    for leg in _legends(fig):
        bb = leg.get_window_extent(renderer)
        if bb.width <= fw * 0.98 and not _sticks_out(bb, fw):
            continue
        ncols = max(1, getattr(leg, "_ncols", 1))
        room = fw * 0.9 / ncols - 30
        for t in leg.texts:
            changed |= _wrap_to(t, room, renderer)
    for ax in fig.axes:
        if not ax.axison:
            continue
        aw = ax.get_window_extent(renderer)
        for lab, room in ((ax.xaxis.label, aw.width * 1.1), (ax.yaxis.label, aw.height * 1.1)):
            if lab.get_text():
                changed |= _wrap_to(lab, min(room, fw * 0.95), renderer)
    if changed:
        fig.canvas.draw()


# In a column narrower than this, text is set smaller (never below MIN_TEXT_PT): the book's
# sizes (7.5 to 10 pt) are chosen for 165 mm; 6 to 8 pt is what journals ask for in a column.
NARROW_MM = 120.0
NARROW_TEXT_FACTOR = 0.82
MIN_TEXT_PT = 6.0


def _smaller(size: float) -> float:
    return max(MIN_TEXT_PT, round(size * NARROW_TEXT_FACTOR, 2))


def shrink_text(fig) -> None:
    """Every text of the figure at :data:`NARROW_TEXT_FACTOR` of its size, at least 6 pt: tick
    labels, axis labels, titles, annotations, legends (their spacing follows their text)."""
    from matplotlib.text import Text

    ticks = set()
    for ax in fig.axes:
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            for which, ticklist in (("major", axis.get_major_ticks()), ("minor", axis.get_minor_ticks())):
                for tick in ticklist:
                    ticks.update((id(tick.label1), id(tick.label2)))
                if ticklist:
                    ax.tick_params(axis=name, which=which, labelsize=_smaller(ticklist[0].label1.get_fontsize()))
    for leg in _legends(fig):
        leg._fontsize = _smaller(leg._fontsize)
    for t in fig.findobj(Text):
        if id(t) not in ticks:
            t.set_fontsize(_smaller(t.get_fontsize()))


def reflow(fig) -> None:
    """What :func:`kazdiaspora.figures.freeze_layout` does first in a paper edition."""
    fig._paper_removed_titles = remove_titles(fig)  # kept for the caption file and the tests
    if style.edition().width_in < NARROW_MM * MM:
        shrink_text(fig)
    move_legends_below(fig)
    wrap_wide_texts(fig)
    fit_legends(fig)
    wrap_titles(fig)
    thin_ticks(fig)


def _text_box(t, renderer):
    """The box of a text's own glyphs (an annotation's leader line is not part of it)."""
    from matplotlib.text import Text

    return Text.get_window_extent(t, renderer)


def _leader_points(t, renderer, n: int = 40):
    """Points (display units) along the leader line of an annotation, from its text to its point."""
    from matplotlib.text import Annotation

    if not isinstance(t, Annotation) or t.arrow_patch is None or not t.arrow_patch.get_visible():
        return None
    if not t.get_text().strip():
        return None
    bb = _text_box(t, renderer)
    x1, y1 = t._get_position_xy(renderer)  # the annotated point
    rx, ry = getattr(t, "_arrow_relpos", (0.5, 0.5))  # where on the text the line starts
    x0, y0 = bb.x0 + bb.width * rx, bb.y0 + bb.height * ry
    s = np.linspace(0, 1, n)
    pts = np.stack([x0 + (x1 - x0) * s, y0 + (y1 - y0) * s], axis=1)
    # the part inside the annotation's own text and the last few points (the marker) are left out
    inside = (pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1)
    shrink_b = float((t.arrowprops or {}).get("shrinkB", 2))  # points: the line stops short of the point
    near_end = np.hypot(pts[:, 0] - x1, pts[:, 1] - y1) < max(shrink_b, 1.0) * t.figure.dpi / 72
    return pts[~inside & ~near_end]


def text_overlaps(fig, tol_pt: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap by more than ``tol_pt`` points each way, and texts
    crossed by another annotation's leader line (reported as ``(annotation, text)``).

    A text's box is the box of its glyphs: an annotation's leader line is checked on its own, as a
    line, not as the rectangle it spans."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes, names, leaders = [], [], []
    every_tick, drawn_tick = _tick_label_sets(fig)
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or t.get_alpha() == 0:
            continue
        if id(t) in every_tick and id(t) not in drawn_tick:
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        bb = _text_box(t, renderer)
        if t.axes is not None and t.get_clip_on() and t.get_clip_box() is not None:
            cb = t.get_clip_box()
            if bb.x1 < cb.x0 or bb.x0 > cb.x1 or bb.y1 < cb.y0 or bb.y0 > cb.y1:
                continue
        if bb.width <= 0 or bb.height <= 0:
            continue
        boxes.append((bb.x0, bb.y0, bb.x1, bb.y1))
        names.append(t.get_text().replace("\n", " ")[:40])
        leaders.append(_leader_points(t, renderer))
    if not boxes:
        return []
    b = np.array(boxes) * 72 / fig.dpi
    ix = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
    iy = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
    hit = (ix > tol_pt) & (iy > tol_pt)
    i, j = np.nonzero(np.triu(hit, 1))
    out = {(names[a], names[c]) for a, c in zip(i, j)}
    for a, pts in enumerate(leaders):
        if pts is None or not len(pts):
            continue
        p = pts * 72 / fig.dpi
        for c in range(len(boxes)):
            if c == a:
                continue
            x0, y0, x1, y1 = b[c] + np.array([tol_pt, tol_pt, -tol_pt, -tol_pt])
            if ((p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)).any():
                out.add((names[a], names[c]))
    return sorted(out)


# ------------------------------------------------------------------ colours: alpha, greyscale, vision
def _blend(rgba) -> tuple:
    r, g, b, a = rgba
    return (1 - a + a * r, 1 - a + a * g, 1 - a + a * b, 1.0)


def grey_of(rgb) -> tuple:
    """The grey of the same CIE lightness L* as an sRGB colour."""
    lin = srgb_to_linear(np.asarray(rgb[:3], float))
    y = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    v = float(linear_to_srgb(np.array([y]))[0])
    return (v, v, v)


def map_colours(fig, fn) -> None:
    """Apply ``fn(rgba) -> rgba`` to every colour of every artist of the figure (opaque result)."""
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text
    import matplotlib.colors as mcolors

    def conv(c, alpha):
        rgba = mcolors.to_rgba(c)
        if rgba[3] == 0:  # "none" stays none
            return rgba
        a = rgba[3] * (1.0 if alpha is None else alpha)
        return fn((rgba[0], rgba[1], rgba[2], a))

    def conv_array(arr, alpha):
        arr = np.asarray(arr)
        if arr.size == 0:
            return arr
        return np.array([conv(tuple(c), alpha) for c in mcolors.to_rgba_array(arr)])

    seen = set()
    artists = list(fig.findobj())
    for t in [a for a in artists if isinstance(a, Text)]:
        bp = t.get_bbox_patch()
        if bp is not None:
            artists.append(bp)
    for leg in _legends(fig):
        artists.append(leg.legendPatch)
    for a in artists:
        if id(a) in seen:
            continue
        seen.add(id(a))
        alpha = a.get_alpha()
        if isinstance(a, Patch):
            fc, ec = a.get_facecolor(), a.get_edgecolor()
            hatch_c = getattr(a, "_hatch_color", None)
            a.set_alpha(None)
            a.set_facecolor(conv(fc, alpha))
            a.set_edgecolor(conv(ec, alpha))
            if hatch_c is not None and not isinstance(hatch_c, str):
                a._hatch_color = conv(hatch_c, None)
        elif isinstance(a, Line2D):
            c, mfc, mec = a.get_color(), a.get_markerfacecolor(), a.get_markeredgecolor()
            a.set_alpha(None)
            a.set_color(conv(c, alpha))
            a.set_markerfacecolor(conv(mfc, alpha))
            a.set_markeredgecolor(conv(mec, alpha))
        elif isinstance(a, Collection):
            if a.get_array() is not None:
                a.update_scalarmappable()
                a.set_array(None)
            fc, ec = a.get_facecolor(), a.get_edgecolor()
            a.set_alpha(None)
            a.set_facecolor(conv_array(fc, alpha))
            a.set_edgecolor(conv_array(ec, alpha))
            hatch_c = getattr(a, "_hatch_color", None)
            if hatch_c is not None and not isinstance(hatch_c, str):
                a._hatch_color = conv(hatch_c, None)
        elif isinstance(a, Text):
            c = a.get_color()
            a.set_alpha(None)
            a.set_color(conv(c, alpha))
        elif isinstance(a, AxesImage):
            raise ValueError("a raster image in a figure: not supported by the paper edition")
    fig.set_facecolor(fn(fig.get_facecolor()) if fig.get_facecolor()[3] else "white")


def flatten_alpha(fig) -> None:
    """Every colour with an alpha below 1 becomes the opaque colour it shows on white."""
    map_colours(fig, _blend)
    drop_invisible_paint(fig)


def drop_invisible_paint(fig) -> None:
    """No fully transparent colour is left for a PDF to declare (``/CA 0`` in a graphics state).

    An edge of colour "none" gets the (opaque) face colour and width 0, so it is not stroked; a
    marker edge likewise; an artist with neither a visible face nor a visible edge is hidden.
    """
    import matplotlib.colors as mcolors
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    artists = list(fig.findobj())
    for t in [a for a in artists if isinstance(a, Text)]:
        if t.get_bbox_patch() is not None:
            artists.append(t.get_bbox_patch())
    for leg in _legends(fig):
        artists.append(leg.legendPatch)
    for a in artists:
        if isinstance(a, Patch):
            fc, ec = mcolors.to_rgba(a.get_facecolor()), mcolors.to_rgba(a.get_edgecolor())
            if ec[3] == 0 and fc[3] == 0 and not a.get_hatch():
                a.set_visible(False)
            elif ec[3] == 0:
                a.set_edgecolor(fc if fc[3] else (0, 0, 0, 1))
                a.set_linewidth(0)
        elif isinstance(a, Collection):
            fc, ec = a.get_facecolor(), a.get_edgecolor()
            if len(ec) and all(c[3] == 0 for c in ec):
                if len(fc) and all(c[3] == 0 for c in fc) and not a.get_hatch():
                    a.set_visible(False)
                elif len(fc):
                    a.set_edgecolor(fc)
                    a.set_linewidth(0)
        elif isinstance(a, Line2D):
            mec, mfc = mcolors.to_rgba(a.get_markeredgecolor()), mcolors.to_rgba(a.get_markerfacecolor())
            if mec[3] == 0:
                a.set_markeredgecolor(mfc if mfc[3] else (0, 0, 0, 1))
                a.set_markeredgewidth(0)
            if mcolors.to_rgba(a.get_color())[3] == 0 and a.get_linestyle() not in ("None", "none", "", " "):
                a.set_linestyle("None")


def to_greyscale(fig) -> None:
    """Every colour becomes the grey of its lightness (after flattening onto white)."""
    map_colours(fig, lambda rgba: (*grey_of(_blend(rgba)), 1.0))


# Colour-vision simulation: Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def srgb_to_linear(c):
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c):
    c = np.clip(np.asarray(c, float), 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb, vision: str):
    """An sRGB colour (0..1) as seen in ``vision``: normal, greyscale, protanopia, deuteranopia, tritanopia."""
    rgb = np.asarray(rgb, float)[..., :3]
    if vision == "normal":
        return rgb
    if vision == "greyscale":
        lin = srgb_to_linear(rgb) @ np.array([0.2126, 0.7152, 0.0722])
        return np.repeat(linear_to_srgb(lin)[..., None], 3, axis=-1)
    return linear_to_srgb(srgb_to_linear(rgb) @ MACHADO[vision].T)


def srgb_to_lab(rgb):
    """CIE L*a*b* (D65) of sRGB colours (0..1), shape (..., 3)."""
    lin = srgb_to_linear(rgb)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005)."""
    L1, a1, b1 = map(float, lab1)
    L2, a2, b2 = map(float, lab2)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    if C1p * C2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp / 2))
    Lpm, Cpm = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0:
        hpm = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hpm = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hpm = (h1p + h2p + 360) / 2
    else:
        hpm = (h1p + h2p - 360) / 2
    T = (1 - 0.17 * np.cos(np.radians(hpm - 30)) + 0.24 * np.cos(np.radians(2 * hpm))
         + 0.32 * np.cos(np.radians(3 * hpm + 6)) - 0.20 * np.cos(np.radians(4 * hpm - 63)))
    dtheta = 30 * np.exp(-(((hpm - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cpm ** 7 / (Cpm ** 7 + 25 ** 7))
    Sl = 1 + 0.015 * (Lpm - 50) ** 2 / np.sqrt(20 + (Lpm - 50) ** 2)
    Sc, Sh = 1 + 0.045 * Cpm, 1 + 0.015 * Cpm * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return float(np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh)))


VISIONS = ("normal", "greyscale", "protanopia", "deuteranopia", "tritanopia")


@dataclass(frozen=True)
class Category:
    """One legend entry as a reader tells it apart: its colour and its non-colour cues.

    ``group``: the key the entry belongs to (a legend, or a titled section of one such as
    "Status of the figure (fill):"); only entries of one key are compared with each other."""
    label: str
    colour: tuple
    cues: tuple
    group: tuple = ()


# Marker shapes a reader cannot be relied on to tell apart at the size of a legend key (about
# 2 mm): a diamond and a thin diamond, a hexagon on its side and on its point, a circle and an
# octagon. Two categories told apart only by such a pair must differ by their colour.
SHAPE_FAMILIES = {"d": "D", "H": "h", "8": "o"}


def shape_family(marker) -> str:
    m = str(marker)
    return SHAPE_FAMILIES.get(m, m)


def legend_categories(fig) -> list[Category]:
    """The entries of every legend of a figure, with the colour and the shape/pattern of each."""
    import matplotlib.colors as mcolors
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = []
    for n, leg in enumerate(_legends(fig)):
        section = 0
        marks = _key_marks(leg)
        for h, t in zip(leg.legend_handles, leg.texts):
            if h is None:
                continue
            if isinstance(h, Line2D):
                marker = h.get_marker()
                has_marker = marker not in (None, "None", "none", "", " ")
                drawn_line = h.get_linestyle() not in ("None", "none", "", " ")
                if not has_marker and not drawn_line:  # a section heading of the legend
                    section += 1
                    continue
                colour = h.get_markerfacecolor() if has_marker and not drawn_line else h.get_color()
                if mcolors.to_rgba(colour)[3] == 0:
                    colour = h.get_markeredgecolor()
                hollow = has_marker and mcolors.to_rgba(h.get_markerfacecolor())[3] == 0
                cues = ("line", shape_family(marker) if has_marker else "", _dash_cue(h) if drawn_line else "",
                        round(h.get_linewidth(), 1) if drawn_line else 0, round(h.get_markersize(), 1) if has_marker else 0,
                        (h.get_fillstyle(), hollow) if has_marker else "")
            elif isinstance(h, Patch):
                colour = h.get_facecolor()
                if mcolors.to_rgba(colour)[3] == 0:
                    colour = h.get_edgecolor()
                cues = ("patch", h.get_hatch() or "", round(h.get_linewidth(), 1))
            elif isinstance(h, Collection):
                fc = h.get_facecolor()
                colour = tuple(fc[0]) if len(fc) else tuple(h.get_edgecolor()[0])
                sizes = h.get_sizes()
                cues = ("collection", round(float(sizes[0]), 1) if len(sizes) else 0)
            else:
                continue
            rgba = mcolors.to_rgba(colour)
            if rgba[3] == 0:  # an entry with no mark at all (a note in the legend): not a category
                continue
            out.append(Category(t.get_text(), _blend(rgba)[:3], cues + marks.get(id(t), ()), (n, section)))
    return out


# What a legend key shows besides its colour, measured from what the key draws (maps: the dash
# pattern of a line, the arrowhead and white core of a route kind, the numbered badge of a wave).
def _dash_cue(line) -> tuple:
    """A drawn line's style as a reader sees it: solid, or its dash pattern (pt, to 0.5 pt)."""
    _, seq = getattr(line, "_unscaled_dash_pattern", (0, None))
    if not seq:
        return ("solid",)
    return ("dashed",) + tuple(round(2 * float(x)) / 2 for x in seq)


def _tone(colour) -> str:
    """A mark's paint as a cue: none, white (L* at least 95) or ink (any other colour)."""
    import matplotlib.colors as mcolors

    rgba = mcolors.to_rgba(colour)
    if rgba[3] == 0:
        return "none"
    return "white" if srgb_to_lab(np.array(_blend(rgba)[:3]))[0] >= 95 else "ink"


def _mark_cue(a) -> tuple:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon
    from matplotlib.text import Text

    if isinstance(a, Text):
        return ("text", a.get_text())
    if isinstance(a, Line2D):
        return ("line", len(a.get_xdata()), _dash_cue(a), _tone(a.get_color()))
    if isinstance(a, Patch):
        n = len(a.get_xy()) if isinstance(a, Polygon) else 0
        return ("patch", type(a).__name__, n, _tone(a.get_facecolor()), a.get_hatch() or "")
    return (type(a).__name__,)


def _key_marks(leg) -> dict:
    """id(label text) → the marks its key draws besides the legend handle (empty for the
    standard keys, which draw only the handle)."""
    from matplotlib.offsetbox import DrawingArea, OffsetBox, TextArea

    handles = {id(h) for h in leg.legend_handles if h is not None}
    out = {}

    def walk(box):
        kids = box.get_children()
        if len(kids) == 2 and isinstance(kids[0], DrawingArea) and isinstance(kids[1], TextArea):
            extra = sorted((_mark_cue(a) for a in kids[0].get_children() if id(a) not in handles), key=repr)
            if extra:
                out[id(kids[1]._text)] = (("marks",) + tuple(extra),)
            return
        for k in kids:
            if isinstance(k, OffsetBox):
                walk(k)

    walk(leg._legend_handle_box)
    return out


def distinctness(cats: list[Category], min_delta: float = 10.0) -> list[tuple]:
    """Pairs of categories a reader could confuse: same non-colour cues and a colour difference
    (CIEDE2000) below ``min_delta`` in one of :data:`VISIONS`. Returns ``(a, b, vision, dE)``."""
    bad = []
    for i in range(len(cats)):
        for j in range(i + 1, len(cats)):
            a, b = cats[i], cats[j]
            if a.group != b.group or a.cues != b.cues or a.label == b.label:
                continue
            for v in VISIONS:
                la = srgb_to_lab(simulate(a.colour, v))
                lb = srgb_to_lab(simulate(b.colour, v))
                d = delta_e2000(la, lb)
                if d < min_delta:
                    bad.append((a.label, b.label, v, round(d, 1)))
                    break
    return bad


# ------------------------------------------------------------------ render and save
@dataclass
class PaperFigure:
    spec: figures.FigureSpec
    fig: object
    data: object
    width_mm: float
    source_line: str
    caption: str
    removed_titles: list


def _design_scale(fig_id: str, wmm: float) -> float:
    if wmm <= 120:
        return SINGLE_HEIGHT_SCALE.get(fig_id, 1.0)
    return 1.0


def render(fig_id: str, width: str | float = "single", grayscale: bool = False,
           design_width_in: float | None = None, height_scale: float | None = None) -> PaperFigure:
    """Build a figure for the paper edition at ``width`` (single, double or mm), without title and source line."""
    specs = figures.load_all()
    spec = specs[fig_id]
    wmm = width_mm(width)
    hs = _design_scale(fig_id, wmm) if height_scale is None else height_scale
    with style.paper_edition(design_width_in or wmm * MM, hs):
        fig, data = spec.make()
        figures.freeze_layout(fig)
        removed = getattr(fig, "_paper_removed_titles", []) + remove_titles(fig)
        fit_legends(fig)
        pin_figure_legends(fig)
        flatten_alpha(fig)
        if grayscale:
            to_greyscale(fig)
        fig.set_facecolor("white")
    data = data.reset_index(drop=True)
    keys = figures.source_keys(data, spec.extra_sources)
    _TEXTS[fig_id] = {"caption": figures._text(spec.caption, data), "source_line": figures.source_line(spec, keys)}
    return PaperFigure(spec, fig, data, wmm, figures.source_line(spec, keys),
                       figures._text(spec.caption, data), removed)


def pin_figure_legends(fig) -> None:
    """Fix every figure legend where it is drawn, in the figure's own coordinates.

    A figure legend is placed against the figure's box ("outside lower center"); saving a part
    (``bbox_inches`` = the part's box) makes that box the part's, and the legend would move into
    the part, on top of its panels. Anchored by its lower-left corner in figure coordinates, it
    stays under the panels, in the part it belongs to."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for leg in fig.legends:
        bb = leg.get_window_extent(renderer)
        x, y = fig.transFigure.inverted().transform((bb.x0, bb.y0))
        leg.borderaxespad = 0
        leg.set_bbox_to_anchor((x, y), transform=fig.transFigure)
        leg._loc = 3  # lower left
    fig.canvas.draw()


def _tight(fig):
    """The drawn content's box in inches."""
    fig.canvas.draw()
    return fig.get_tightbbox(fig.canvas.get_renderer())


def _row_cuts(fig, tb) -> list[float]:
    """Heights (inches, figure coordinates) between rows of panels where the figure may be cut."""
    renderer = fig.canvas.get_renderer()
    spans = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        bb = ax.get_tightbbox(renderer)
        if bb is None:
            continue
        spans.append((bb.y0 / fig.dpi, bb.y1 / fig.dpi))
    for leg in fig.legends:
        bb = leg.get_window_extent(renderer)
        spans.append((bb.y0 / fig.dpi, bb.y1 / fig.dpi))
    spans.sort(key=lambda s: -s[1])
    rows = []  # merged (lo, hi), from the top
    for lo, hi in spans:
        if rows and hi > rows[-1][0]:
            rows[-1] = (min(lo, rows[-1][0]), max(hi, rows[-1][1]))
        else:
            rows.append((lo, hi))
    return [(rows[i][0] + rows[i + 1][1]) / 2 for i in range(len(rows) - 1)]


class TallRow(ValueError):
    """One row of panels is taller than 170 mm: the figure cannot be cut there."""

    def __init__(self, height_in: float):
        super().__init__(f"a row of panels is {height_in / MM:.0f} mm high, more than {MAX_HEIGHT_MM:g} mm")
        self.height_in = height_in


def pieces(fig, width_in: float):
    """The boxes (inches) to save: one, or several cut between rows of panels to stay ≤ 170 mm."""
    from matplotlib.transforms import Bbox

    tb = _tight(fig)
    x0 = tb.x0 - PAD_IN
    x1 = x0 + max(width_in, tb.width + 2 * PAD_IN)
    top, bottom = tb.y1 + PAD_IN, tb.y0 - PAD_IN
    limit = MAX_HEIGHT_MM * MM
    if top - bottom <= limit:
        return [Bbox([[x0, bottom], [x1, top]])]
    cuts = [c for c in _row_cuts(fig, tb) if bottom < c < top]
    boxes, hi = [], top
    while hi - bottom > limit:
        ok = [c for c in cuts if c < hi and hi - c <= limit]
        if not ok:
            raise TallRow(hi - max([c for c in cuts if c < hi] + [bottom]))
        lo = min(ok)
        boxes.append(Bbox([[x0, lo], [x1, hi]]))
        hi = lo
    boxes.append(Bbox([[x0, bottom], [x1, hi]]))
    return boxes


def fit(fig_id: str, width: str | float = "single", grayscale: bool = False, tries: int = 4):
    """Render so that the figure is at most the column wide and each part at most 170 mm high.

    Drawn at the column width first; if something (a long label, a wide legend) still sticks out,
    it is drawn again on a narrower canvas; if one row of panels is taller than 170 mm, it is drawn
    again shorter. Returns ``(PaperFigure, boxes)``.
    """
    import matplotlib.pyplot as plt

    target = width_mm(width) * MM
    design, hscale = target, _design_scale(fig_id, width_mm(width))
    problem = ""
    for attempt in range(tries):
        pf = render(fig_id, width, grayscale, design_width_in=design, height_scale=hscale)
        try:
            boxes = pieces(pf.fig, target)
        except TallRow as exc:
            hscale *= 0.97 * MAX_HEIGHT_MM * MM / exc.height_in
            problem = str(exc)
            plt.close(pf.fig)
            continue
        wide = boxes[0].width
        if wide <= target + 1e-6:
            overlaps = text_overlaps(pf.fig)
            if overlaps:
                plt.close(pf.fig)
                raise DoesNotFit(f"{len(overlaps)} pair(s) of labels overlap at this width, "
                                 f"e.g. \u201c{overlaps[0][0]}\u201d and \u201c{overlaps[0][1]}\u201d")
            on_marks = hotspots.labels_over_marks(pf.fig)
            if on_marks:
                plt.close(pf.fig)
                raise DoesNotFit(f"{len(on_marks)} label(s) lie on another figure's marker at this width, "
                                 f"e.g. the label of {on_marks[0][0]} on the marker of {on_marks[0][1]}")
            return pf, boxes
        problem = f"the layout needs {wide / MM:.0f} mm"
        plt.close(pf.fig)
        if design < 0.75 * target:  # labels and legends of fixed size: a narrower canvas does not help
            break
        design *= 0.99 * target / wide
    raise DoesNotFit(problem)


class DoesNotFit(ValueError):
    """The figure's layout cannot be re-flowed to this width without overlaps (yet)."""


def file_metadata(pf: PaperFigure, fmt: str, part: str = "") -> dict:
    s = pf.spec
    title = s.title + (f" ({part})" if part else "")
    ident = f"{s.id} ({width_name_mm(pf.width_mm)})"
    desc = f"Figure {ident} of {figures.BOOK_TITLE}, version {book_version()}. {pf.source_line}"
    lic = f"{s.licence} {figures.LICENCE_URL if s.licence == figures.LICENCE else ''}".strip()
    if fmt == "pdf":
        return {"Title": title, "Author": figures.BOOK_AUTHOR, "Subject": desc,
                "Keywords": f"figure id: {s.id}; licence: {lic}; {figures.BOOK_URL}",
                "Creator": f"{figures.BOOK_TITLE} {book_version()}", "Producer": None,
                "CreationDate": None, "ModDate": None}
    if fmt == "svg":
        return {"Title": title, "Creator": figures.BOOK_AUTHOR, "Description": desc, "Identifier": s.id,
                "Rights": lic, "Source": figures.BOOK_URL, "Publisher": f"{figures.BOOK_TITLE} {book_version()}",
                "Date": None}
    if fmt == "eps":
        return {"Title": title, "Creator": f"{figures.BOOK_TITLE} {book_version()}"}
    # png, tif: text tags
    return {"Title": title, "Author": figures.BOOK_AUTHOR, "Description": desc, "Identifier": s.id,
            "Copyright": lic, "Source": figures.BOOK_URL}


def width_name_mm(wmm: float) -> str:
    for k, v in WIDTHS_MM.items():
        if abs(v - wmm) < 1e-9:
            return f"{k} column, {v:g} mm"
    return f"{wmm:g} mm"


def save_bytes(pf: PaperFigure, box, fmt: str, part: str = "", dpi: int = TIFF_DPI) -> bytes:
    """One file of the paper edition, as bytes."""
    fig = pf.fig
    meta = file_metadata(pf, fmt, part)
    buf = io.BytesIO()
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"  # EPS: a fixed creation date
    try:
        with plt_paper_rc(), warnings.catch_warnings():
            warnings.filterwarnings("error", message=r"Glyph \d+ .* missing from font")
            if fmt in ("pdf", "svg", "eps"):
                fig.savefig(buf, format=fmt, dpi=72, metadata=meta, bbox_inches=box, facecolor="white")
                if fmt == "svg":  # matplotlib's hashed ids (clip paths, markers, hatches) numbered in order
                    return figures.stable_svg_ids(buf.getvalue())
                return _eps_comments(buf.getvalue(), pf, part) if fmt == "eps" else buf.getvalue()
            from PIL import Image, PngImagePlugin, TiffImagePlugin

            rdpi = PNG_DPI if fmt == "png" else dpi
            fig.savefig(buf, format="png", dpi=rdpi, bbox_inches=box, facecolor="white", metadata={"Software": None})
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    buf.seek(0)
    im = Image.open(buf).convert("RGB")
    arr = np.asarray(im)
    if (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
        im = im.convert("L")
    out = io.BytesIO()
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        for k, v in meta.items():
            info.add_itxt(k, v)
        im.save(out, format="PNG", pnginfo=info, dpi=(rdpi, rdpi), optimize=False)
    else:
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[270] = meta["Description"]            # ImageDescription
        tags[269] = meta["Title"]                  # DocumentName
        tags[315] = meta["Author"]                 # Artist
        tags[33432] = f"{meta['Copyright']}; {meta['Source']}"  # Copyright
        tags[305] = f"{figures.BOOK_TITLE} {book_version()}"    # Software
        im.save(out, format="TIFF", compression="tiff_lzw", dpi=(rdpi, rdpi), tiffinfo=tags)
    return out.getvalue()


def _eps_comments(blob: bytes, pf: PaperFigure, part: str) -> bytes:
    """Title, figure id, licence and address as DSC comments (matplotlib writes only the Creator)."""
    meta = file_metadata(pf, "png", part)

    def ascii_line(text: str) -> bytes:
        return text.replace("\u2013", "-").replace("\u2014", "-").encode("ascii", "replace")[:250]

    head = b"%%Title: " + ascii_line(f"{meta['Title']} [figure {pf.spec.id}]") + b"\n"
    head += b"%%Copyright: " + ascii_line(f"{meta['Copyright']}; {meta['Source']}") + b"\n"
    i = blob.index(b"%%Creator:")
    return blob[:i] + head + blob[i:]


def plt_paper_rc():
    import matplotlib.pyplot as plt

    return plt.rc_context(style.PAPER_RC)


# ------------------------------------------------------------------ files, caption, incremental
def _file_hash(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def input_hash(fig_id: str, options: str) -> str:
    """Hash of everything a figure's paper files depend on."""
    import matplotlib

    # every module of the package: a list of the modules a figure uses would have to be kept by
    # hand, and one left out (labels.py was) would leave old files in place after a change
    files = sorted((paths.ROOT / "kazdiaspora").rglob("*.py"))
    files += sorted(p for p in paths.DATA_DIR.rglob("*") if p.is_file())
    files += [paths.BIBFILE, paths.ROOT / "CITATION.cff"]
    h = hashlib.sha256(f"{fig_id}|{options}|matplotlib {matplotlib.__version__}".encode())
    for f in files:
        if f.exists():
            h.update(str(f.relative_to(paths.ROOT)).encode() + b"\0" + _file_hash(f).encode())
    for fp in font_files():
        h.update(fp.name.encode() + _file_hash(fp).encode())
    return h.hexdigest()


def font_files() -> list[Path]:
    from matplotlib import font_manager

    out = []
    for fam in (style.PAPER_FONT, "DejaVu Sans"):
        p = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
        out.append(Path(p))
    return out


def check_font() -> None:
    from matplotlib import font_manager

    def find() -> str:
        try:
            return font_manager.findfont(font_manager.FontProperties(family=style.PAPER_FONT),
                                         fallback_to_default=False)
        except ValueError:
            return ""

    p = find()
    if "Liberation" not in Path(p).name:  # installed after matplotlib cached its font list
        for f in sorted(Path("/usr/share/fonts").rglob("LiberationSans-*.ttf")):
            font_manager.fontManager.addfont(str(f))
        p = find()
    if "Liberation" not in Path(p).name:
        raise SystemExit(f"error: the font {style.PAPER_FONT} is not installed: "
                         f"run `bash scripts/install-system-deps.sh paper` (Debian fonts-liberation2)")


def citation(spec: figures.FigureSpec) -> str:
    return (f"{figures.BOOK_AUTHOR} ({figures.BOOK_YEAR}). \u201c{spec.title}\u201d [figure {spec.id}]. "
            f"In {figures.BOOK_TITLE}, version {book_version()}. {figures.BOOK_URL}. {spec.licence}.")


def caption_text(fig_id: str, written: dict[str, str]) -> str:
    """Caption, source line, licence, citation and the list of files, for the caption of a paper."""
    s = figures.load_all()[fig_id]
    r = _texts(fig_id)
    lines = [f"Figure: {s.title}", "", r["caption"], "", r["source_line"], "",
             f"Licence: {s.licence} ({figures.LICENCE_URL})" if s.licence == figures.LICENCE else f"Licence: {s.licence}",
             f"Cite as: {citation(s)}", "",
             "Files (the title and the source line are not in the image: put them in your caption):"]
    for wname, listing in sorted(written.items()):
        if listing.startswith("# not available:"):
            lines.append(f"  {wname}: not available yet ({listing[len('# not available:'):].strip()}); "
                         f"use another width")
            continue
        names = listing.split()
        parts = sorted({n.split(".part-")[1].split(".")[0] for n in names if ".part-" in n})
        note = f" (in {len(parts)} parts, cut between rows of panels, top to bottom, each at most " \
               f"{MAX_HEIGHT_MM:g} mm high)" if parts else ""
        lines.append(f"  {wname}{note}: " + ", ".join(names))
    lines += ["", f"Font: {style.PAPER_FONT} (SIL Open Font License), DejaVu Sans for characters it lacks; "
              "text at least 6 pt at the size of the file.", ""]
    return "\n".join(lines)


_TEXTS: dict[str, dict] = {}


def _texts(fig_id: str) -> dict:
    """Caption and source line of a figure (from the data it plots), cached per process."""
    if fig_id not in _TEXTS:
        import matplotlib.pyplot as plt

        spec = figures.load_all()[fig_id]
        with style.paper_edition(WIDTHS_MM["double"] * MM):
            if spec.data is not None:  # its rows without drawing it
                data = spec.data()
            else:
                fig, data = spec.make()
                plt.close(fig)
        data = data.reset_index(drop=True)
        keys = figures.source_keys(data, spec.extra_sources)
        _TEXTS[fig_id] = {"caption": figures._text(spec.caption, data), "source_line": figures.source_line(spec, keys)}
    return _TEXTS[fig_id]


def _write(path: Path, blob: bytes) -> None:
    if path.exists() and path.read_bytes() == blob:
        return
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)


def export(fig_id: str, width: str | float = "single", formats=FORMATS, grayscale: bool = False,
           line_art: bool = False, outdir: Path | None = None, force: bool = False) -> tuple[list[Path], bool]:
    """Write the paper files of one figure at one width; returns (files, redone?)."""
    import matplotlib.pyplot as plt

    outdir = Path(outdir or OUTDIR)
    outdir.mkdir(parents=True, exist_ok=True)
    wname = width_name(width) + (".grey" if grayscale else "")
    options = f"{width_mm(width)}|{','.join(formats)}|{grayscale}|{line_art}"
    key = input_hash(fig_id, options)
    stamp = outdir / f".{fig_id}.{wname}.hash"
    listing = outdir / f".{fig_id}.{wname}.files"
    if not force and stamp.exists() and stamp.read_text() == key and listing.exists():
        names = listing.read_text().split()
        if all((outdir / n).exists() for n in names):
            return [outdir / n for n in names], False
    wmm = width_mm(width)
    try:
        pf, boxes = fit(fig_id, width, grayscale)
    except DoesNotFit as exc:
        for old in outdir.glob(f"{fig_id}.{wname}.*"):
            old.unlink()
        listing.write_text(f"# not available: {exc}\n")
        _write_caption(fig_id, outdir)
        stamp.write_text(key)
        return [], True
    names = []
    for i, box in enumerate(boxes, 1):
        part = f"part {i} of {len(boxes)}" if len(boxes) > 1 else ""
        stem = f"{fig_id}.{wname}" + (f".part-{i}" if len(boxes) > 1 else "")
        for fmt in formats:
            blob = save_bytes(pf, box, fmt, part, LINE_ART_DPI if line_art else TIFF_DPI)
            _write(outdir / f"{stem}.{fmt}", blob)
            names.append(f"{stem}.{fmt}")
    plt.close(pf.fig)
    listing.write_text("\n".join(names) + "\n")
    _write_caption(fig_id, outdir)
    stamp.write_text(key)
    return [outdir / n for n in names], True


def _write_caption(fig_id: str, outdir: Path) -> None:
    """The caption file lists the files of every width written so far."""
    written = {}
    for lst in sorted(outdir.glob(f".{fig_id}.*.files")):
        written[lst.name[len(fig_id) + 2:-6]] = lst.read_text()
    _write(outdir / f"{fig_id}.caption.txt", caption_text(fig_id, written).encode("utf-8"))


def _export_widths(task) -> tuple[str, list[str], int]:
    """One figure at each width (a task of ``main``; runs in a worker process when --jobs > 1)."""
    fid, widths, formats, grayscale, line_art, outdir, force = task
    lines, redone = [], 0
    for w in widths:
        t = time.perf_counter()
        files, did = export(fid, w, formats, grayscale, line_art, outdir, force)
        redone += did
        lines.append(f"{width_name(w)}: {'written' if did else 'unchanged'} ({len(files)} files, "
                     f"{time.perf_counter() - t:.1f} s)")
    return fid, lines, redone


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kazdiaspora.figures paper",
                                 description="Write the paper edition of the book's figures to figures/paper/.")
    ap.add_argument("ids", nargs="*", help="figure ids (default: all)")
    ap.add_argument("--width", action="append", help="single (89 mm), double (183 mm) or a width in mm; "
                    "repeat for several (default: single and double)")
    ap.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, from {','.join(FORMATS)}")
    ap.add_argument("--grayscale", "--greyscale", action="store_true", help="write a greyscale edition")
    ap.add_argument("--line-art", action="store_true", help=f"TIFF at {LINE_ART_DPI} dpi instead of {TIFF_DPI}")
    ap.add_argument("--force", action="store_true", help="redo even when no input changed")
    ap.add_argument("--outdir", type=Path, default=OUTDIR)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="figures drawn at once, each in a process of its own (default: 2 or the number of CPUs)")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    check_font()
    specs = figures.load_all()
    ids = a.ids or sorted(specs)
    unknown = [i for i in ids if i not in specs]
    if unknown:
        ap.error(f"unknown figure id(s): {', '.join(unknown)}")
    formats = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        ap.error(f"unknown format(s): {', '.join(bad)}")
    widths = a.width or ["single", "double"]
    for w in widths:
        width_mm(w)
    t0 = time.perf_counter()
    jobs = max(1, min(a.jobs, len(ids)))
    # one task per figure (its widths one after another, so that its caption file has one writer);
    # the slowest figures (the maps) first, so that the workers finish together
    order = sorted(ids, key=lambda f: (not f.endswith("-map") and not f.startswith("route-map"), f)) if jobs > 1 else ids
    tasks = [(fid, widths, formats, a.grayscale, a.line_art, a.outdir, a.force) for fid in order]
    if jobs == 1:
        results = map(_export_widths, tasks)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_export_widths, tasks)
    redone = 0
    for i, (fid, lines, did) in enumerate(results, 1):
        redone += did
        for line in lines:
            print(f"[{i:>2}/{len(ids)}] {fid} {line}", file=sys.stderr, flush=True)
    if jobs > 1:
        pool.shutdown()
    print(f"{len(ids)} figures x {len(widths)} widths in {a.outdir} ({redone} redone, {jobs} at once, "
          f"{time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0
