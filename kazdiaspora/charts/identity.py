"""Figures of the chapter *Identity, institutions and the diasporas within Kazakhstan*.

Every figure reads its tables through :func:`kazdiaspora.data.load` (``scripts``, ``kurultays``,
``survey``, ``diasporas_in_kazakhstan``, ``turning_points``) and returns exactly the rows it
draws, with their ``source_key`` and ``locator``. No number or date is typed here: labels,
captions and alt texts are built from the tables.

Small helpers (date parsing and formatting, text wrapping, label levels, label spreading on
the map, provenance of the Kurultay dates) are plain functions with unit tests in
``tests/test_charts_identity.py``.
"""
from __future__ import annotations

import calendar
import re
import textwrap

import numpy as np
import pandas as pd

from .. import bib, data, evidence, hotspots, style
from . import narrow_column
from ..figures import freeze_layout, register
from ..labels import boxes_overlap, spread_labels  # noqa: F401  (used here and by the tests)

CHAPTER = "04_identity_and_institutions"
SEED_PAPER = "askhat_grfdt"  # seed 001, the paper the chapter is built on

# --------------------------------------------------------------------------- small helpers

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_date(text: str) -> tuple[int, int | None, int | None]:
    """'1986-12-16' -> (1986, 12, 16); '2022-01' -> (2022, 1, None); '1992' -> (1992, None, None)."""
    m = _DATE.match(str(text))
    if not m:
        raise ValueError(f"not an ISO date at year, month or day precision: {text!r}")
    y, mo, d = m.groups()
    return int(y), (int(mo) if mo else None), (int(d) if d else None)


def decimal_year(text: str, end: bool = False) -> float:
    """A date as a fractional year. With ``end=True`` the end of the period the date names
    (the end of the year for '1933', of the month for '2022-01', of the day for a full date)."""
    y, mo, d = parse_date(text)
    days_in_year = 366 if calendar.isleap(y) else 365
    if mo is None:
        return float(y + 1) if end else float(y)
    if d is None:
        start_doy = sum(calendar.monthrange(y, m)[1] for m in range(1, mo))
        length = calendar.monthrange(y, mo)[1]
        return y + (start_doy + (length if end else 0)) / days_in_year
    doy = sum(calendar.monthrange(y, m)[1] for m in range(1, mo)) + d - 1
    return y + (doy + (1 if end else 0)) / days_in_year


def format_date(date: str, date_end: str | None = None) -> str:
    """Human date at the precision the source gives: '16–17 Dec 1986', 'Jan 2022', '1931–1933'."""
    y, mo, d = parse_date(date)

    def one(y, mo, d):
        if mo is None:
            return f"{y}"
        if d is None:
            return f"{calendar.month_abbr[mo]} {y}"
        return f"{d} {calendar.month_abbr[mo]} {y}"

    if date_end is None or (isinstance(date_end, float) and np.isnan(date_end)) or date_end == date:
        return one(y, mo, d)
    y2, mo2, d2 = parse_date(date_end)
    if (mo is None) != (mo2 is None) or (d is None) != (d2 is None):
        return f"{one(y, mo, d)}\u2013{one(y2, mo2, d2)}"
    if d is not None and (y, mo) == (y2, mo2):
        return f"{d}\u2013{d2} {calendar.month_abbr[mo]} {y}"
    if d is None and mo is not None and y == y2:
        return f"{calendar.month_abbr[mo]}\u2013{calendar.month_abbr[mo2]} {y}"
    return f"{one(y, mo, d)}\u2013{one(y2, mo2, d2)}"


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def wrap(text: str, width: int) -> str:
    """Wrap text on word boundaries to lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(" ".join(str(text).split()), width, break_long_words=False,
                                   break_on_hyphens=False))


# Short names for sources inside charts where the author-year cite would be unclear (anonymous
# or untitled entries, several 'Wikipedia contributors' entries). Labels only: no figures.
SOURCE_LABELS = {
    "ehistory_azerbaijanis": "e-history.kz portal (page on Azerbaijanis in Kazakhstan)",
    "gh_kz_census_script": "anonymous census data script",
    "iran_kazakhs_article": "article on the Kazakhs of Iran",
    "wp_azerbaijanis_kz": "English Wikipedia",
    "wp_zhanaozen": "English Wikipedia",
}


def source_label(key: str) -> str:
    """A short name for a source inside a chart: :data:`SOURCE_LABELS` or the author-year cite;
    other 'Wikipedia contributors' entries become 'Wikipedia, <title>' to stay distinguishable."""
    if key in SOURCE_LABELS:
        return SOURCE_LABELS[key]
    cite = bib.short_cite(key)
    if cite.startswith("Wikipedia contributors"):
        title = bib.entries()[key].fields.get("title", key)
        return "Wikipedia, \u2018" + re.sub(r"[{}]", "", title) + "\u2019"
    return cite


def alternate_levels(xs, min_gap: float, n_levels: int = 2) -> list[int]:
    """Give each point (in order of x) a label level so that two labels on the same level are at
    least ``min_gap`` apart; levels are tried 0, 1, ... and the least crowded one wins.

    Returns one level per input point, in input order. Deterministic (ties broken by x, then index).
    """
    order = sorted(range(len(xs)), key=lambda i: (xs[i], i))
    last: dict[int, float] = {}
    out = [0] * len(xs)
    for i in order:
        x = xs[i]
        free = [lv for lv in range(n_levels) if lv not in last or x - last[lv] >= min_gap]
        if free:
            lv = free[0]
        else:  # everything crowded: use the level whose last label is farthest away
            lv = min(range(n_levels), key=lambda v: (last[v], v))
        out[i] = lv
        last[lv] = x
    return out


# label placement lives in kazdiaspora.labels (one module for every map and chart)


DATE_FROM_PAPER, DATE_FROM_OTHER = "Askhat's paper", "another source"
"""Values of the kurultays figure's ``date_source`` column."""


