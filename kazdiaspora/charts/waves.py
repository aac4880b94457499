"""Chapter 2 figures: the migration waves on a timeline, and the routes they took on maps.

Tables: ``waves`` (one row per wave), ``wave_figures`` (figures per source), and for the maps
``routes``, ``route_stops``, ``gazetteer`` (drawn by :mod:`kazdiaspora.routemap`, which holds the
map specifications). Every map figure is registered from :data:`kazdiaspora.routemap.MAP_SPECS`:
a new map is a new spec, a new route a new row in ``data/routes/``.

Selection rule of the timeline's magnitude panel (:func:`mover_figures`): figures in persons that
count people who moved (emigrants, refugees, returnees...), not deaths, populations or shares.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from .. import data, evidence, hotspots, routemap, style
from . import narrow_column
from ..figures import register

CHAPTER = "02_waves_and_routes"

MOVER_WORDS = ("emigrant", "refugee", "fled", "who left", "left for", "returnee", "exiled", "repatriated",
               "moved", "heading", "reached", "set out", "migrated", "settled", "expelled", "crossed",
               "migrants", "led by")
"""Words of ``measure`` marking a figure that counts people who moved."""
NOT_MOVER_WORDS = ("deaths", "stock", "population", "census", "share", "conscripted", "camps", "starving",
                   "missing", "warriors", "counted in", "survivors after", "loss booked", "kyrgyz emigrants")
"""Words of ``measure`` that rule a figure out (deaths, stocks, populations, shares...)."""

DIRECTION_TEXT = {"out": "out of Kazakh lands", "return": "return", "onward": "onward", "in": "in"}
EARLY = (1718, 1730)
MAIN = (1898, 2028)


def mover_figures(figs: pd.DataFrame) -> pd.DataFrame:
    """Figures in persons that count people who moved (see :data:`MOVER_WORDS`)."""
    m = figs["measure"].fillna("").str.lower()
    mover = m.apply(lambda s: any(w in s for w in MOVER_WORDS)) & ~m.apply(lambda s: any(w in s for w in NOT_MOVER_WORDS))
    has = figs[["value", "value_low", "value_high"]].notna().any(axis=1)
    return figs[(figs["unit"] == "persons") & mover & has & (figs["kind"] != "census")]


def is_lower_bound(figs: pd.DataFrame) -> pd.Series:
    printed = figs["as_printed"].fillna("").str.lower()
    return figs["measure"].fillna("").str.contains("lower bound") | printed.str.startswith(routemap.LOWER_BOUND_WORDS)


YEARS_NOT_PRINTED = {
    "ongoing": "wave {no} continues: {end} is the last year of the data, not an end",
    "Years: the Soviet Union's war years": "the years of wave {no} ({start}\u2013{end}) are those of the war itself, "
                                           "which its source names without printing either year",
}
"""Markers in a wave's ``note`` for years that no source prints, and how the waves table says so."""


def years_caveats(t: pd.DataFrame | None = None) -> str:
    """Sentences for the waves table: which waves' years are not printed by their source."""
    t = timeline_data() if t is None else t
    parts = []
    for _, w in t[t["row_type"] == "wave"].sort_values("wave_no").iterrows():
        note = str(w.get("note") or "")
        for marker, text in YEARS_NOT_PRINTED.items():
            if marker in note:
                parts.append(text.format(no=int(w["wave_no"]), start=int(w["year_start"]), end=int(w["year_end"])))
    return "; ".join(parts)


