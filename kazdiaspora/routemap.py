"""Route maps drawn from data: a new route is a new row in ``data/routes/``, not new plotting code.

A route (``routes``) is an ordered list of gazetteer places (``route_stops`` → ``gazetteer``) that
belongs to a wave (``waves``) and may carry one figure (``magnitude_id`` → ``wave_figures``). The
column ``maps`` lists the map ids a route appears on. :data:`MAP_SPECS` says, per map id, what the
map looks like (window, projection, highlighted provinces, panels, title); :func:`draw_map` draws it.

Drawing rules (the legend of every map states them):

* **colour and number per wave** — waves are numbered in time order (:func:`wave_numbers`); each
  has a fixed colour (:data:`WAVE_PALETTE`, Okabe-Ito first, then Paul Tol's colour-blind-safe
  "muted" set; defined in :mod:`kazdiaspora.style`) and its number is printed in a circle on every
  route and on its key in the legend, so nothing depends on colour alone;
* **one column** (a journal's 89 mm, :func:`map_look`): panels stacked, the key below in one
  column, text 6.2 pt, smaller badges, shorter figures; names that find no free spot left out;
  where lines bunch, figures and badges are also tried on a fine grid around their route
  (:data:`NARROW_GRID_PT`), arrowheads block only the strips they cover (:func:`head_boxes`), and
  figures and badges are placed in up to :data:`NARROW_PASSES` passes, the misplaced first
  (:func:`_placed_in_passes`), so that none stands nearer another wave's route than its own;
* **line width from the figure** — :func:`line_width`: a route whose figure counts persons is drawn
  ``LW_BASE + LW_SPAN * sqrt(v / V_REF)`` points wide (``v`` = the printed value, or the mid-point of
  a printed range, capped at ``V_REF``); routes with no figure, or a figure in families or
  households, are drawn ``LW_BASE`` wide and the figure is printed as text on the arrow;
* **dashed** where ``certainty == "outline"`` (at least one stop was chosen by us);
* routes that share their end points are bent to alternate sides (:func:`bends`);
* place names and figure labels are placed by :func:`place_label`, a deterministic search: try
  several offsets around the point, keep the first whose text box overlaps no label or marker
  already placed (and crosses the fewest route lines).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import basemap, data, hotspots, style, trace

# ---------------------------------------------------------------------------------- constants
WAVE_PALETTE = style.WAVE_PALETTE
"""One colour per wave (defined in :mod:`kazdiaspora.style`); the wave's number, on every route
and in the legend's key, tells the waves apart where two colours look alike (greyscale, a
colour-vision deficiency)."""

LW_BASE = 1.2
"""Line width (pt) of a route carrying a figure of (almost) no persons: the start of the width scale."""
LW_NONE = 0.7
"""Line width (pt) of a route without a figure in persons (thinner than any width on the scale)."""
LW_SPAN = 4.0
"""Extra width (pt) of a route carrying :data:`V_REF` persons or more."""
V_REF = 300_000.0
"""Figure (persons) drawn at the full width ``LW_BASE + LW_SPAN``."""
WIDTH_LEGEND_VALUES = (1_000, 10_000, 100_000, 300_000)
"""Reference values shown in the width legend."""

FONT = 7.5
"""Text size (pt) of every label drawn on a map."""
TEXT = "#222222"
BADGE_R = 5.2
"""Radius (pt) of the numbered wave badge on a route and in the legend."""


@dataclass(frozen=True)
class Look:
    """Sizes of a map's text and marks, and its layout, in one edition (:func:`map_look`)."""

    font: float = FONT
    badge_r: float = BADGE_R
    narrow: bool = False
    """A narrow column (a journal's single column): panels stacked, the key below them in one
    column, smaller text (at least 6 pt) and badges, crowded names left out."""


NARROW_IN = 120 / 25.4
"""A paper edition narrower than this (120 mm) gets the narrow look."""
NARROW_LOOK = Look(font=6.2, badge_r=4.0, narrow=True)


NARROW_BADGE_GAPS_MM = (0.2, 0.6, 1.0, 1.4, 1.8, 2.2, 2.5)
"""Gaps (mm) between a badge and its line tried beside the line in the narrow look."""
NARROW_GRID_PT = 0.5
"""Step (pt) of the grid of places a figure or badge of the narrow look tries where the places along
its route leave it nearer another route than its own (:meth:`kazdiaspora.labels.LabelPlacer.place_along`,
:meth:`~kazdiaspora.labels.LabelPlacer.badge_spot`)."""
NARROW_BADGE_FRACS = tuple(sorted((round(0.06 + 0.02 * i, 2) for i in range(45)), key=lambda f: (abs(f - 0.5), f)))
"""Places along a route tried for its badge in the narrow look (every 2 % of its length, middle first)."""


def map_look() -> Look:
    """The look of the edition being drawn: the book's, or the narrow one of a paper single column."""
    e = style.edition()
    return NARROW_LOOK if e.paper and e.width_in < NARROW_IN else Look()


def rgb_darker(colour: str, f: float = 0.75) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r * f, g * f, b * f)


# ------------------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Panel:
    """One map frame of a figure."""

    extent: tuple[float, float, float, float] | None = None
    """lon_min, lon_max, lat_min, lat_max; None: fitted to the panel's routes (:func:`fit_extent`)."""
    crs: str = basemap.CENTRAL_ASIA_LCC
    fit_margin: float = 0.07
    title: str = ""
    highlight_admin1: tuple[str, ...] = ()
    highlight_countries: tuple[str, ...] = ()
    label_countries: tuple[str, ...] = ()
    admin1_borders: tuple[str, ...] = ()
    graticule_step: float = 5
    aral: str = "both"
    min_route_km: float = 0.0
    """Routes shorter than this (first to last stop, great circle) are left out (drawn in an inset)."""
    only_inside: bool = False
    """Draw only routes whose stops all lie inside ``extent``."""
    magnitude_labels: bool = True
    bend_scale: float = 1.0
    place_labels: str = "all"
    """Which stops get a name: "all" or "ends" (first and last stop of each route)."""
    label_rings: tuple[float, ...] = (1.0, 2.2, 3.4)
    """Distances (x the base offset) tried for place names; with ``skip_crowded`` a name that
    finds no free spot is left out (its marker stays)."""
    skip_crowded: bool = False
    widths: bool = True
    """Scale line widths by the figures (False: every route ``LW_BASE`` wide)."""
    years: tuple[int, int] | None = None
    """Draw only routes of waves starting within these years (inclusive)."""


@dataclass(frozen=True)
class MapSpec:
    map_id: str
    title: str
    panels: tuple[Panel, ...]
    height: float
    legend_ratio: float = 0.36
    """Height of the legend row relative to one map row."""
    layout: str = "single"
    """"single" (map, legend below), "inset" (map; second map and legend below) or "stack"."""
    legend_ncol: int = 2
    inset_box: bool = True
    """With two panels: outline the second panel's window on the first."""


def lcc(lon_0: float, lat_0: float, lat_1: float, lat_2: float) -> str:
    """Lambert conformal conic centred on a map's window (proj string)."""
    return (f"+proj=lcc +lat_0={lat_0:g} +lon_0={lon_0:g} +lat_1={lat_1:g} +lat_2={lat_2:g} "
            "+datum=WGS84 +units=m +no_defs")


LOCAL_GOLESTAN = lcc(55, 37, 36, 38)
WIDE_LCC = lcc(52, 42, 30, 55)
IRAN_LCC = lcc(62, 41, 36, 46)
XINJIANG_LCC = lcc(79, 44, 40, 48)
OTHER_LCC = lcc(72, 44, 38, 50)

_XJ = dict(extent=(69.2, 92.5, 38.9, 49.7), crs=XINJIANG_LCC, highlight_admin1=("CN-XJ",),
           label_countries=("KAZ", "CHN", "MNG", "KGZ"), only_inside=True)