def kurultay_date_source(row) -> str:
    """Where a Kurultay's date comes from: Askhat's paper when the row is sourced to it or its note
    records that the paper prints the same date; otherwise another source."""
    if row["source_key"] == SEED_PAPER:
        return DATE_FROM_PAPER
    note = str(row.get("note") or "")
    if re.search(r"Askhat's paper gives the same date", note):
        return DATE_FROM_PAPER
    return DATE_FROM_OTHER


def glue_text(name: str, text):
    """:func:`kazdiaspora.facts.glue`, protected against MyST-NB's ``{glue:text}`` rendering.

    MyST-NB passes the glued text/plain through ``ast.literal_eval`` before pasting it, so
    '78,325' would appear as '(78, 325)'. When the pasted text would differ from ``text``, the
    text is glued as a quoted string literal instead, which evaluates back to itself."""
    from myst_nb.core.variables import format_plain_text

    from .. import facts

    text = str(text)
    if format_plain_text(repr(facts.Fact(text)), "s") != text:
        text = repr(text)
    return facts.glue(name, text)


def _add_year_axis(ax, lo: int, hi: int, step: int):
    ax.set_xlim(lo, hi)
    ax.set_xticks(range(lo - lo % step + (step if lo % step else 0), hi + 1, step))
    ax.xaxis.grid(True)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------- scripts map

SCRIPT_STYLE = {
    # script: (label, colour, hatch) — three Okabe-Ito colours of different lightness + hatching
    "arabic": ("Arabic script", style.OKABE_ITO["orange"], "////"),
    "latin": ("Latin script", style.OKABE_ITO["sky_blue"], "...."),
    "cyrillic": ("Cyrillic script", style.OKABE_ITO["bluish_green"], ""),
}
HOMELAND = "KAZ"
# Countries that set the map frame: every host country of the table and the homeland, except
# Russia (whose Siberian and Arctic parts would swamp the map), cut east of MAP_EAST_LIMIT
# (the committed layers stop at 130 E, so eastern China is cut there anyway).
FRAME_EXCLUDE = ("RUS",)
MAP_EAST_LIMIT = 123.0
MAP_MARGIN = 0.02  # of the frame's width, added on every side