def timeline_data() -> pd.DataFrame:
    waves = data.load("waves")
    figs = data.load("wave_figures")
    order = routemap.wave_order(waves)
    nums, cols = routemap.wave_numbers(waves), routemap.wave_colours(waves)
    w = waves.set_index("wave_id").loc[order].reset_index()
    wrows = pd.DataFrame({
        "row_type": "wave", "wave_id": w["wave_id"], "wave_no": [nums[i] for i in w["wave_id"]],
        "name": w["name"], "year_start": w["year_start"], "year_end": w["year_end"],
        "direction": w["direction"], "driver": w["driver"], "colour": [cols[i] for i in w["wave_id"]],
        "source_key": w["source_key"], "locator": w["locator"], "dates_source_key": w["dates_source_key"],
        "note": w["note"]})
    f = evidence.drawable(mover_figures(figs)).copy()
    f["_o"] = f["wave_id"].map({k: i for i, k in enumerate(order)})
    f = f.sort_values(["_o", "id"])
    frows = pd.DataFrame({
        "row_type": "figure", "wave_id": f["wave_id"], "wave_no": f["wave_id"].map(nums), "id": f["id"],
        "value": f["value"], "value_low": f["value_low"], "value_high": f["value_high"],
        "lower_bound": is_lower_bound(f), "as_printed": f["as_printed"], "measure": f["measure"],
        "kind": f["kind"], "status": f["status"], "source_key": f["source_key"], "locator": f["locator"]})
    return pd.concat([wrows, frows], ignore_index=True)


def _timeline_alt(d: pd.DataFrame) -> str:
    w = d[d.row_type == "wave"]
    f = d[d.row_type == "figure"]
    return (f"Timeline with one bar per migration wave, {len(w)} waves from {int(w.year_start.min())} to "
            f"{int(w.year_end.max())}, in a narrow panel for the 1720s and a wide one from 1898; beside it a "
            f"dot plot on a logarithmic scale of {len(f)} figures from the sources for the number of people who "
            f"moved in each wave, with ranges drawn as lines.")


def _timeline_caption(d: pd.DataFrame) -> str:
    f = d[d.row_type == "figure"]
    nsrc = f["source_key"].nunique()
    return (f"Migration waves, numbered in time order as on the maps. Bars: the period of each wave (left: "
            f"{EARLY[0]}\u2013{EARLY[1]}; right: from {MAIN[0]}). Dots: {len(f)} figures from {nsrc} sources for how many people moved "
            f"(emigrants, refugees, returnees; deaths and population counts are left out), one marker per kind "
            f"of source; a line is a printed range, an arrow a lower bound ('more than'). Several figures of "
            f"Askhat's paper are confirmed by no other source (see the data).")


def timeline_plotted() -> pd.DataFrame:
    """The rows of the timeline (:func:`timeline_data`) without their colours, which the drawing is
    given in ``attrs["drawn"]["colours"]`` (wave id: colour)."""
    d = timeline_data()
    out = d.drop(columns=["colour"])
    w = d[d.row_type == "wave"]
    out.attrs["drawn"] = {"colours": dict(zip(w["wave_id"], w["colour"]))}
    return out


@register("waves-timeline", chapter=CHAPTER, title="Migration waves from 1723 to the return after 1991",
          caption=_timeline_caption, alt=_timeline_alt, data=timeline_plotted)