MAP_SPECS: dict[str, MapSpec] = {
    "iran": MapSpec(
        "iran", "From Mangystau to Golestan, 1929–1936, and the return from 1993",
        panels=(
            Panel(extent=(47.5, 79.0, 34.8, 47.6), crs=IRAN_LCC, title="(a) Caspian and Central Asia",
                  highlight_admin1=("KZ-MAN", "IR-27"), label_countries=("KAZ", "TKM", "IRN", "UZB"),
                  min_route_km=120.0),
            Panel(extent=(53.55, 55.45, 36.68, 37.42), crs=LOCAL_GOLESTAN, graticule_step=0.5,
                  title="(b) Golestan, town scale", highlight_admin1=("IR-27",), admin1_borders=("IRN",),
                  only_inside=True, bend_scale=0.8),
        ),
        height=6.9, layout="inset", legend_ncol=1),
    "xinjiang": MapSpec(
        "xinjiang", "Between Kazakhstan and Xinjiang, 1902–1962 and after 1991",
        panels=(Panel(title="(a) 1902–1922: land loss, the 1916 revolt, civil war", years=(1900, 1925), **_XJ),
                Panel(title="(b) From 1930: famine, the 1962 exodus, return", years=(1926, 2030), **_XJ)),
        height=9.6, layout="stack"),
    "kashmir": MapSpec(
        "kashmir", "From Xinjiang across Tibet to Kashmir, Turkey and Western Europe, 1934–1990s",
        panels=(Panel(crs=lcc(86, 38, 32, 44), title="(a) 1934–1951: from Xinjiang to Gansu, Qinghai and Kashmir",
                      years=(1900, 1950), highlight_admin1=("CN-XJ", "CN-GS", "CN-QH", "IN-JK", "IN-LA", "PK-GB"),
                      label_countries=("CHN", "IND", "PAK", "MNG", "NPL"), fit_margin=0.1),
                Panel(crs=WIDE_LCC, graticule_step=10, years=(1951, 2030), fit_margin=0.05,
                      title="(b) 1950s–1990s: to Turkey, then Western Europe",
                      highlight_admin1=("IN-JK", "TR-34"), aral="modern",
                      label_countries=("IND", "PAK", "TUR", "IRN", "DEU", "FRA", "SWE", "KAZ", "AFG"))),
        height=9.0, layout="stack"),
    "other": MapSpec(
        "other", "The other directions: Russia, Mongolia, Uzbekistan, Turkmenistan, Afghanistan",
        panels=(Panel(crs=OTHER_LCC, fit_margin=0.08,
                      highlight_admin1=("MN-071", "UZ-QR"),
                      label_countries=("KAZ", "RUS", "MNG", "CHN", "UZB", "TKM", "AFG", "IRN")),),
        height=6.6),
    "overview": MapSpec(
        "overview", "All routes, 1723–2021",
        panels=(Panel(crs=lcc(64, 42, 34, 50), graticule_step=10, fit_margin=0.04,
                      min_route_km=150.0, magnitude_labels=False, place_labels="ends", widths=False,
                      label_rings=(1.0,), skip_crowded=True,
                      label_countries=("KAZ", "CHN", "IRN", "TUR", "RUS", "MNG", "IND")),),
        height=5.4, legend_ncol=2, legend_ratio=0.8),
}
"""Map id (as in ``routes.maps``) → how the map is drawn."""


# ------------------------------------------------------------------------------ data helpers
def wave_order(waves: pd.DataFrame) -> list[str]:
    """Wave ids in time order (start year, end year, id)."""
    w = waves.sort_values(["year_start", "year_end", "wave_id"], kind="mergesort")
    return list(w["wave_id"])


def wave_numbers(waves: pd.DataFrame) -> dict[str, int]:
    """wave_id → 1, 2, ... in time order."""
    return {w: i + 1 for i, w in enumerate(wave_order(waves))}


def wave_colours(waves: pd.DataFrame) -> dict[str, str]:
    """wave_id → colour of :data:`WAVE_PALETTE`, in time order (cycled if there are more waves)."""
    return {w: WAVE_PALETTE[i % len(WAVE_PALETTE)] for i, w in enumerate(wave_order(waves))}


def magnitude_mid(value, low, high) -> float | None:
    """The figure an arrow carries: the printed value, else the mid-point of the printed range."""
    def ok(v):
        return v is not None and not (isinstance(v, float) and math.isnan(v)) and v is not pd.NA

    if ok(value):
        return float(value)
    if ok(low) and ok(high):
        return (float(low) + float(high)) / 2.0
    return None


def line_width(persons: float | None) -> float:
    """Line width (pt) for a figure in persons: ``LW_BASE + LW_SPAN * sqrt(min(v, V_REF) / V_REF)``."""
    if persons is None or (isinstance(persons, float) and math.isnan(persons)) or persons <= 0:
        return LW_NONE
    return LW_BASE + LW_SPAN * math.sqrt(min(float(persons), V_REF) / V_REF)


def _k(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.2f}".rstrip("0").rstrip(".") + " m"
    if v >= 1e4:
        return f"{v / 1e3:.0f} k"
    return style.fmt_int(v)


LOWER_BOUND_WORDS = ("more than", "over ", "at least", "более", "свыше", "не менее")


def _thousands(v: float) -> str:
    """A count in the short form of the narrow look: '60 k' for an exact number of thousands
    (nothing is rounded), the full number otherwise."""
    return f"{v / 1e3:,.0f} k" if v >= 1e4 and v % 1000 == 0 else style.fmt_int(v)


def magnitude_text(row, short: bool = False) -> str:
    """Label of a figure as the map prints it: '≥100,000 people', '60,000–70,000 people', '4,000 families'.

    ``short`` (the narrow look): persons without the word 'people' (the key says so) and exact
    thousands as 'k': '≥100 k', '60–70 k', '65,202', '4,000 families'."""
    v, lo, hi = row.get("value"), row.get("value_low"), row.get("value_high")
    has = lambda x: x is not None and not pd.isna(x)  # noqa: E731
    unit = row.get("unit")
    fmt = _thousands if short and unit == "persons" else style.fmt_int
    if has(v):
        txt = fmt(float(v))
    elif has(lo) and has(hi):
        a, b = fmt(float(lo)), fmt(float(hi))
        txt = f"{a[:-2]}–{b}" if a.endswith(" k") and b.endswith(" k") else f"{a}–{b}"
    else:
        return str(row.get("as_printed") or "")
    printed = str(row.get("as_printed") or "").lower()
    measure = str(row.get("measure") or "").lower()
    if "lower bound" in measure or printed.startswith(LOWER_BOUND_WORDS):
        txt = "≥" + txt
    if short and unit == "persons":
        return txt
    return f"{txt} {'people' if unit == 'persons' else unit}"


def route_table(routes: pd.DataFrame, stops: pd.DataFrame, gazetteer: pd.DataFrame,
                figures: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """One row per route with its ordered stops, coordinates, figure, width and wave style."""
    g = gazetteer.set_index("place_id")
    st = stops.sort_values(["route_id", "seq"], kind="mergesort")
    seqs = {rid: list(grp["place_id"]) for rid, grp in st.groupby("route_id", sort=True)}
    cols_of = {c: {rid: list(grp[c].fillna("")) for rid, grp in st.groupby("route_id", sort=True)}
               for c in ("role", "mode", "chosen")}
    fig = figures.set_index("id")
    nums, cols = wave_numbers(waves), wave_colours(waves)
    wname = waves.set_index("wave_id")
    rows = []
    for r in routes.sort_values("route_id").itertuples(index=False):
        places = seqs.get(r.route_id, [])
        if len(places) < 2:
            raise ValueError(f"route {r.route_id!r} has fewer than two stops in route_stops")
        mid = None
        mrow = {}
        if isinstance(r.magnitude_id, str) and r.magnitude_id:
            m = fig.loc[r.magnitude_id]
            mrow = {"value": m["value"], "value_low": m["value_low"], "value_high": m["value_high"],
                    "as_printed": m["as_printed"], "unit": m["unit"], "measure": m["measure"]}
            mid = magnitude_mid(m["value"], m["value_low"], m["value_high"])
        persons = mid if mrow.get("unit") == "persons" else None
        w = wname.loc[r.wave_id]
        rows.append({
            "route_id": r.route_id, "wave_id": r.wave_id, "wave_no": nums[r.wave_id],
            "wave_name": w["name"], "wave_start": int(w["year_start"]), "label": r.label, "period": r.period, "certainty": r.certainty,
            "maps": r.maps, "kind": r.kind, "stops": " > ".join(places),
            "stop_names": " > ".join(g.loc[p, "name_en"] for p, role in zip(places, cols_of["role"][r.route_id])
                                     if role == "stop"),
            "roles": cols_of["role"][r.route_id], "modes": cols_of["mode"][r.route_id],
            "chosen": cols_of["chosen"][r.route_id],
            "lons": [float(g.loc[p, "lon"]) for p in places],
            "lats": [float(g.loc[p, "lat"]) for p in places],
            "magnitude_id": r.magnitude_id if isinstance(r.magnitude_id, str) else None,
            "magnitude_value": mid, "magnitude_unit": mrow.get("unit"),
            "magnitude_label": magnitude_text(mrow) if mrow else None,
            "magnitude_short": magnitude_text(mrow, short=True) if mrow else None,
            "line_width_pt": round(line_width(persons), 3),
            "colour": cols[r.wave_id], "source_key": r.source_key, "locator": r.locator,
        })
    return pd.DataFrame(rows)


def load_tables() -> dict[str, pd.DataFrame]:
    return {n: data.load(n) for n in ("routes", "route_stops", "gazetteer", "wave_figures", "waves")}


@trace.memo(maxsize=1, key=lambda: data.package()._stamp)
def _current_tables() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """:func:`load_tables` and their :func:`route_table`, made once per state of data/ in a process
    (the five maps of a chapter share them; what was read is recorded on every call,
    :func:`kazdiaspora.trace.memo`). Nothing that uses them changes them: :func:`routes_for_map`
    and :func:`plotted` select copies."""
    t = load_tables()
    return t, route_table(t["routes"], t["route_stops"], t["gazetteer"], t["wave_figures"], t["waves"])


def routes_for_map(table: pd.DataFrame, map_id: str) -> pd.DataFrame:
    """Routes whose ``maps`` lists ``map_id``."""
    keep = table["maps"].str.split().apply(lambda ms: map_id in ms)
    return table[keep].reset_index(drop=True)


def great_circle_km(lon0, lat0, lon1, lat1) -> float:
    from pyproj import Geod

    return float(Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2]) / 1000.0