def _solve(f, target: float, lo: float, hi: float, iterations: int = 80) -> float:
    """x in [lo, hi] with f(x) == target, by bisection (f monotonic on the interval)."""
    flo = f(lo) - target
    for _ in range(iterations):
        mid = (lo + hi) / 2
        fm = f(mid) - target
        if (fm < 0) == (flo < 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2


def extent_for_frame(project, xlim, ylim, iterations: int = 20):
    """The lon/lat extent whose frame in :func:`kazdiaspora.basemap.draw_basemap` is ``xlim``,
    ``ylim``. draw_basemap frames a map by the projected mid-lines of its extent: x runs between
    the extent's west and east ends at its centre latitude, y between its south and north ends at
    its centre longitude. This inverts that (bisection inside a fixed-point loop)."""
    lon0, lon1, lat0, lat1 = -100.0, 179.0, -80.0, 85.0
    lon_c, lat_c = 60.0, 40.0
    for _ in range(iterations):
        lon0 = _solve(lambda lo: project(lo, lat_c)[0], xlim[0], lon_c - 170, lon_c)
        lon1 = _solve(lambda lo: project(lo, lat_c)[0], xlim[1], lon_c, lon_c + 170)
        lat0 = _solve(lambda la: project(lon_c, la)[1], ylim[0], -60.0, 85.0)
        lat1 = _solve(lambda la: project(lon_c, la)[1], ylim[1], -60.0, 85.0)
        lon_c, lat_c = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    return (float(lon0), float(lon1), float(lat0), float(lat1))


def map_frame(countries_lonlat, isos, crs) -> tuple[tuple[float, float], tuple[float, float]]:
    """Projected frame (xlim, ylim) covering the given countries, cut east of MAP_EAST_LIMIT."""
    sel = countries_lonlat[countries_lonlat["iso3"].isin(sorted(set(isos) - set(FRAME_EXCLUDE)))]
    geom = sel.geometry.clip_by_rect(-180.0, -90.0, MAP_EAST_LIMIT, 90.0)
    x0, y0, x1, y1 = geom.to_crs(crs).total_bounds
    m = (x1 - x0) * MAP_MARGIN
    return (float(x0 - m), float(x1 + m)), (float(y0 - m), float(y1 + m))


def named_only_as_group(note) -> bool:
    """True when a scripts row's note says the source names the country only as one of
    'the CIS countries' (the book's reading), not individually."""
    return "names none" in str(note or "")


def scripts_plotted() -> pd.DataFrame:
    df = data.load("scripts")
    order = {s: i for i, s in enumerate(SCRIPT_STYLE)}
    df = df.assign(_o=df["script"].map(order)).sort_values(["_o", "iso3"]).drop(columns="_o")
    return df[["iso3", "country", "script", "source_key", "locator", "note"]].reset_index(drop=True)


def _scripts_caption(d: pd.DataFrame) -> str:
    n = d.groupby("script").size()
    named = ", ".join(d.loc[d["script"] != "cyrillic", "country"])
    cis = d.loc[d["note"].str.contains("CIS countries", regex=False), "country"].tolist()
    return (f"Script used by Kazakh communities in {len(d)} host countries, as Askhat's paper describes it: "
            f"Arabic in {n.get('arabic', 0)}, Latin in {n.get('latin', 0)}, Cyrillic in {n.get('cyrillic', 0)}. "
            f"The paper names {named} and Mongolia; for Cyrillic it also says \u2018the CIS countries\u2019 "
            f"without naming them, so the {len(cis)} former-Soviet host countries shown "
            f"({', '.join(cis)}) are the book's reading. Kazakhstan, the homeland, is outlined; the paper "
            f"does not list it, so it carries no script. Grey countries are not covered by the source.")


def _scripts_alt(d: pd.DataFrame) -> str:
    by = {s: ", ".join(g["country"]) for s, g in d.groupby("script", sort=True)}
    return (f"Map of Eurasia from Turkey to China with host countries shaded by the script Kazakhs write in: "
            f"Arabic in {by.get('arabic', 'none')}; Latin in {by.get('latin', 'none')}; Cyrillic in "
            f"{by.get('cyrillic', 'none')}. Kazakhstan is outlined in the middle as the homeland, without a script.")


@register("scripts-map", chapter=CHAPTER, title="Which alphabet Kazakh communities write in",
          caption=_scripts_caption, alt=_scripts_alt, data=scripts_plotted)
def scripts_map(plotted: pd.DataFrame):
    from .. import basemap

    from pyproj import Transformer

    crs = basemap.CENTRAL_ASIA_LCC
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xlim, ylim = map_frame(basemap.load_layer("countries"), list(plotted["iso3"]) + [HOMELAND], crs)
    extent = extent_for_frame(fwd.transform, xlim, ylim)
    fig, ax = style.new_figure(4.3, layout="constrained")
    bm = basemap.draw_basemap(ax, extent=extent, crs=crs, graticule_step=10,
                              scale_bar=False, rivers=False, lakes=True, aral="modern")
    proj = bm.layers["countries"]
    for script, (label, colour, hatch) in SCRIPT_STYLE.items():
        isos = sorted(plotted.loc[plotted["script"] == script, "iso3"])
        sub = proj[proj["iso3"].isin(isos)]
        basemap.plot_layer(ax, sub, facecolor=colour, edgecolor="black", linewidth=0.5, hatch=hatch, zorder=1.5)
    home = proj[proj["iso3"] == HOMELAND]
    basemap.plot_layer(ax, home, facecolor="white", edgecolor="black", linewidth=1.6, zorder=1.6)
    by_iso = proj.dissolve(by="iso3")
    from shapely.geometry import box

    frame = box(bm.xlim[0], bm.ylim[0], bm.xlim[1], bm.ylim[1])
    ax.set_xlim(*bm.xlim)
    ax.set_ylim(*bm.ylim)
    ax.set_xlabel("")
    ax.set_ylabel("")

    # labels: host countries with a script, plus the homeland
    names = dict(zip(plotted["iso3"], plotted["country"]))
    unnamed = set(plotted.loc[plotted["note"].map(named_only_as_group), "iso3"])
    label_rows = [(iso, names[iso]) for iso in plotted["iso3"]]
    label_rows.append((HOMELAND, "KAZAKHSTAN\n(homeland)"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inv = ax.transData.inverted()
    texts, anchors, sizes = [], [], []
    for iso, name in label_rows:
        geom = by_iso.loc[iso, "geometry"].intersection(frame)
        geom = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        p = geom.representative_point()
        t = ax.text(p.x, p.y, name, ha="center", va="center", fontsize=7.5,
                    fontweight="bold" if iso == HOMELAND else "normal", zorder=6,
                    fontstyle="italic" if iso in unnamed else "normal",
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
        bb = t.get_window_extent(renderer)
        (x0, y0), (x1, y1) = inv.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
        texts.append(t)
        if iso in names:
            hotspots.tag(t, iso)
        anchors.append((p.x, p.y))
        sizes.append((abs(x1 - x0) * 1.08, abs(y1 - y0) * 1.15))
    pos = spread_labels(anchors, sizes)
    for t, (ax_, ay_), (px, py) in zip(texts, anchors, pos):
        t.set_position((px, py))
        if np.hypot(px - ax_, py - ay_) > 1e-6:
            ax.plot([ax_, px], [ay_, py], color="black", linewidth=0.5, zorder=5)
            ax.plot([ax_], [ay_], marker="o", markersize=2, color="black", zorder=5)

    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="black", hatch=h, label=lab) for lab, c, h in SCRIPT_STYLE.values()]
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=1.6, label="Kazakhstan (homeland)"))
    handles.append(Patch(facecolor=style.LAND, edgecolor=style.GREY, label="Not covered by the source"))
    if unnamed:
        handles.append(Patch(facecolor="none", edgecolor="none",
                             label="Italic name: not named by the paper (its \u2018CIS countries\u2019)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncols=3, fontsize=7.5,
              title="Script Kazakh communities write in, as Askhat's paper describes it")
    ax.set_title("Which alphabet Kazakh communities write in, by host country")
    return freeze_layout(fig)


# --------------------------------------------------------------------------- Kurultays

def kurultays_plotted() -> pd.DataFrame:
    k = data.load("kurultays").sort_values("number").reset_index(drop=True)
    k["date_source"] = [kurultay_date_source(r) for _, r in k.iterrows()]
    k["x"] = [decimal_year(d) for d in k["date"]]
    return k[["number", "date", "place_as_printed", "place_id", "countries", "date_source", "x",
              "source_key", "locator", "note"]]


def _kurultay_caption(d: pd.DataFrame) -> str:
    seed = d[d["date_source"] == DATE_FROM_PAPER]
    other = d[d["date_source"] == DATE_FROM_OTHER]
    first, last = d.iloc[0], d.iloc[-1]
    parts = [f"The {len(d)} World Kurultays of Kazakhs from {first['date'][:4]} to {last['date'][:4]}. "
             f"Filled markers: dates printed in Askhat's paper ({', '.join(ordinal(n) for n in seed['number'])}). "]
    if len(other):
        o = other.iloc[0]
        pre = " a report published before the event" if "pre-event" in str(o["note"]) else " a news report"
        parts.append(f"Open marker: the {ordinal(o['number'])} Kurultay, which Askhat's paper mentions without a "
                     f"date or place; its date and place ({format_date(o['date'])}, {o['place_as_printed']}) come "
                     f"from {source_label(o['source_key'])},{pre}. ")
    moved = d[(d["date_source"] == DATE_FROM_PAPER) & (d["source_key"] != SEED_PAPER)]
    for r in moved.itertuples():
        parts.append(f"Askhat's paper dates the {ordinal(r.number)} but names no place; the place comes from "
                     f"{source_label(r.source_key)}. ")
    parts.append("Places are given as each source prints them; a count of countries appears only where a source "
                 "reports it after the event.")
    return "".join(parts)


def _kurultay_alt(d: pd.DataFrame) -> str:
    items = "; ".join(f"{ordinal(r.number)} {format_date(r.date)} in {r.place_as_printed}" for r in d.itertuples())
    return (f"Timeline of the {len(d)} World Kurultays of Kazakhs: {items}. "
            f"{(d['date_source'] == DATE_FROM_OTHER).sum()} date comes from a news report rather than Askhat's paper and "
            f"is drawn with an open marker.")


@register("kurultays-timeline", chapter=CHAPTER, title="The World Kurultays of Kazakhs",
          caption=_kurultay_caption, alt=_kurultay_alt, data=kurultays_plotted)
def kurultays_timeline(d: pd.DataFrame):
    narrow = narrow_column()  # one journal column: label lines wrapped, more room above and below
    fig, ax = style.new_figure(3.0, layout="constrained")
    lo = int(np.floor(d["x"].min() / 5) * 5) - 1
    hi = int(np.ceil(d["x"].max() / 5) * 5) + 1
    ax.axhline(0, color="black", linewidth=1)
    levels = alternate_levels(list(d["x"]), min_gap=(hi - lo) * 0.22, n_levels=2)
    colour = style.OKABE_ITO["blue"]
    for (i, r), lv in zip(d.iterrows(), levels):
        hotspots.row(ax, hotspots.key(r))
        seeded = r["date_source"] == DATE_FROM_PAPER
        ax.plot([r["x"]], [0], marker="o", markersize=9, zorder=4, color=colour,
                markerfacecolor=colour if seeded else "white", markeredgewidth=1.8)
        y = 1.0 if lv == 0 else -1.0
        ax.plot([r["x"], r["x"]], [0, y * 0.55], color=style.GREY, linewidth=0.8, zorder=2)
        lines = [f"{ordinal(r['number'])} Kurultay", format_date(r["date"]), r["place_as_printed"]]
        if pd.notna(r["countries"]):
            lines.append(f"delegations from {int(r['countries'])} countries")
        if not seeded:
            lines.append(f"date, place: {source_label(r['source_key'])}")
        elif r["source_key"] != SEED_PAPER:
            what = "place, countries" if pd.notna(r["countries"]) else "place"
            lines.append(f"{what}: {source_label(r['source_key'])}")
        if narrow:
            lines = [wrap(line, 16) for line in lines]
        ax.text(r["x"], y * 0.6, "\n".join(lines), ha="center", va="bottom" if y > 0 else "top",
                fontsize=7.5, linespacing=1.15,
                fontstyle="normal" if seeded else "italic")
    hotspots.done(ax)
    ax.set_ylim(*((-3.4, 3.6) if narrow else (-2.3, 2.5)))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    _add_year_axis(ax, lo, hi, 5)
    ax.xaxis.grid(False)
    ax.set_xlabel("Year")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=colour, markersize=7, label="Date printed in Askhat's paper"),
               Line2D([], [], marker="o", linestyle="", color=colour, markerfacecolor="white", markeredgewidth=1.6,
                      markersize=7, label="Date only in another source (see label)")]
    ax.legend(handles=handles, loc="upper left", ncols=2, bbox_to_anchor=(0, 1.0))
    ax.set_title("The World Kurultays of Kazakhs")
    return freeze_layout(fig)