def waves_timeline(d: pd.DataFrame):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    colours = d.attrs["drawn"]["colours"]
    w = d[d.row_type == "wave"].reset_index(drop=True)
    w["colour"] = w["wave_id"].map(colours)
    f = d[d.row_type == "figure"]
    n = len(w)
    narrow = narrow_column()  # one journal column: names wrapped shorter, taller rows, upright early years
    fig = plt.figure(figsize=style.figsize((0.5 if narrow else 0.4) * n + 1.7), layout="constrained")
    gs = fig.add_gridspec(2, 3, width_ratios=[0.09, 0.52, 0.39], height_ratios=[1.0, 0.24], wspace=0.02)
    ax0, ax1, ax2 = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[0, 2])
    lax = fig.add_subplot(gs[1, :])
    lax.axis("off")
    y = np.arange(n)
    for ax, (a, b) in ((ax0, EARLY), (ax1, MAIN)):
        for i, r in w.iterrows():
            s, e = r.year_start, r.year_end
            if e < a or s > b:
                continue
            hotspots.row(ax, r.wave_id)
            width = max(e - s + 1, 1.6 if ax is ax1 else 0.7)
            ax.barh(i, width, left=s, height=0.62, color=r.colour, edgecolor="white", linewidth=0.5,
                    hatch=None if r.direction == "out" else ("////" if r.direction == "return" else "...."))
        hotspots.done(ax)
        ax.set_xlim(a, b)
        ax.set_ylim(n - 0.4, -0.6)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
    for i, r in w.iterrows():  # years next to the bar (left of it near the right edge)
        s, e = int(r.year_start), int(r.year_end)
        txt = f"{s}" if s == e else f"{s}–{e}"
        if e < MAIN[0]:
            ax1.text(MAIN[0] + 1, i, f"◂ {txt}", ha="left", va="center", fontsize=7.5, color=style.GREY)
        elif e > 1985:
            ax1.text(s - 1.5, i, txt, ha="right", va="center", fontsize=7.5, clip_on=True, color=style.GREY)
        else:
            ax1.text(max(e, s + 1) + 2.0, i, txt, ha="left", va="center", fontsize=7.5, clip_on=True,
                     color=style.GREY)
    ax0.set_xticks([1720], ["1720"])  # the panel is narrow: a second year ran into the first
    ax1.set_xticks([1900, 1930, 1960, 1990, 2020])
    names_wrap = 22 if narrow else 30
    if narrow:
        ax0.tick_params(axis="x", labelrotation=90)
    ax0.set_yticks(y, [f"{r.wave_no}  " + "\n".join(textwrap.wrap(r["name"], names_wrap)) for _, r in w.iterrows()],
                   fontsize=7.5, linespacing=1.0)
    ax1.set_yticks(y, [])
    ax1.spines["left"].set_visible(False)
    ax1.tick_params(axis="y", length=0)
    for ax in (ax0, ax1):
        ax.tick_params(axis="x", labelsize=7.5)
    # broken-axis marks
    for x in (1.0,):
        ax0.plot([x - 0.12, x + 0.12], [-0.02, 0.02], transform=ax0.transAxes, color="k", clip_on=False, lw=0.8)
    ax1.set_xlabel("Year", fontsize=8.5)
    ax1.set_title("Period", loc="left", fontsize=9)
    # magnitudes
    row_of = {wid: i for i, wid in enumerate(w["wave_id"])}
    kinds = []
    for wid, grp in f.groupby("wave_id", sort=False):
        k = len(grp)
        offs = np.linspace(-0.28, 0.28, k) if k > 1 else np.array([0.0])
        for off, (_, r) in zip(offs, grp.iterrows()):
            yy = row_of[wid] + off
            hotspots.row(ax2, r.id)
            colour, marker = evidence.KIND_STYLE[r.kind]
            kinds.append(r.kind)
            if pd.notna(r.value_low) and pd.notna(r.value_high):
                ax2.plot([r.value_low, r.value_high], [yy, yy], color=colour, lw=1.6, solid_capstyle="butt")
                ax2.plot([r.value_low, r.value_high], [yy, yy], ls="none", marker="|", ms=5, color=colour)
            if pd.notna(r.value):
                evidence.scatter_mark(ax2, r.value, yy, r.kind, evidence.grade_of(r.source_key), r.status, size=4.8)
                if r.lower_bound:
                    ax2.annotate("", xy=(r.value * 1.9, yy), xytext=(r.value * 1.1, yy),
                                 arrowprops=dict(arrowstyle="-|>", color=colour, lw=0.8, mutation_scale=6))
    hotspots.done(ax2)
    ax2.set_xscale("log")
    ax2.set_xlim(30, 6e6)
    ax2.set_ylim(n - 0.4, -0.6)
    ax2.set_yticks(y, [])
    ax2.tick_params(axis="y", length=0)
    ax2.grid(axis="x", which="major")
    ax2.set_axisbelow(True)
    for i in y[1::2]:
        for ax in (ax0, ax1, ax2):
            ax.axhspan(i - 0.5, i + 0.5, color="#f3f3f3", zorder=-1, lw=0)
    ax2.set_xticks([1e2, 1e4, 1e6], ["100", "10 k", "1 m"], fontsize=7.5)  # "10,000" ran into "1 million"
    ax2.set_xlabel("People who moved (log scale;\nk thousand, m million)", fontsize=8.5)
    ax2.set_title("How many, by source", loc="left", fontsize=9)
    from matplotlib.patches import Patch
    # one group a column (a heading never at the foot of one column with its entries in the next)
    handles, ncol = evidence.legend_columns(
        evidence.kind_handles(sorted(set(kinds), key=list(evidence.KIND_STYLE).index))
        + [evidence.heading(evidence.OTHER_HEADING),
           Line2D([], [], color=style.GREY, lw=1.6, label="printed range"),
           Patch(facecolor="#bbbbbb", edgecolor="white", label="bar: out of Kazakh lands"),
           Patch(facecolor="#bbbbbb", edgecolor="white", hatch="////", label="bar: return"),
           Patch(facecolor="#bbbbbb", edgecolor="white", hatch="....", label="bar: onward")],
        evidence.status_handles() + evidence.grade_handles())
    lax.legend(handles=handles, loc="center", ncol=ncol, fontsize=7.5, frameon=False, borderaxespad=0.0)
    fig.suptitle("Migration waves: when, which way, and how many", x=0.01, ha="left", fontsize=10,
                 fontweight="bold")
    return fig