def panel_routes(table: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """The routes of a map that a panel draws (length and inside-window rules)."""
    keep = []
    lon0, lon1, lat0, lat1 = panel.extent or (-180, 180, -90, 90)
    for r in table.itertuples(index=False):
        km = great_circle_km(r.lons[0], r.lats[0], r.lons[-1], r.lats[-1])
        ok = km >= panel.min_route_km
        if panel.years is not None:
            ok = ok and panel.years[0] <= r.wave_start <= panel.years[1]
        if panel.only_inside:
            ok = ok and all(lon0 <= x <= lon1 and lat0 <= y <= lat1 for x, y in zip(r.lons, r.lats))
        keep.append(ok)
    return table[np.array(keep, dtype=bool)].reset_index(drop=True)


def fit_extent(crs: str, lons, lats, margin: float = 0.06, iterations: int = 40) -> tuple[float, float, float, float]:
    """A lon/lat extent whose base-map frame (see :func:`kazdiaspora.basemap.draw_basemap`: the
    projected mid-lines of the extent) covers the points ``lons, lats`` with ``margin`` (share of
    the points' width and height) on every side, plus 0.16 more at the bottom for the scale bar. Found by fixed-point iteration."""
    from pyproj import CRS, Transformer

    c = CRS.from_user_input(crs)
    fwd = Transformer.from_crs("EPSG:4326", c, always_xy=True)
    inv = Transformer.from_crs(c, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(np.asarray(lons, float), np.asarray(lats, float))
    dx, dy = x.max() - x.min(), y.max() - y.min()
    tx0, tx1 = x.min() - margin * dx, x.max() + margin * dx
    ty0, ty1 = y.min() - (margin + 0.16) * dy, y.max() + margin * dy  # room for the scale bar
    lon0, lon1, lat0, lat1 = float(np.min(lons)), float(np.max(lons)), float(np.min(lats)), float(np.max(lats))
    for _ in range(iterations):
        latc, lonc = (lat0 + lat1) / 2, (lon0 + lon1) / 2
        _, yc = fwd.transform(lonc, latc)
        xc, _ = fwd.transform(lonc, latc)
        lon0 = inv.transform(tx0, fwd.transform(lon0, latc)[1])[0]
        lon1 = inv.transform(tx1, fwd.transform(lon1, latc)[1])[0]
        lat0 = inv.transform(fwd.transform(lonc, lat0)[0], ty0)[1]
        lat1 = inv.transform(fwd.transform(lonc, lat1)[0], ty1)[1]
    return (round(lon0, 3), round(lon1, 3), round(lat0, 3), round(lat1, 3))


# ------------------------------------------------------------------------------------ geometry
def bends(route_ids, firsts, lasts, base: float = 0.08, step: float = 0.12) -> dict[str, float]:
    """Bend (fraction of the chord, + = to the left of travel) per route.

    Routes with the same two end points (in either direction) are spread to alternate sides:
    0.08, -0.08, 0.20, -0.20, ... in the orientation of the alphabetically first end point; a
    route running the other way gets the opposite sign, so that it lies on its own side.
    """
    groups: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for rid, a, b in sorted(zip(route_ids, firsts, lasts)):
        key = tuple(sorted((a, b)))
        groups.setdefault(key, []).append((rid, (a, b) != key))
    out = {}
    for key, members in groups.items():
        for i, (rid, reversed_) in enumerate(members):
            mag = base + step * (i // 2)
            sign = 1.0 if i % 2 == 0 else -1.0
            out[rid] = mag * sign * (-1.0 if reversed_ else 1.0)
    return out


def catmull_rom(points: np.ndarray, n: int = 40) -> np.ndarray:
    """Centripetal Catmull-Rom spline through ``points`` (k x 2), ``n`` samples per segment."""
    p = np.asarray(points, dtype=float)
    if len(p) < 3:
        t = np.linspace(0, 1, n + 1)[:, None]
        return p[0] + (p[1] - p[0]) * t
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]

        def tj(ti, a, b):
            return ti + max(np.hypot(*(b - a)), 1e-9) ** 0.5

        t0 = 0.0
        t1 = tj(t0, p0, p1)
        t2 = tj(t1, p1, p2)
        t3 = tj(t2, p2, p3)
        t = np.linspace(t1, t2, n + 1)[:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        c = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2
        out.append(c if i == 1 else c[1:])
    return np.vstack(out)


def curve(points: np.ndarray, bend: float, n: int = 40) -> np.ndarray:
    """Smooth path through ``points`` bent sideways by ``bend`` x chord length (sine profile)."""
    path = catmull_rom(points, n)
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return path
    s = s / s[-1]
    chord = path[-1] - path[0]
    L = float(np.hypot(*chord))
    if L == 0 or bend == 0:
        return path
    normal = np.array([-chord[1], chord[0]]) / L  # left of travel
    return path + (bend * L * np.sin(np.pi * s))[:, None] * normal


def trim(path: np.ndarray, start: float, end: float) -> np.ndarray:
    """Cut ``start`` units of length off the beginning of a polyline and ``end`` off its end."""
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    if start + end >= total * 0.9:
        k = total * 0.9 / max(start + end, 1e-9)
        start, end = start * k, end * k
    a, b = start, total - end
    keep = (s > a) & (s < b)
    pa = np.array([np.interp(a, s, path[:, 0]), np.interp(a, s, path[:, 1])])
    pb = np.array([np.interp(b, s, path[:, 0]), np.interp(b, s, path[:, 1])])
    return np.vstack([pa, path[keep], pb])


# ----------------------------------------------------------------------------- label placement
# One module places every label of the book's maps and charts: kazdiaspora.labels.
from .labels import (Box, LabelPlacer, OFFSETS, _box_points_distance, _densify, candidate_boxes,  # noqa: E402,F401
                     choose_box, inside, overlap)


def place_label(placer: LabelPlacer, x, y, text, r_pt=4.0, **kw):
    """:meth:`kazdiaspora.labels.LabelPlacer.place` (kept as the tested entry point)."""
    return placer.place(x, y, text, r_pt, **kw)


# ------------------------------------------------------------------------------------- drawing
POINT_FEATURES = ("city", "town", "village")
COUNTRY_SHORT = {"CHN": "China"}
"""Short names for country labels (Natural Earth's ``name_en`` otherwise)."""

SPLINE_BOW_PT = 1.6
"""Sideways bow (pt, at the middle of each piece) of a route through waypoints that shares its ends
with another route (:func:`route_path`): enough to show two lines, not enough to leave the corridor."""
END_PT = 3.0 * 72 / 25.4
"""Length (pt) at each end of a route where it meets others at a stop: a figure label is judged
"nearer another route" only on the lines without these ends (as in tests/test_maps_geography.py)."""

KINDS = ("flight", "return", "onward")
"""``routes.kind``: a flight from the homeland, a return to it, an onward move within the diaspora."""
MODES = ("land", "rail", "sea", "air", "unknown")
"""``route_stops.mode``: how the segment arriving at a stop was travelled (``unknown``: no source says)."""
MODE_STYLE = {"unknown": (0, (1.0, 1.8)), "air": (0, (5.0, 1.6, 1.0, 1.6)), "sea": (0, (7.0, 2.2))}
"""Line style of a segment whose mode overrides the route's solid/dashed style."""


def _arrowhead(kind: str, tip, d, head_l, head_w):
    """Polygon (display units) of an arrowhead and whether it is filled, hollow or a chevron."""
    nrm = np.array([-d[1], d[0]])
    base_c = tip - d * head_l
    if kind == "onward":  # open chevron: two strokes
        return np.array([base_c + nrm * head_w, tip, base_c - nrm * head_w]), "chevron"
    tri = np.array([tip, base_c + nrm * head_w, base_c - nrm * head_w])
    return tri, ("hollow" if kind == "return" else "filled")


def _to_display_geom(geom, to_disp):
    from shapely.ops import transform as stransform

    def f(x, y, z=None):
        p = to_disp(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
        return p[:, 0], p[:, 1]

    return stransform(f, geom)


ARROWHEAD_STRIPS = 4
"""In the narrow look an arrowhead blocks labels with this many boxes, one per strip across its
longer side (:func:`head_boxes`), not with the one box around it: a slanted head leaves room
beside it for a figure or a badge."""


def head_boxes(poly: np.ndarray, n: int) -> list[tuple[float, float, float, float]]:
    """Boxes that together cover the triangle ``poly`` (display units): the box around the part of
    the triangle in each of ``n`` equal strips across the longer side of the box around it."""
    from shapely.geometry import Polygon as SPolygon, box as sbox

    tri = SPolygon(poly)
    x0, y0, x1, y1 = tri.bounds
    out = []
    for i in range(n):
        if x1 - x0 >= y1 - y0:
            strip = sbox(x0 + (x1 - x0) * i / n, y0, x0 + (x1 - x0) * (i + 1) / n, y1)
        else:
            strip = sbox(x0, y0 + (y1 - y0) * i / n, x1, y0 + (y1 - y0) * (i + 1) / n)
        part = tri.intersection(strip)
        if not part.is_empty:
            out.append(tuple(float(v) for v in part.bounds))
    return out


def route_path(pts_disp: np.ndarray, bend: float, n: int = 40, bow: float = 0.0) -> tuple[np.ndarray, list[int]]:
    """The drawn line of a route through its points (display units) and the index of each point on it.

    Two points: a curve bent sideways by ``bend`` (:func:`curve`); more: a Catmull-Rom spline through
    every stop and waypoint. ``bow`` (display units, + = left of travel) bows each piece of the spline
    between two of its points sideways by that much at its middle (sine profile, zero at the points, so the line
    still passes exactly through them): two routes through the same points in opposite directions
    then run side by side instead of one over the other.
    """
    if len(pts_disp) == 2:
        return curve(pts_disp, bend, n), [0, n]
    path = catmull_rom(pts_disp, n)
    idx = [i * n for i in range(len(pts_disp))]
    if bow:
        path = path.copy()
        for a, b in zip(idx[:-1], idx[1:]):
            chord = path[b] - path[a]
            L = float(np.hypot(*chord))
            if L == 0:
                continue
            normal = np.array([-chord[1], chord[0]]) / L  # left of travel
            t = np.linspace(0.0, 1.0, b - a + 1)
            path[a:b + 1] += (bow * np.sin(np.pi * t))[:, None] * normal
    return path, idx


NARROW_PASSES = 4
"""Passes of the narrow look's placement of figures and of badges (:func:`_placed_in_passes`)."""


def _placed_in_passes(placer: LabelPlacer, seq: list, place, misplaced, narrow: bool) -> list:
    """Place the labels of ``seq`` in order with ``place(seq) -> [(row, result)]``; in the narrow look,
    where some are misplaced (``misplaced(row, result)``: 0 well placed, 1 another line as near as
    its own or a little nearer, 2 a rule broken), undo and place again with those first (the
    crowded ones take their room before the others), up to :data:`NARROW_PASSES` passes; the pass
    with the fewest broken rules, then the fewest level-1 labels, is kept (the first of equals).
    The book's look places once."""
    if not narrow:
        return place(seq)
    mark = (len(placer.placed), len(placer.labels), len(placer.skipped))

    def undo():
        for lab in placer.labels[mark[1]:]:
            if lab["artist"] is not None:
                lab["artist"].remove()
        del placer.placed[mark[0]:], placer.labels[mark[1]:], placer.skipped[mark[2]:]

    tried, best = [], None
    for i in range(NARROW_PASSES):
        out = place(seq)
        level = {id(row): misplaced(row, res) for row, res in out}
        score = (sum(v == 2 for v in level.values()), sum(v == 1 for v in level.values()))
        tried.append(list(seq))
        if best is None or score < best[0]:
            best = (score, len(tried) - 1)
        if score == (0, 0):
            return out
        nxt = sorted(seq, key=lambda row: -level[id(row)])  # stable: the misplaced first, in order
        seen = any(len(nxt) == len(t) and all(a is b for a, b in zip(nxt, t)) for t in tried)
        if i == NARROW_PASSES - 1 or seen:
            break  # the last pass, or an order tried before: ``out`` stays placed
        undo()
        seq = nxt
    if best[1] == len(tried) - 1:
        return out
    undo()
    return place(tried[best[1]])


def draw_routes(ax, bm: basemap.BaseMap, routes: pd.DataFrame, gazetteer: pd.DataFrame,
                panel: Panel, extra_obstacles: list[Box] = ()) -> dict:
    """Draw ``routes`` (rows of :func:`route_table`) on a base map; place names and labels.

    The figure's layout must be final (call ``fig.draw_without_rendering()`` and freeze the
    layout engine first): arrowheads, trims and labels are sized in points. Returns what was drawn
    (display units): ``placer`` (every label), ``paths`` (route id → drawn line), ``segments``
    (route id → [(from_seq, to_seq, mode, line)]), ``stops`` (place ids with a marker).
    """
    from matplotlib.patches import Circle, Polygon

    fig = ax.figure
    to_disp = ax.transData.transform
    to_data = ax.transData.inverted().transform
    ppt = fig.dpi / 72.0
    look = map_look()
    b = bends(list(routes["route_id"]), [s.split(" > ")[0] for s in routes["stops"]],
              [s.split(" > ")[-1] for s in routes["stops"]])
    pair_count: dict[tuple[str, str], int] = {}
    for st_ in routes["stops"]:
        key = tuple(sorted((st_.split(" > ")[0], st_.split(" > ")[-1])))
        pair_count[key] = pair_count.get(key, 0) + 1
    g = gazetteer.set_index("place_id")
    marker_r = 2.6  # pt
    paths, segments, heads, fulls = {}, {}, [], {}
    for r in routes.itertuples(index=False):
        x, y = bm.project(np.array(r.lons), np.array(r.lats))
        pts_disp = to_disp(np.column_stack([x, y]))
        shared = pair_count[tuple(sorted((r.stops.split(" > ")[0], r.stops.split(" > ")[-1])))] > 1
        full, idx = route_path(pts_disp, b[r.route_id] * panel.bend_scale,
                               bow=SPLINE_BOW_PT * ppt * np.sign(b[r.route_id]) if shared else 0.0)
        segs = []
        for k in range(1, len(idx)):
            segs.append((k, k + 1, r.modes[k], full[idx[k - 1]:idx[k] + 1]))
        segments[r.route_id] = segs
        fulls[r.route_id] = full
        lw = (r.line_width_pt if panel.widths else LW_BASE + 0.3)
        head_l, head_w = (2.0 * lw + 4.0) * ppt, (1.3 * lw + 2.6) * ppt
        p = trim(full, (marker_r + 1.0) * ppt, (marker_r + 1.0) * ppt)
        paths[r.route_id] = p
        body = trim(p, 0.0, head_l * 0.85)
        # the body, segment by segment (a segment's mode may change its line style)
        sb = np.hypot(*np.diff(body, axis=0).T)
        s_body = np.concatenate([[0.0], np.cumsum(sb)])
        sf = np.hypot(*np.diff(full, axis=0).T)
        s_full = np.concatenate([[0.0], np.cumsum(sf)])
        start_off = (marker_r + 1.0) * ppt
        base_ls = (0, (3.2, 1.6)) if r.certainty == "outline" else "-"
        for k, (_, _, mode, _) in enumerate(segs):
            a = s_full[idx[k]] - start_off
            e = s_full[idx[k + 1]] - start_off
            keep = (s_body >= a) & (s_body <= e)
            pa = np.interp(np.clip(a, 0, s_body[-1]), s_body, body[:, 0]), np.interp(np.clip(a, 0, s_body[-1]), s_body, body[:, 1])
            pe_ = np.interp(np.clip(e, 0, s_body[-1]), s_body, body[:, 0]), np.interp(np.clip(e, 0, s_body[-1]), s_body, body[:, 1])
            part = np.vstack([pa, body[keep], pe_])
            if len(part) < 2 or np.hypot(*(part[-1] - part[0])) == 0 and len(part) == 2:
                continue
            dd = to_data(part)
            ls = MODE_STYLE.get(mode, base_ls)
            ax.plot(dd[:, 0], dd[:, 1], color=r.colour, lw=lw, ls=ls, solid_capstyle="butt",
                    dash_capstyle="butt", zorder=5 + 0.001 * (10 - lw), alpha=0.95)
            if not panel.magnitude_labels and isinstance(r.magnitude_id, str) and r.magnitude_id:
                # a panel that prints no figures still draws each one, as the line's width: the
                # line (about a dozen points along it, drawn invisibly) names the figure's row
                step = max(1, len(dd) // 12)
                hotspots.tag(ax.plot(dd[::step, 0], dd[::step, 1], ls="none", marker="none", lw=lw, alpha=0,
                                     zorder=4), r.magnitude_id)
            if r.kind == "return":  # a return: a white core along the line
                ax.plot(dd[:, 0], dd[:, 1], color="white", lw=max(0.45, lw * 0.38), ls=ls, solid_capstyle="butt",
                        dash_capstyle="butt", zorder=5.01 + 0.001 * (10 - lw))
        tip = p[-1]
        d = p[-1] - p[-4] if len(p) >= 4 else p[-1] - p[0]
        d = d / max(np.hypot(*d), 1e-9)
        poly, style_ = _arrowhead(r.kind, tip, d, head_l, head_w)
        if style_ == "chevron":
            dd = to_data(poly)
            hotspots.tag(ax.plot(dd[:, 0], dd[:, 1], color=r.colour, lw=max(1.2, lw * 0.8), solid_joinstyle="miter",
                                 solid_capstyle="butt", zorder=5.5), r.route_id)  # the arrowhead names the route
        else:
            hotspots.tag(ax.add_patch(Polygon(to_data(poly), closed=True,
                                              facecolor=r.colour if style_ == "filled" else "white",
                                              edgecolor=r.colour if style_ == "hollow" else "white",
                                              linewidth=1.0 if style_ == "hollow" else 0.4, zorder=5.5)),
                         r.route_id)  # the arrowhead names the route
        heads.append((r.route_id, (poly[:, 0].min(), poly[:, 1].min(), poly[:, 0].max(), poly[:, 1].max()), poly))
    # obstacles: arrowheads, place markers, then wave numbers, then labels
    # route lines resampled every point: a label tells which line is nearest from these
    dense = {rid: _densify(p, ppt) for rid, p in paths.items()}
    soft = np.vstack(list(dense.values())) if dense else np.empty((0, 2))
    # the same lines without their last END_PT at each end: where routes meet at a stop
    cut = max(END_PT - (marker_r + 1.0), 0.0) * ppt  # the paths are already cut at the markers
    inner = {rid: trim(p, cut, cut) for rid, p in paths.items()}
    inner = {rid: _densify(p, ppt) if len(p) >= 2 else p for rid, p in inner.items()}
    placer = LabelPlacer(ax, soft)
    for box in extra_obstacles:
        placer.block(box)
    for t in list(ax.texts):  # the base map's texts (scale bar)
        bb = t.get_window_extent(placer.renderer)
        placer.block((bb.x0, bb.y0, bb.x1, bb.y1), "scale bar")
    if bm.scale_bar:
        sb_ = bm.scale_bar
        (x0, y0), (x1, _) = to_disp((sb_["x0"], sb_["y"])), to_disp((sb_["x1"], sb_["y"]))
        placer.block((x0 - 4, y0 - 4, x1 + 4, y0 + 4), "scale bar")
    for rid, hb, poly in heads:
        for part in (head_boxes(poly, ARROWHEAD_STRIPS) if look.narrow else [hb]):
            placer.block(part, "arrowhead", rid)
    # places: ordered by how many routes use them, then name (waypoints get no marker)
    use: dict[str, int] = {}
    ends: set[str] = set()
    for s, roles in zip(routes["stops"], routes["roles"]):
        ps = s.split(" > ")
        ends.update((ps[0], ps[-1]))
        for p, role in zip(ps, roles):
            if role == "stop":
                use[p] = use.get(p, 0) + 1
    places = sorted(use, key=lambda p: (-use[p], p))
    xy = {}
    for p in places:
        x, y = bm.project(float(g.loc[p, "lon"]), float(g.loc[p, "lat"]))
        xy[p] = (x, y)
        dx, dy = to_disp((x, y))
        town = g.loc[p, "feature"] in POINT_FEATURES
        ax.plot([x], [y], marker="o" if town else "s", ms=marker_r * 2, mfc=TEXT if town else "white",
                mec=TEXT, mew=0.8, zorder=7, ls="none")
        placer.block_point(dx, dy, marker_r + 0.5, "marker", p)
    def place_name(p):
        dx, dy = to_disp(xy[p])
        region = g.loc[p, "feature"] not in POINT_FEATURES
        placer.place(dx, dy, str(g.loc[p, "name_en"]), marker_r + 1.2, rings=panel.label_rings,
                     kind="region" if region else "town", names=p,
                     fontsize=look.font,
                     fontstyle="italic" if region else "normal", zorder=8)

    # figures in people first, each beside its own route (the shortest routes, with the fewest
    # places to carry one, first), so that no badge or name takes the only room a figure has
    others_of = {rid: np.vstack([inner[o] for o in inner if o != rid] + [np.empty((0, 2))]) for rid in inner}
    if panel.magnitude_labels:
        lengths = {rid: float(np.sum(np.hypot(*np.diff(p, axis=0).T))) for rid, p in paths.items()}
        with_fig = [r for r in routes.itertuples(index=False)
                    if isinstance(r.magnitude_label, str) and r.magnitude_label]
        fracs = sorted({round(min(max(0.5 + df, 0.08), 0.92), 3) for df in [k * 0.04 for k in range(-20, 21)]},
                       key=lambda f: (abs(f - 0.5), f))
        limit_fig = 3.0 * 72 / 25.4 * ppt

        def place_figures(seq):
            arts = []
            for r in seq:
                text = r.magnitude_short if look.narrow else r.magnitude_label
                art = placer.place_along(paths[r.route_id], text, kind="figure", names=r.route_id, fracs=fracs,
                                         own_soft=dense[r.route_id], side=1 if b[r.route_id] >= 0 else -1,
                                         others=others_of[r.route_id], core=inner[r.route_id],
                                         grid_pt=NARROW_GRID_PT if look.narrow else None,
                                         fontweight="bold", color=rgb_darker(r.colour, 0.7),
                                         fontsize=look.font, zorder=8.5)
                arts.append((r, art))
            return arts

        def figure_misplaced(r, art):
            """2: a figure left out, farther than 3 mm from its own line, or another line nearer
            (beyond a tolerance); 1: another line as near as its own; 0: well placed."""
            if art is None:
                return 2
            box = next(lab["box"] for lab in placer.labels if lab["artist"] is art)
            own_d = _box_points_distance(box, inner[r.route_id])
            if own_d > limit_fig:
                return 2
            return min(placer._tier(_box_points_distance(box, others_of[r.route_id]), own_d), 2)

        seq = sorted(with_fig, key=lambda r: (lengths[r.route_id], r.route_id))
        arts = _placed_in_passes(placer, seq, place_figures, figure_misplaced, look.narrow)
        for r, art in arts:
            # the figure in people names its row of wave_figures (the route's row where it has none)
            hotspots.tag(art, r.magnitude_id if isinstance(r.magnitude_id, str) and r.magnitude_id else r.route_id)

    def place_countries():
        # grey capitals inside the country's part visible in the frame
        if not (panel.label_countries and "countries" in bm.layers):
            return
        from shapely.geometry import box as _box

        frame = _box(bm.xlim[0], bm.ylim[0], bm.xlim[1], bm.ylim[1])
        cs = bm.layers["countries"]
        for iso in sorted(set(panel.label_countries)):
            rows = cs[cs["iso3"] == iso]
            if not len(rows):
                continue
            geom = rows.geometry.make_valid().union_all().intersection(frame)
            if geom.is_empty:
                continue
            name = COUNTRY_SHORT.get(iso, str(rows.iloc[0]["name_en"])).upper()
            placer.place_in_polygon(_to_display_geom(geom, to_disp), name, kind="country", names=iso,
                                    color="#6f6f6f", zorder=6.2, fontsize=look.font)

    # in the narrow look a panel naming only the routes' ends (the overview) names its countries
    # before the wave numbers and places are placed: the countries orient the reader
    countries_first = look.narrow and panel.place_labels != "all"
    if countries_first:
        place_countries()
    # wave numbers on the routes (one badge per route, moved along the line if crowded; beside
    # the line where the route is too short to carry it without hiding the line). A badge stays
    # within LabelPlacer.BADGE_GAPS_MM[-1] of its own line, and no line of another wave is nearer to it.
    numbers = {}
    rad = look.badge_r * ppt
    wave_of = dict(zip(routes["route_id"], routes["wave_no"]))
    order = routes.sort_values(["wave_no", "route_id"])
    if look.narrow:  # little room: the shortest routes, with the fewest places for a badge, first
        blen = {rid: float(np.sum(np.hypot(*np.diff(p, axis=0).T))) for rid, p in paths.items()}
        order = order.assign(_len=order["route_id"].map(blen)).sort_values(["_len", "route_id"], kind="mergesort")
    other_waves = {}
    for rid in paths:
        ow = [inner[o] for o in inner if wave_of[o] != wave_of[rid] and len(inner[o])]
        other_waves[rid] = np.vstack(ow) if ow else None

    # a badge's own line: in the narrow look the whole drawn line, from marker to marker (a route
    # shorter than a badge, its line hidden under its arrowhead, is then named from beside its ends)
    badge_own = {rid: _densify(fulls[rid], ppt) for rid in paths} if look.narrow else dense

    def place_badges(seq):
        spots = []
        for r in seq:
            c, box = placer.badge_spot(paths[r.route_id], rad, own=badge_own[r.route_id],
                                       others=other_waves[r.route_id],
                                       fracs=NARROW_BADGE_FRACS if look.narrow else None,
                                       gaps_mm=NARROW_BADGE_GAPS_MM if look.narrow else None,
                                       grid_pt=NARROW_GRID_PT if look.narrow else None)
            placer.placed.append(box)
            placer.labels.append({"text": str(r.wave_no), "kind": "badge", "names": r.route_id, "box": box,
                                  "artist": None})
            spots.append((r, (c, box)))
        return spots

    def badge_misplaced(r, spot):
        """2: a badge farther from its own line than the largest gap, or another wave's line nearer
        by more than a point; 1: another wave's line nearer by less; 0: well placed."""
        box = spot[1]
        own_d = _box_points_distance(box, badge_own[r.route_id])
        if own_d > max(LabelPlacer.BADGE_GAPS_MM) / 25.4 * fig.dpi + 0.5 * ppt:
            return 2
        oth = other_waves[r.route_id]
        d = math.inf if oth is None else _box_points_distance(box, oth)
        return 2 if d + ppt < own_d else 1 if d < own_d else 0

    spots = _placed_in_passes(placer, list(order.itertuples(index=False)), place_badges, badge_misplaced,
                              look.narrow)
    badge_labels = {lab["names"]: lab for lab in placer.labels if lab["kind"] == "badge" and lab["artist"] is None}
    for r, (c, box) in spots:
        numbers[r.route_id] = c
        cd = to_data(c)
        rad_d = abs(to_data((c[0] + rad, c[1]))[0] - cd[0])
        circ = Circle(cd, rad_d, facecolor="white", edgecolor=r.colour, linewidth=1.2, zorder=7.5)
        hotspots.tag(ax.add_patch(circ), r.route_id)  # the wave number names its route too
        ax.text(cd[0], cd[1], str(r.wave_no), ha="center", va="center_baseline", fontsize=look.font,
                fontweight="bold", color=rgb_darker(r.colour, 0.8), zorder=7.6)
        badge_labels[r.route_id]["artist"] = circ
    # then place names, beside their own marker
    for p in (places if panel.place_labels == "all" else [p for p in places if p in ends]):
        place_name(p)
    # country names last
    if not countries_first:
        place_countries()
    return {"placer": placer, "paths": paths, "segments": segments, "numbers": numbers, "stops": places}


def _inset_outline(ax, bm_main, panel: Panel, label: str) -> None:
    lon0, lon1, lat0, lat1 = panel.extent
    t = np.linspace(0, 1, 30)
    lons = np.concatenate([lon0 + (lon1 - lon0) * t, np.full_like(t, lon1), lon1 - (lon1 - lon0) * t,
                           np.full_like(t, lon0)])
    lats = np.concatenate([np.full_like(t, lat0), lat0 + (lat1 - lat0) * t, np.full_like(t, lat1),
                           lat1 - (lat1 - lat0) * t])
    x, y = bm_main.project(lons, lats)
    ax.plot(x, y, color="#333333", lw=0.8, zorder=6.5)


class _ArrowHandle:
    """A legend entry drawn as a short route with the arrowhead of a kind (flight, return, onward)."""

    def __init__(self, kind: str, colour: str = "#444444", lw: float = 1.6):
        self.kind, self.colour, self.lw = kind, colour, lw


class _ArrowHandler:
    def legend_artist(self, legend, orig, fontsize, handlebox):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Polygon

        x0, y0 = handlebox.xdescent, handlebox.ydescent
        w, h = handlebox.width, handlebox.height
        y = y0 + h / 2
        hl, hw = 0.32 * w, 0.42 * h
        tr = handlebox.get_transform()
        line = Line2D([x0, x0 + w - hl * 0.85], [y, y], color=orig.colour, lw=orig.lw, solid_capstyle="butt",
                      transform=tr)
        handlebox.add_artist(line)
        if orig.kind == "return":
            handlebox.add_artist(Line2D([x0, x0 + w - hl * 0.85], [y, y], color="white",
                                        lw=max(0.45, orig.lw * 0.38), transform=tr))
        tip, base = x0 + w, x0 + w - hl
        if orig.kind == "onward":
            art = Line2D([base, tip, base], [y + hw, y, y - hw], color=orig.colour, lw=1.2, transform=tr)
        else:
            art = Polygon([[tip, y], [base, y + hw], [base, y - hw]], closed=True, transform=tr,
                          facecolor=orig.colour if orig.kind == "flight" else "white",
                          edgecolor=orig.colour, linewidth=1.0 if orig.kind == "return" else 0.4)
        handlebox.add_artist(art)
        return line


class _WaveHandle:
    """A legend entry for a wave: a line of its colour carrying its numbered badge, as on the map."""

    def __init__(self, colour: str, number: int, font: float = FONT, badge_r: float = BADGE_R):
        self.colour, self.number, self.font, self.badge_r = colour, number, font, badge_r


class _WaveHandler:
    def legend_artist(self, legend, orig, fontsize, handlebox):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Circle
        from matplotlib.text import Text

        x0, y0 = handlebox.xdescent, handlebox.ydescent
        w, h = handlebox.width, handlebox.height
        y = y0 + h / 2
        tr = handlebox.get_transform()
        line = Line2D([x0, x0 + w], [y, y], color=orig.colour, lw=2.6, solid_capstyle="butt", transform=tr)
        handlebox.add_artist(line)
        r = orig.badge_r * 0.92  # the legend's rows are a little closer than the map's routes
        cx = x0 + w / 2
        handlebox.add_artist(Circle((cx, y), r, facecolor="white", edgecolor=orig.colour, linewidth=1.2,
                                    transform=tr))
        handlebox.add_artist(Text(cx, y, str(orig.number), ha="center", va="center_baseline",
                                  fontsize=orig.font, fontweight="bold", color=rgb_darker(orig.colour, 0.8),
                                  transform=tr))
        return line


KIND_LEGEND = {"flight": "flight from the homeland", "return": "return to Kazakhstan (white core)",
               "onward": "onward move within the diaspora"}
MODE_LEGEND = {"unknown": "path not known: the line only joins the ends", "air": "by air", "sea": "by sea"}


def legend_handles(routes: pd.DataFrame, widths: bool = True, look: Look | None = None
                   ) -> tuple[list, list[str], list[int]]:
    """Handles, labels and the indices of section headers of a map's legend.

    A wave's key is a line of its colour carrying its numbered badge, as every route of the wave
    on the map does: the number, not the colour alone, tells the waves apart (in greyscale too)."""
    look = look or map_look()
    from matplotlib.lines import Line2D

    blank = Line2D([], [], ls="none")
    handles, labels, heads = [], [], []

    def head(text):
        heads.append(len(handles))
        handles.append(blank)
        labels.append(text)

    head("Wave (its number is on each route)")
    waves = routes.drop_duplicates("wave_id").sort_values("wave_no")
    for w in waves.itertuples(index=False):
        handles.append(_WaveHandle(w.colour, int(w.wave_no), look.font, look.badge_r))
        labels.append(str(w.wave_name))
    head("Direction (the arrow points where people went)")
    for k in KINDS:
        if (routes["kind"] == k).any():
            handles.append(_ArrowHandle(k))
            labels.append(KIND_LEGEND[k])
    head("Line")
    handles += [Line2D([], [], color="#444444", lw=1.4),
                Line2D([], [], color="#444444", lw=1.4, ls=(0, (3.2, 1.6)))]
    labels += ["path named by the sources", "outline: a stop or the path is our choice"]
    modes = {m for ms in routes["modes"] for m in ms}
    for m in ("unknown", "air", "sea"):
        if m in modes:
            handles.append(Line2D([], [], color="#444444", lw=1.4, ls=MODE_STYLE[m]))
            labels.append(MODE_LEGEND[m])
    handles += [Line2D([], [], color=TEXT, marker="o", ms=5.2, ls="none"),
                Line2D([], [], color=TEXT, marker="s", mfc="white", ms=5.2, ls="none")]
    labels += ["town or city", "region (representative point)"]
    if widths and (routes["magnitude_unit"] == "persons").any():
        if look.narrow:
            head("Figures on the routes: people (k = thousand) unless a unit is given")
        head(f"Width: people moving, {LW_BASE:g} + {LW_SPAN:g}·√(n ÷ {style.fmt_int(V_REF)}) pt")
        for v in WIDTH_LEGEND_VALUES:
            handles.append(Line2D([], [], color="#444444", lw=line_width(v), solid_capstyle="butt"))
            labels.append(f"{style.fmt_int(v)} people")
        handles.append(Line2D([], [], color="#444444", lw=LW_NONE))
        labels.append("no figure in people (thinnest)")
    return handles, labels, heads


LEGEND_LABELSPACING = 0.35
"""Space between the legend's rows (x the font size); the wave badges need at least this."""


def draw_legend(lax, routes: pd.DataFrame, ncol: int = 2, widths: bool = True, look: Look | None = None):
    """Legend axes: waves (badge, colour, name), direction, line styles, markers and the width scale.

    In the narrow look the entries are wrapped to the column's width (one column of keys)."""
    import textwrap

    look = look or map_look()
    lax.axis("off")
    handles, labels, heads = legend_handles(routes, widths, look)
    if look.narrow:
        room_pt = lax.figure.get_figwidth() * 72 - 2.6 * look.font - 0.6 * look.font - 6
        chars = int(room_pt / (0.6 * look.font))
        labels = [textwrap.fill(t, chars, break_long_words=False) for t in labels]
    leg = lax.legend(handles, labels, loc="upper left", ncol=ncol, fontsize=look.font, handlelength=2.6,
                     columnspacing=1.4, borderaxespad=0.0, frameon=False, labelspacing=LEGEND_LABELSPACING,
                     handletextpad=0.6, handler_map={_ArrowHandle: _ArrowHandler(), _WaveHandle: _WaveHandler()})
    for i in heads:
        leg.get_texts()[i].set_fontweight("bold")
    leg._legend_box.align = "left"
    return leg


def plotted(routes: pd.DataFrame, figures: pd.DataFrame, map_id: str) -> pd.DataFrame:
    """The plotted data of a map: the routes drawn, then the figures they carry."""
    cols = ["route_id", "wave_id", "wave_no", "label", "period", "kind", "certainty", "stops", "stop_names",
            "magnitude_id", "magnitude_value", "magnitude_label", "line_width_pt", "source_key", "locator"]
    r = routes[cols].copy()
    r.insert(0, "row_type", "route")
    r.insert(1, "map_id", map_id)
    mids = sorted(set(routes["magnitude_id"].dropna()))
    f = figures[figures["id"].isin(mids)].sort_values("id")
    m = pd.DataFrame({"row_type": "figure", "map_id": map_id, "route_id": None, "wave_id": f["wave_id"].values,
                      "magnitude_id": f["id"].values, "value": f["value"].values, "value_low": f["value_low"].values,
                      "value_high": f["value_high"].values, "unit": f["unit"].values,
                      "as_printed": f["as_printed"].values, "source_key": f["source_key"].values,
                      "locator": f["locator"].values})
    out = pd.concat([r, m], ignore_index=True)
    return out


def _r(v, nd=5):
    return round(float(v), nd)


def map_geojson(fig, map_id: str, spec: MapSpec, bms: list, drawn: list, results: list,
                gazetteer: pd.DataFrame) -> dict:
    """What a map draws, as GeoJSON (lon/lat WGS84): stops, routes as drawn, labels, obstacles.

    Route features are the drawn lines, one per segment between two points, densified (the
    spline or bent curve, untrimmed), with ``mode`` and ``by_sea``. Label features sit at the
    centre of their text and carry ``text``, ``kind`` (country, region, town, figure, badge),
    ``names`` (ISO3 code, place id or route id) and ``extent_pt``: the box the renderer gives the
    text, in points from the figure's lower left corner. ``path_pt`` of a route is its drawn line
    in the same units. The metadata gives each panel's projection (proj string) and window.
    """
    g = gazetteer.set_index("place_id")
    ppt = fig.dpi / 72.0
    renderer = fig.canvas.get_renderer()
    feats = []
    panels = []
    for i, (ax, bm, rts, res) in enumerate(zip([a for a in fig.axes if a.get_label() == "map"], bms, drawn, results)):
        panel = spec.panels[i]
        panels.append({"panel": i, "title": panel.title, "crs": bm.proj4, "extent_lonlat": list(bm.extent)})
        to_data = ax.transData.inverted().transform

        def lonlat(pts_disp):
            d = to_data(np.asarray(pts_disp, float).reshape(-1, 2))
            lo, la = bm.unproject(d[:, 0], d[:, 1])
            return np.column_stack([lo, la])

        for p in res["stops"]:
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                _r(g.loc[p, "lon"]), _r(g.loc[p, "lat"])]}, "properties": {
                "feature": "stop", "panel": i, "place_id": p, "name": str(g.loc[p, "name_en"]),
                "country_iso3": str(g.loc[p, "country_iso3"]), "admin1": str(g.loc[p, "admin1"] or ""),
                "place_feature": str(g.loc[p, "feature"])}})
        for r in rts.itertuples(index=False):
            pts = r.stops.split(" > ")
            for a, b_, mode, line in res["segments"][r.route_id]:
                ll = lonlat(line)
                feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
                    [_r(x), _r(y)] for x, y in ll]}, "properties": {
                    "feature": "route", "panel": i, "route_id": r.route_id, "wave_id": r.wave_id,
                    "kind": r.kind, "certainty": r.certainty, "segment": a, "from": pts[a - 1], "to": pts[b_ - 1],
                    "mode": mode, "by_sea": mode == "sea",
                    "path_pt": [[_r(x / ppt, 2), _r(y / ppt, 2)] for x, y in line[::2]]}})
        for lab in res["placer"].labels:
            bb = lab["artist"].get_window_extent(renderer)
            c = lonlat([((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2)])[0]
            corners = lonlat([(bb.x0, bb.y0), (bb.x1, bb.y0), (bb.x1, bb.y1), (bb.x0, bb.y1)])
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [_r(c[0]), _r(c[1])]},
                          "properties": {"feature": "label", "panel": i, "text": lab["text"], "kind": lab["kind"],
                                         "names": lab["names"],
                                         "extent_pt": [_r(v / ppt, 2) for v in (bb.x0, bb.y0, bb.x1, bb.y1)],
                                         "extent_lonlat": [[_r(x), _r(y)] for x, y in corners]}})
        for ob in res["placer"].obstacles:
            if ob["kind"] in ("marker", "arrowhead"):
                x0, y0, x1, y1 = ob["box"]
                c = lonlat([((x0 + x1) / 2, (y0 + y1) / 2)])[0]
                feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [_r(c[0]), _r(c[1])]},
                              "properties": {"feature": "obstacle", "panel": i, "kind": ob["kind"],
                                             "names": ob["names"],
                                             "extent_pt": [_r(v / ppt, 2) for v in ob["box"]]}})
        for s in res["placer"].skipped:
            feats.append({"type": "Feature", "geometry": None, "properties": {
                "feature": "unplaced_label", "panel": i, **s}})
    return {"type": "FeatureCollection",
            "metadata": {"map_id": map_id, "title": spec.title, "coordinates": "longitude, latitude (WGS84, EPSG:4326)",
                         "panels": panels, "units_pt": "points (1/72 in) from the figure's lower left corner"},
            "features": feats}