# --------------------------------------------------------------------------- survey grid

def survey_plotted() -> pd.DataFrame:
    s = data.load("survey")
    names = dict(zip(*[data.load("scripts")[c] for c in ("iso3", "country")]))
    s = s.assign(country=s["iso3"].map(names).fillna(s["iso3"]),
                 row=s["locator"].str.extract(r"row (\d+)")[0].astype(int))
    col_order = list(dict.fromkeys(s["iso3"]))  # the printed table's column order
    s["col"] = s["iso3"].map({c: i for i, c in enumerate(col_order)})
    s = s.sort_values(["row", "col"]).reset_index(drop=True)
    return s[["question_id", "question", "row", "iso3", "country", "col", "answer", "source_key", "locator", "note"]]


def _survey_caption(d: pd.DataFrame) -> str:
    n_yes = int((d["answer"] == "Yes").sum())
    q = d["question_id"].nunique()
    c = d["iso3"].nunique()
    return (f"Table 3 of Askhat's paper as a grid: {q} questions about the Kazakh diaspora in {c} host countries "
            f"({', '.join(dict.fromkeys(d['country']))}). {n_yes} of {len(d)} cells are answered \u2018Yes\u2019. "
            "Questions are quoted as printed. The paper does not say how the answers were reached, and the "
            "table's last row (a general description, not a per-country answer) is left out.")