# ------------------------------------------------------------------------------------- maps
MAP_TEXT = {
    "iran": ("Route map: from Mangystau through Turkmenistan to Golestan, and back",
             "the flight from the Mangyshlak peninsula through the Turkmen SSR to Gomish Tepe and the towns of "
             "Golestan (1929–1936), an earlier outline wave (1920–1922) and the returns to Kazakhstan from 1993"),
    "xinjiang": ("Route map: between Kazakhstan and Xinjiang",
                 "the moves from the Kazakh steppe into the Ili valley, Tarbagatai and the Altai (1902–1933) and "
                 "the moves back: the 1962 Yi–Ta exodus and the return after 1991"),
    "kashmir": ("Route map: from Xinjiang across Tibet to Kashmir, Turkey and Europe",
                "the exodus from Xinjiang through Gansu and Qinghai and across Tibet to Kashmir (1934–1951), the "
                "resettlement to Turkey (1952–1954) and the labour migration on to Western Europe"),
    "other": ("Route map: the other directions",
              "the moves to Russia, western Mongolia, Uzbekistan (Karakalpakstan), Turkmenistan, Afghanistan and the "
              "Pamir, and the returns from Mongolia and Uzbekistan"),
    "overview": ("Route map: overview of the routes",
                 "every route of the chapter's maps except the short moves within Golestan and the onward moves "
                 "from Turkey to Western Europe"),
}


def _map_caption(map_id: str):
    def cap(d: pd.DataFrame) -> str:
        r = d[d.row_type == "route"]
        n_out = int((r.certainty == "outline").sum())
        n_fig = int(r.magnitude_id.notna().sum())
        return (f"{MAP_TEXT[map_id][1][0].upper()}{MAP_TEXT[map_id][1][1:]}. {len(r)} routes of "
                f"{r.wave_id.nunique()} waves; each is numbered by its wave (see the timeline). {n_out} are "
                f"dashed: the sources give only the end points or a country, and the stops drawn are our "
                f"choice. {n_fig} routes carry a figure from a source; where it counts people the line width "
                f"grows with its square root. Projection: Lambert conformal conic; boundaries: Natural Earth "
                f"(today's borders).")
    return cap


def _map_alt(map_id: str):
    def alt(d: pd.DataFrame) -> str:
        r = d[d.row_type == "route"]
        names = sorted(set(" > ".join(r["stop_names"]).split(" > ")))
        return (f"Map of {MAP_TEXT[map_id][1]}: {len(r)} arrows between {len(names)} places, among them "
                f"{', '.join(names[:6])}; arrows coloured and numbered by wave, dashed where the path is "
                f"only known in outline, wider where a source gives more people.")
    return alt


def _register_map(map_id: str) -> None:
    def rows():
        return routemap.map_data(map_id)

    def build(d: pd.DataFrame):
        return routemap.draw_map_rows(map_id, d)

    build.__qualname__ = f"route_map_{map_id}"
    register(f"route-map-{map_id}", chapter=CHAPTER, title=MAP_TEXT[map_id][0],
             caption=_map_caption(map_id), alt=_map_alt(map_id), data=rows)(build)


for _mid in sorted(routemap.MAP_SPECS):
    _register_map(_mid)