def narrow_heights(spec: MapSpec, extents, routes: pd.DataFrame, look: Look) -> list[float]:
    """Heights (in) of the rows of a map in the narrow look: each panel at its own shape across
    the column (plus its title and tick labels), then the key in one column."""
    from pyproj import Transformer

    w = style.edition().width_in
    out = []
    for panel, extent in zip(spec.panels, extents):
        xlim, ylim = basemap._frame(Transformer.from_crs("EPSG:4326", panel.crs, always_xy=True), extent)
        aspect = abs(ylim[1] - ylim[0]) / abs(xlim[1] - xlim[0])
        title = 2.6 * (look.font + 1) / 72 if panel.title and spec.layout != "single" else 0.0
        out.append((w - 0.32) * aspect + 0.16 + title)
    handles, labels, _ = legend_handles(routes, all(p.widths for p in spec.panels), look)
    room_pt = w * 72 - 3.2 * look.font - 6
    lines = sum(max(1, math.ceil(len(t) * 0.6 * look.font / room_pt)) for t in labels)
    out.append((lines * 1.15 + len(labels) * LEGEND_LABELSPACING) * look.font / 72 + 0.05)
    return out


def map_data(map_id: str, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The plotted rows of the map ``map_id`` (:func:`plotted`: its routes, then the figures they
    carry), with what drawing it needs besides in ``attrs["drawn"]``: ``routes``, the map's rows
    of :func:`route_table` (stops, coordinates, widths, colours), and ``gazetteer``, the rows of
    the places those routes pass through. A correction to a route, a place or a figure that this
    map does not show leaves both unchanged, and the map is not drawn again
    (:func:`kazdiaspora.figures.reuse`)."""
    if tables is None:
        t, table = _current_tables()
    else:
        t = tables
        table = route_table(t["routes"], t["route_stops"], t["gazetteer"], t["wave_figures"], t["waves"])
    mroutes = routes_for_map(table, map_id)
    if not len(mroutes):
        raise ValueError(f"no route lists map id {map_id!r} in routes.maps")
    used = pd.concat([panel_routes(mroutes, panel) for panel in MAP_SPECS[map_id].panels], ignore_index=True)
    used = used.drop_duplicates("route_id").sort_values("route_id")
    out = plotted(used, t["wave_figures"], map_id)
    places = {p for stops in mroutes["stops"] for p in stops.split(" > ")}
    gz = t["gazetteer"]
    out.attrs["drawn"] = {"routes": mroutes, "gazetteer": gz[gz["place_id"].isin(places)].reset_index(drop=True)}
    return out


def draw_map(map_id: str, tables: dict[str, pd.DataFrame] | None = None):
    """Draw the map ``map_id`` of :data:`MAP_SPECS`; returns ``(fig, plotted_df)``."""
    d = map_data(map_id, tables)
    fig = draw_map_rows(map_id, d.copy())
    d.attrs.clear()
    return fig, d


def draw_map_rows(map_id: str, d: pd.DataFrame):
    """Draw the map ``map_id`` from its rows (:func:`map_data`); returns the figure.

    The figure carries what it draws as GeoJSON in ``fig.geojson`` (:func:`map_geojson`), which
    :func:`kazdiaspora.figures.export` writes to ``figures/<id>.geojson``.
    """
    import matplotlib.pyplot as plt

    spec = MAP_SPECS[map_id]
    mroutes, gazetteer = d.attrs["drawn"]["routes"], d.attrs["drawn"]["gazetteer"]
    n = len(spec.panels)
    look = map_look()
    drawn = [panel_routes(mroutes, panel) for panel in spec.panels]
    extents = [panel.extent or fit_extent(panel.crs, [x for v in rts["lons"] for x in v],
                                          [y for v in rts["lats"] for y in v], panel.fit_margin)
               for panel, rts in zip(spec.panels, drawn)]
    used = pd.concat(drawn, ignore_index=True).drop_duplicates("route_id").sort_values("route_id")
    if look.narrow:
        # one column: the panels one under the other at their own shape, the key below them
        heights = narrow_heights(spec, extents, used, look)
        fig = plt.figure(figsize=(style.edition().width_in, sum(heights)), layout="constrained")
        gs = fig.add_gridspec(n + 1, 1, height_ratios=heights)
        axes = [fig.add_subplot(gs[i, 0], label="map") for i in range(n)]
        lax = fig.add_subplot(gs[n, 0], label="legend")
    elif spec.layout == "inset":
        fig = plt.figure(figsize=style.figsize(spec.height), layout="constrained")
        gs = fig.add_gridspec(2, 2, height_ratios=[1.0, 0.74], width_ratios=[1.15, 1.0])
        axes = [fig.add_subplot(gs[0, :], label="map"), fig.add_subplot(gs[1, 0], label="map")]
        lax = fig.add_subplot(gs[1, 1], label="legend")
    else:
        fig = plt.figure(figsize=style.figsize(spec.height), layout="constrained")
        gs = fig.add_gridspec(n + 1, 1, height_ratios=[1.0] * n + [spec.legend_ratio])
        axes = [fig.add_subplot(gs[i, 0], label="map") for i in range(n)]
        lax = fig.add_subplot(gs[n, 0], label="legend")
    bms = []
    for ax, panel, extent in zip(axes, spec.panels, extents):
        bm = basemap.draw_basemap(ax, extent=extent, crs=panel.crs, highlight_admin1=panel.highlight_admin1,
                                  highlight_countries=panel.highlight_countries, graticule_step=panel.graticule_step,
                                  admin1_borders=panel.admin1_borders,
                                  aral=panel.aral, fontsize=look.font)
        if panel.title and spec.layout != "single":
            title = panel.title
            if look.narrow:
                import textwrap

                title = textwrap.fill(title, int(fig.get_figwidth() * 72 / (0.56 * (look.font + 1))))
            ax.set_title(title, fontsize=look.font + 1, loc="left", fontweight="bold")
        bms.append(bm)
    if spec.layout == "inset" and spec.inset_box:
        _inset_outline(axes[0], bms[0], spec.panels[1], "")
    leg = draw_legend(lax, used, 1 if look.narrow else spec.legend_ncol,
                      widths=all(p.widths for p in spec.panels), look=look)
    if look.narrow:
        leg.set_in_layout(False)  # its row is sized for it (narrow_heights): the maps keep their room
    fig.suptitle(spec.title, fontsize=10, fontweight="bold", x=0.01, ha="left")
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    leg.set_in_layout(True)  # laid out: the export's tight box must hold the whole key
    results = [draw_routes(ax, bm, rts, gazetteer, panel) for ax, bm, panel, rts in zip(axes, bms, spec.panels, drawn)]
    fig.geojson = map_geojson(fig, map_id, spec, bms, drawn, results, gazetteer)
    return fig


__all__ = [
    "KINDS", "MAP_SPECS", "MODES", "MapSpec", "Panel", "LabelPlacer", "WAVE_PALETTE", "bends", "candidate_boxes",
    "choose_box", "curve", "draw_legend", "draw_map", "draw_map_rows", "draw_routes", "line_width", "magnitude_mid",
    "magnitude_text", "map_data", "map_geojson", "overlap", "place_label", "plotted", "route_path", "route_table",
    "routes_for_map", "trim", "wave_colours", "wave_numbers",
]