def _survey_alt(d: pd.DataFrame) -> str:
    n_yes = int((d["answer"] == "Yes").sum())
    return (f"Grid with {d['question_id'].nunique()} questions as rows and {d['iso3'].nunique()} countries "
            f"({', '.join(dict.fromkeys(d['country']))}) as columns; {n_yes} of {len(d)} cells hold "
            "\u2018Yes\u2019 with a check mark.")


@register("survey-grid", chapter=CHAPTER, title="The diaspora's position in four host countries (Askhat's Table 3)",
          caption=_survey_caption, alt=_survey_alt, data=survey_plotted)
def survey_grid(d: pd.DataFrame):
    questions = d.drop_duplicates("row")[["row", "question"]]
    countries = d.drop_duplicates("col")[["col", "country"]]
    nq, nc = len(questions), len(countries)
    fig, ax = style.new_figure(0.6 * nq + 0.8, layout="constrained")
    yes_colour = style.OKABE_ITO["bluish_green"]
    for r in d.itertuples():
        hotspots.row(ax, hotspots.key(r._asdict()))
        x, y = r.col, nq - r.row
        yes = r.answer == "Yes"
        ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
            (x + 0.04, y + 0.06), 0.92, 0.88, facecolor=yes_colour if yes else "white",
            alpha=0.25 if yes else 1, edgecolor=style.GREY, linewidth=0.6))
        ax.text(x + 0.5, y + 0.5, ("\u2713 " if yes else "") + r.answer, ha="center", va="center",
                fontsize=9, fontweight="bold" if yes else "normal")
    hotspots.done(ax)
    ax.set_xlim(0, nc)
    ax.set_ylim(0, nq)
    ax.set_xticks([c + 0.5 for c in countries["col"]], countries["country"], fontsize=8.5, fontweight="bold")
    ax.xaxis.tick_top()
    narrow = narrow_column()  # one journal column: questions wrapped shorter, country names slanted
    ax.set_yticks([nq - r + 0.5 for r in questions["row"]],
                  [f"{r}. " + wrap(q, 30 if narrow else 46).replace("\n", "\n    ")
                   for r, q in zip(questions["row"], questions["question"])],
                  fontsize=7.5)
    if narrow:
        for t in ax.get_xticklabels():
            t.set_rotation(45)
            t.set_ha("left")
            t.set_rotation_mode("anchor")
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    fig.suptitle("The diaspora in four host countries: Askhat's paper, Table 3", x=0.01, ha="left",
                 fontsize=10, fontweight="bold")
    return freeze_layout(fig)


