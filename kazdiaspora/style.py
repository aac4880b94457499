"""The book's figure style: sizes for print, a colour-blind-safe palette, deterministic output.

Figures are drawn at :data:`WIDTH_IN` inches wide (the text width of a journal page, 165 mm) with
text no smaller than 7.5 pt, so that they stay legible printed at that width. Colours come from the
Okabe-Ito palette (safe for the common colour-vision deficiencies); each category also gets a
distinct marker so that nothing depends on colour alone. Every figure has an explicit white
background, so it stays legible on the book's dark theme.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # figures are exported, never shown interactively
# pyplot is imported where a figure is made (new_figure): a process that only reads the data (the
# book's build, a chapter whose figures are all kept) does not load it

WIDTH_IN = 6.5
"""Figure width in inches (165 mm): text width of a journal page."""

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#6b6b6b"
LIGHT_GREY = "#d9d9d9"
WATER = "#cfe3f0"
LAND = "#f4f1ea"

# One colour per wave of migration on the route maps (kazdiaspora.routemap), in time order.
WAVE_PALETTE = (
    "#661100",  # 1 Tol brown
    "#117733",  # 2 Tol green
    "#D55E00",  # 3 Okabe-Ito vermillion
    "#AA4499",  # 4 Tol purple
    "#0072B2",  # 5 Okabe-Ito blue
    "#882255",  # 6 Tol wine
    "#009E73",  # 7 Okabe-Ito bluish green
    "#999933",  # 8 Tol olive
    "#332288",  # 9 Tol indigo
    "#CC79A7",  # 10 Okabe-Ito reddish purple
    "#44AA99",  # 11 Tol teal
    "#56B4E9",  # 12 Okabe-Ito sky blue
    "#A66F00",  # 13 Okabe-Ito orange, darkened (stands out on the light-orange provinces)
    "#000000",  # 14 black
)
"""One colour per wave, assigned in time order (:func:`kazdiaspora.routemap.wave_colours`); no plain orange or yellow,
which would vanish on the highlighted (light orange) provinces."""

# One colour and marker per kind of figure, used consistently in every chapter (through the evidence
# grammar, kazdiaspora.evidence). Official statistics (a full diamond) and scholarly estimates (a
# thin diamond) have shapes that look alike at legend size, and Okabe-Ito blue and vermillion have
# almost the same lightness (CIEDE2000 8 in greyscale): official statistics are drawn in a darker
# blue (L* 31 instead of 46), so that the pair stays more than 20 apart in greyscale and under
# protanopia, deuteranopia and tritanopia (tests/test_paper.py).
KIND_STYLE = {
    "census": (OKABE_ITO["blue"], "o"),
    "official_estimate": (OKABE_ITO["sky_blue"], "s"),
    "official_statement": (OKABE_ITO["sky_blue"], "P"),
    "official_statistics": ("#004C77", "D"),
    "legal_act": (OKABE_ITO["black"], "X"),
    "field_study": (OKABE_ITO["bluish_green"], "^"),
    "scholarly_estimate": (OKABE_ITO["vermillion"], "d"),  # thin diamond: official statistics has the full one
    "association_claim": (OKABE_ITO["orange"], "*"),
    "encyclopedia": (OKABE_ITO["reddish_purple"], "v"),
    "media_report": (GREY, "h"),
    "archival": (OKABE_ITO["black"], "p"),
}
KIND_LABEL = {
    "census": "Census",
    "official_estimate": "Official estimate",
    "official_statement": "Official statement",
    "official_statistics": "Official statistics",
    "legal_act": "Legal act",
    "field_study": "Field study",
    "scholarly_estimate": "Scholarly estimate",
    "association_claim": "Diaspora association claim",
    "encyclopedia": "Encyclopedia",
    "media_report": "Media report",
    "archival": "Archival document",
}

RC = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": LIGHT_GREY,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.5,
    "svg.hashsalt": "kazakh-diaspora-book",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
    "axes.prop_cycle": matplotlib.cycler(color=[OKABE_ITO[k] for k in
                                                ("blue", "vermillion", "bluish_green", "orange",
                                                 "reddish_purple", "sky_blue", "black")]),
}


# The paper edition (kazdiaspora.paper): one freely licensed sans-serif metric-compatible with
# Arial/Helvetica (Liberation Sans, Debian fonts-liberation2, installed by
# scripts/install-system-deps.sh paper), DejaVu Sans as per-glyph fallback for the few characters
# Liberation lacks (arrows, triangles); text kept as text in SVG, fonts embedded as TrueType in
# PDF and EPS.
PAPER_FONT = "Liberation Sans"
PAPER_RC = {
    **RC,
    "font.family": [PAPER_FONT, "DejaVu Sans"],
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "ps.useafm": False,
}
FIGURE_TITLE_PT = 10
"""Size of a figure's own title (``fig.suptitle`` or a single axes' title): left out of the paper edition."""


@dataclass(frozen=True)
class Edition:
    """Where a figure is being drawn: the book (screen) or a paper edition of a given width."""
    width_in: float = 6.5
    paper: bool = False
    height_scale: float = 1.0


_EDITION = [Edition(WIDTH_IN)]


def edition() -> Edition:
    """The edition being drawn (the book's, unless inside :func:`paper_edition`)."""
    return _EDITION[-1]


@contextmanager
def paper_edition(width_in: float, height_scale: float = 1.0):
    """Draw figures for a journal column ``width_in`` inches wide, in the paper style.

    Chart code needs nothing special: :func:`figsize` and :func:`new_figure` read the width, and
    :func:`kazdiaspora.figures.freeze_layout` re-flows legends and leaves the title out before the
    layout is fixed.
    """
    _EDITION.append(Edition(width_in, True, height_scale))
    try:
        with matplotlib.rc_context(PAPER_RC):
            yield _EDITION[-1]
    finally:
        _EDITION.pop()


def figsize(height_in: float) -> tuple[float, float]:
    """``(width, height)`` in inches of a figure of the current edition (``height_in`` as designed
    for the book's width; a paper edition may scale it)."""
    e = edition()
    return (e.width_in, height_in * e.height_scale)


def apply() -> None:
    """Apply the book style globally (notebooks call this through ``kazdiaspora.figures``)."""
    matplotlib.rcParams.update(RC)


@contextmanager
def book_style():
    """The book's rc settings (the paper style inside :func:`paper_edition`)."""
    with matplotlib.rc_context(PAPER_RC if edition().paper else RC):
        yield


def new_figure(height_in: float, width_in: float | None = None, **kwargs):
    """A figure of the edition's width (the book's: :data:`WIDTH_IN`); ``kwargs`` go to ``plt.subplots``."""
    import matplotlib.pyplot as plt

    w, h = figsize(height_in)
    return plt.subplots(figsize=(width_in or w, h), **kwargs)


def add_source_line(fig, text: str) -> None:
    """Write the source line under everything else in the figure, wrapped to the figure's width.

    It hangs below the figure's bottom edge; the export crops to the drawn content
    (``bbox_inches='tight'``), so the line ends up under the axes and their labels.
    """
    import textwrap

    chars = int(fig.get_figwidth() * 15.5)
    wrapped = "\n".join(textwrap.wrap(text, chars))
    fig.text(0.01, -0.01, wrapped, ha="left", va="top", fontsize=7, color=GREY)


def fmt_int(x: float) -> str:
    """Thousands with a thin comma: 1250458 -> '1,250,458'."""
    return f"{x:,.0f}"


def fmt_people(x: float) -> str:
    """Compact count for labels: 1,250,458 -> '1.25 m', 45,000 -> '45 k', 900 -> '900'."""
    if x >= 1e6:
        return f"{x / 1e6:.2f} m".replace(".00 m", " m")
    if x >= 1e4:
        return f"{x / 1e3:.0f} k"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k".replace(".0 k", " k")
    return f"{x:.0f}"