# --------------------------------------------------------------------------- Azerbaijanis

def azerbaijanis_plotted() -> pd.DataFrame:
    d = data.load("diasporas_in_kazakhstan")
    d = d[(d["group"] == "Azerbaijanis") & (d["unit"] == "persons") & d["value"].notna()].copy()
    d["panel"] = np.where(d["geography"] == "Kazakhstan", "Kazakhstan", d["geography"])
    d["_y"] = d["year"].astype("Float64").fillna(9999)
    d["_p"] = (d["panel"] != "Kazakhstan").astype(int)
    d = d.sort_values(["_p", "_y", "source_key"]).drop(columns=["_y", "_p"]).reset_index(drop=True)
    d["source_label"] = [source_label(k) for k in d["source_key"]]
    return d[["id", "group", "panel", "geography", "period", "year", "value", "as_printed", "kind", "measure",
              "source_label", "source_key", "locator", "note"]]


def _row_label(r) -> str:
    if pd.notna(r["year"]):
        when = f"{int(r['year'])} census"
    else:
        when = "undated"
    where = "" if r["geography"] == "Kazakhstan" else f"{r['geography']}, "
    return f"{where}{when}\n{r['source_label']}"


def _is_lower_bound(r) -> bool:
    return str(r["as_printed"]).lower().startswith(("more than", "over"))


def _aze_caption(d: pd.DataFrame) -> str:
    kz = d[d["geography"] == "Kazakhstan"]
    und = kz[kz["year"].isna()]
    cen = kz[kz["year"].notna()]
    yrs = sorted(cen["year"].astype(int).unique())
    dup = cen.groupby("year").filter(lambda g: g["value"].nunique() > 1)
    parts = [f"Every count of Azerbaijanis in Kazakhstan in the book's data, one dot per source and figure. "
             f"Census counts for {', '.join(map(str, yrs))} are relayed by {cen['source_label'].nunique()} "
             f"secondary sources. "]
    if len(und):
        v = und["value"].iloc[0]
        match = "matches one of" if (cen["value"] == v).any() else "matches none of"
        parts.append(f"The e-history.kz figure ({style.fmt_int(v)}) is undated and {match} the census counts. ")
    if len(dup):
        y = int(dup["year"].iloc[0])
        parts.append(f"For {y} the two relays disagree ({' vs '.join(style.fmt_int(v) for v in dup['value'])}). ")
    parts.append("The figures are shown side by side, not reconciled.")
    return "".join(parts)


def _aze_alt(d: pd.DataFrame) -> str:
    items = "; ".join(f"{_row_label(r).replace(chr(10), ', ')}: {'more than ' if _is_lower_bound(r) else ''}"
                      f"{style.fmt_int(r['value'])}" for _, r in d.iterrows())
    return f"Horizontal dot chart of the number of Azerbaijanis in Kazakhstan by source: {items}."


@register("azerbaijanis-by-source", chapter=CHAPTER, title="Azerbaijanis in Kazakhstan: the figures by source",
          caption=_aze_caption, alt=_aze_alt, data=azerbaijanis_plotted)
def azerbaijanis_by_source(d: pd.DataFrame):
    n = len(d)
    narrow = narrow_column()  # one journal column: row labels wrapped, people in thousands on the axis
    fig, ax = style.new_figure(0.42 * n + 1.2, layout="constrained")
    ys = []
    y = 0.0
    prev_panel = None
    for _, r in d.iterrows():
        if prev_panel is not None and r["panel"] != prev_panel:
            y += 0.6
        ys.append(y)
        y += 1
        prev_panel = r["panel"]
    xmax = d["value"].max() * 1.25
    seen = set()
    for (_, r), yy in zip(d.iterrows(), ys):
        hotspots.row(ax, hotspots.key(r))
        colour, marker = evidence.KIND_STYLE[r["kind"]]
        ev = evidence.mark(r["kind"], evidence.grade_of(r["source_key"]), evidence.rows().loc[r["id"], "status"], 8)
        lb = _is_lower_bound(r)
        ax.plot([0, r["value"]], [yy, yy], color=colour, linewidth=1, alpha=0.6, zorder=2)
        key = (r["kind"], r["source_key"])
        lab = None
        if key not in seen:
            seen.add(key)
            lab = f"{style.KIND_LABEL[r['kind']]}: {r['source_label']}"
        ev["marker"] = ">" if lb else marker
        ax.plot([r["value"]], [yy], zorder=3, label=lab, **ev)
        ax.annotate(("more than " if lb else "") + style.fmt_int(r["value"]), (r["value"], yy),
                    xytext=(6, 0), textcoords="offset points", va="center", ha="left", fontsize=8)
    hotspots.done(ax)
    labels = [_row_label(r) for _, r in d.iterrows()]
    if narrow:
        labels = ["\n".join(wrap(line, 26) for line in lab.split("\n")) for lab in labels]
    ax.set_yticks(ys, labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, xmax)
    ax.xaxis.set_major_formatter(__import__("matplotlib.ticker", fromlist=["FuncFormatter"]).FuncFormatter(
        lambda v, _: (style.fmt_people(v) if narrow else style.fmt_int(v))))
    ax.xaxis.grid(True)
    ax.set_axisbelow(True)
    ax.set_xlabel("Azerbaijanis (persons)")
    ax.xaxis.set_major_locator(__import__("matplotlib.ticker", fromlist=["MultipleLocator"]).MultipleLocator(
        50000 if xmax > 100000 else 20000))
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.16), ncols=1, fontsize=7.5)
    fig.suptitle("Azerbaijanis in Kazakhstan: every figure by source", x=0.01, ha="left",
                 fontsize=10, fontweight="bold")
    return freeze_layout(fig)


# --------------------------------------------------------------------------- turning points

THEME_STYLE = {
    # theme: (label, colour, marker)
    "famine": ("Famine", style.OKABE_ITO["vermillion"], "s"),
    "repression": ("Protest and repression", style.OKABE_ITO["black"], "D"),
    "independence": ("Independence", style.OKABE_ITO["orange"], "*"),
    "institutions": ("Diaspora institutions", style.OKABE_ITO["blue"], "o"),
}


def turning_points_plotted() -> pd.DataFrame:
    tp = data.load("turning_points")
    tp = tp.assign(table="turning_points", row_label=tp["label"])
    k = kurultays_plotted()
    k = k[~k["date"].isin(tp["date"])]  # the 1st Kurultay is already a turning point
    later = pd.DataFrame({
        "id": [f"kurultay_{n}" for n in k["number"]],
        "theme": "institutions",
        "date": k["date"].values,
        "date_end": pd.array([None] * len(k), dtype="str"),
        "label": [f"{ordinal(n)} World Kurultay of Kazakhs" for n in k["number"]],
        "row_label": "Later World Kurultays of Kazakhs",
        "place_id": k["place_id"].values,
        "source_key": k["source_key"].values,
        "locator": k["locator"].values,
        "note": k["note"].values,
        "table": "kurultays",
    })
    d = pd.concat([tp, later], ignore_index=True)
    d["start"] = [decimal_year(x) for x in d["date"]]
    d["end"] = [decimal_year(e, end=True) if pd.notna(e) else np.nan for e in d["date_end"]]
    d["date_text"] = [format_date(a, b if pd.notna(b) else None) for a, b in zip(d["date"], d["date_end"])]
    d["source_label"] = [source_label(k) for k in d["source_key"]]
    d = d.sort_values(["start", "id"]).reset_index(drop=True)
    return d[["id", "table", "theme", "date", "date_end", "date_text", "start", "end", "label", "row_label",
              "source_label", "source_key", "locator", "note"]]


def _tp_caption(d: pd.DataFrame) -> str:
    tp = d[d["table"] == "turning_points"]
    return (f"{len(tp)} turning points named in the book's four source documents, with the later World Kurultays added on one row "
            f"({(d['table'] == 'kurultays').sum()} dates). Each row gives the date at the precision its source gives "
            "and the source of that date; bars show events that lasted longer than a day. Where a source document "
            "names an event without printing its date, the date comes from another source, named on the row. The "
            "famine's years are those printed in the article on the Kazakhs of Iran; the data notes that other "
            "sources give a different start year.")


def _tp_alt(d: pd.DataFrame) -> str:
    rows = d.drop_duplicates("row_label")
    items = []
    for lab in rows["row_label"]:
        g = d[d["row_label"] == lab]
        items.append(f"{lab} ({', '.join(g['date_text'])})")
    return (f"Timeline from {int(d['start'].min())} to {int(np.floor(d['start'].max()))} with one row per event: "
            + "; ".join(items) + ".")


@register("turning-points-timeline", chapter=CHAPTER, title="Turning points named in the four source documents",
          caption=_tp_caption, alt=_tp_alt, data=turning_points_plotted)
def turning_points_timeline(d: pd.DataFrame):
    rows = list(dict.fromkeys(d["row_label"]))
    fig, ax = style.new_figure(0.5 * len(rows) + 1.3, layout="constrained")
    # a decade boundary at least two years beyond the first and last marks: the famine's square
    # (1931) stood on the axis line when the axis began at 1930
    lo = int(np.floor((d["start"].min() - 2) / 10) * 10)
    hi = int(np.ceil((np.nanmax(np.r_[d["start"].values, d["end"].values]) + 2) / 10) * 10)
    seen = set()
    labels = []
    for i, lab in enumerate(rows):
        g = d[d["row_label"] == lab]
        for _, r in g.iterrows():
            hotspots.row(ax, hotspots.key(r))
            name, colour, marker = THEME_STYLE[r["theme"]]
            if pd.notna(r["end"]) and r["end"] - r["start"] > 0.2:
                ax.plot([r["start"], r["end"]], [i, i], color=colour, linewidth=5, solid_capstyle="butt", zorder=2)
            hollow = r["table"] == "kurultays" and kurultay_date_source(r) == "other"
            ax.plot([r["start"]], [i], marker=marker, color=colour, markersize=8 if marker != "*" else 11,
                    markerfacecolor="white" if hollow else colour, markeredgewidth=1.5, linestyle="", zorder=3,
                    label=name if r["theme"] not in seen else None)
            seen.add(r["theme"])
        hotspots.done(ax)
        if len(g) == 1:
            r = g.iloc[0]
            sub = f"{r['date_text']} \u00b7 {r['source_label']}"
        else:
            srcs = list(dict.fromkeys(g["source_label"]))
            sub = ", ".join(x.rsplit(" ", 1)[-1] for x in g["date_text"]) + " \u00b7 " + "; ".join(srcs)
        labels.append(f"{lab}\n{wrap(sub, 52)}")
    ax.set_yticks(range(len(rows)), labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_ylim(len(rows) - 0.4, -0.6)
    _add_year_axis(ax, lo, hi, 10)
    ax.set_xlabel("Year")
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.35, -0.12), ncols=4, fontsize=7.5,
              title="Theme (open marker: date not printed in the source document)")
    fig.suptitle("Turning points named in the four source documents", x=0.01, ha="left", fontsize=10, fontweight="bold")
    return freeze_layout(fig)
