"""Committed Natural Earth / GSHHG map layers and the book's Central Asia base map.

The layers live in ``data/maps/*.geojson`` (lon/lat, EPSG:4326); they are built by
``scripts/build_map_layers.py`` (``make map-layers``) and checked here against
``data/maps/SHA256SUMS`` every time they are loaded. Nothing is downloaded at build time.

Main entry points
-----------------
``load_layer(name)``
    one of ``countries``, ``admin1``, ``lakes``, ``rivers`` as a GeoDataFrame (EPSG:4326).
``draw_basemap(ax, extent, crs=CENTRAL_ASIA_LCC, ...)``
    draws water, countries, provinces, lakes, rivers, graticule and scale bar on a
    matplotlib axes and returns a :class:`BaseMap` whose ``project(lon, lat)`` maps
    lon/lat to the axes' coordinates (for routes, points and labels drawn on top).

Drawing order (zorder): water background, countries 1, highlighted provinces 2,
province borders 2.5, lakes 3, rivers 3.5, graticule 4, labels 6, scale bar 7. Layers
drawn on top by other code should use zorder >= 5 (routes) and 6-8 (points, labels).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import trace

try:  # the project's path module
    from kazdiaspora.paths import DATA_DIR
except ImportError:  # pragma: no cover - fallback if paths.py is missing
    DATA_DIR = Path(__file__).resolve().parents[1] / "data"

MAPS_DIR = DATA_DIR / "maps"
LAYERS = ("countries", "admin1", "lakes", "rivers")

#: Lambert Conformal Conic suited to Central Asia (standard parallels 35 and 50 N).
CENTRAL_ASIA_LCC = "+proj=lcc +lat_0=42 +lon_0=60 +lat_1=35 +lat_2=50 +datum=WGS84 +units=m +no_defs"

#: Print-friendly palette: light fills, colour-blind safe accents (Okabe-Ito orange/blue
#: family for highlights and water; no red/green contrast is used to carry meaning).
PALETTE = {
    "water": "#d6e8f3",
    "water_edge": "#7fa9c9",
    "river": "#5b8fbd",
    "land": "#f4f2ec",
    "land_highlight": "#e6dcc3",
    "border": "#8a8a8a",
    "admin1_border": "#b0b0b0",
    "admin1_highlight": "#f2c57c",  # light Okabe-Ito orange (#E69F00)
    "admin1_highlight_edge": "#b07a1e",
    "graticule": "#9aa6b2",
    "text": "#333333",
    "aral_historic": "#5b8fbd",
}


class MapLayerError(RuntimeError):
    """A committed map layer is missing or does not match ``data/maps/SHA256SUMS``."""


# ----------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_sums(maps_dir: Path) -> dict[str, str]:
    sums = maps_dir / "SHA256SUMS"
    if not sums.exists():
        raise MapLayerError(f"checksum file missing: {sums} (run `make map-layers`)")
    out = {}
    for line in sums.read_text(encoding="ascii").splitlines():
        if line.strip():
            digest, name = line.split(None, 1)
            out[name.strip().lstrip("*")] = digest
    return out


def layer_path(name: str, maps_dir: Path | None = None) -> Path:
    """Path of a committed layer, after checking it exists and matches SHA256SUMS."""
    maps_dir = Path(maps_dir) if maps_dir is not None else MAPS_DIR
    fname = f"{name}.geojson"
    path = maps_dir / fname
    if not path.exists():
        raise MapLayerError(f"map layer missing: {path} (run `make map-layers`)")
    sums = _read_sums(maps_dir)
    if fname not in sums:
        raise MapLayerError(f"map layer {fname} is not listed in {maps_dir / 'SHA256SUMS'}")
    got = _sha256(path)
    if got != sums[fname]:
        raise MapLayerError(
            f"map layer {path} does not match SHA256SUMS: expected {sums[fname]}, got {got} "
            "(the file was edited or corrupted; rebuild with `make map-layers`)")
    trace.record(path)
    return path


def load_layer(name: str, maps_dir: Path | None = None):
    """Load a committed layer (``countries``, ``admin1``, ``lakes``, ``rivers``).

    Returns a GeoDataFrame in EPSG:4326, rows in file order (sorted by id). Raises
    :class:`MapLayerError` naming the file if it is missing or its checksum differs.
    """
    import geopandas as gpd

    path = layer_path(name, maps_dir)
    gdf = gpd.read_file(path)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    return gdf


# ----------------------------------------------------------------------------------------
# Base map
# ----------------------------------------------------------------------------------------
@dataclass
class BaseMap:
    """What :func:`draw_basemap` drew: projection, frame and helpers for overlays."""

    crs: object  # pyproj.CRS
    proj4: str
    extent: tuple[float, float, float, float]  # lon_min, lon_max, lat_min, lat_max
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    project: Callable  # (lon, lat) -> (x, y); scalars or arrays
    unproject: Callable  # (x, y) -> (lon, lat)
    scale_bar: dict | None = None  # {"km", "length_m", "x0", "x1", "y", "scale_factor"}
    lonlat_clip: tuple[float, float, float, float] = (0, 0, 0, 0)  # lon0, lat0, lon1, lat1
    layers: dict = field(default_factory=dict)  # the projected GeoDataFrames drawn

    def project_geometry(self, gdf):
        """Clip a lon/lat GeoDataFrame to the map's lon/lat window, then project it."""
        g = gdf.clip_by_rect(*self.lonlat_clip) if hasattr(gdf, "clip_by_rect") else gdf
        out = gdf.copy()
        out["geometry"] = g
        keep = np.array([x is not None and not x.is_empty for x in out.geometry.values], dtype=bool)
        out = out[keep]
        return out.to_crs(self.crs)


def _fmt_lon(v: float) -> str:
    v = round(v, 6)
    s = f"{abs(v):g}°"
    return s + ("E" if v > 0 else "W" if v < 0 else "")


def _fmt_lat(v: float) -> str:
    v = round(v, 6)
    s = f"{abs(v):g}°"
    return s + ("N" if v > 0 else "S" if v < 0 else "")


def _nice_length(km: float) -> float:
    """Largest 1/2/5 x 10^n not above ``km``."""
    if km <= 0:
        return 1.0
    e = math.floor(math.log10(km))
    for m in (5, 2, 1):
        if m * 10 ** e <= km:
            return float(m * 10 ** e)
    return float(10 ** e)


def _frame(transformer, extent):
    """Axes limits for a lon/lat extent: the projected mid-lines of the extent."""
    lon0, lon1, lat0, lat1 = extent
    lonc, latc = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    xs, _ = transformer.transform([lon0, lon1], [latc, latc])
    _, ys = transformer.transform([lonc, lonc], [lat0, lat1])
    return (float(xs[0]), float(xs[1])), (float(ys[0]), float(ys[1]))


def _lonlat_window(inv, xlim, ylim, margin=1.0):
    """lon/lat box covering the projected frame (inverse-projected, densified) + margin."""
    t = np.linspace(0, 1, 101)
    xs = np.concatenate([xlim[0] + (xlim[1] - xlim[0]) * t, np.full_like(t, xlim[1]),
                         xlim[1] - (xlim[1] - xlim[0]) * t, np.full_like(t, xlim[0])])
    ys = np.concatenate([np.full_like(t, ylim[0]), ylim[0] + (ylim[1] - ylim[0]) * t,
                         np.full_like(t, ylim[1]), ylim[1] - (ylim[1] - ylim[0]) * t])
    lons, lats = inv.transform(xs, ys)
    return (float(np.min(lons)) - margin, max(float(np.min(lats)) - margin, -89.0),
            float(np.max(lons)) + margin, min(float(np.max(lats)) + margin, 89.0))


def _edge_ticks(transformer, values, fixed_is_lon, xlim, ylim, axis):
    """Where graticule lines cross the bottom (axis='x') or left (axis='y') frame edge."""
    from shapely.geometry import LineString

    edge = (LineString([(xlim[0], ylim[0]), (xlim[1], ylim[0])]) if axis == "x"
            else LineString([(xlim[0], ylim[0]), (xlim[0], ylim[1])]))
    pos, labels = [], []
    for v in values:
        t = np.linspace(-89.5, 89.5, 1433) if fixed_is_lon else np.linspace(-180, 180, 2881)
        lon = np.full_like(t, v) if fixed_is_lon else t
        lat = t if fixed_is_lon else np.full_like(t, v)
        x, y = transformer.transform(lon, lat)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2:
            continue
        hit = LineString(np.column_stack([x[ok], y[ok]])).intersection(edge)
        if hit.is_empty:
            continue
        pts = [hit] if hit.geom_type == "Point" else [g for g in getattr(hit, "geoms", []) if g.geom_type == "Point"]
        if not pts:
            continue
        p = pts[0]
        pos.append(p.x if axis == "x" else p.y)
        labels.append(_fmt_lon(v) if fixed_is_lon else _fmt_lat(v))
    order = np.argsort(pos)
    return [pos[i] for i in order], [labels[i] for i in order]


def plot_layer(ax, layer, **kw) -> None:
    """Draw a GeoDataFrame or GeoSeries on ``ax`` (``layer.plot(ax=ax, **kw)``); nothing if it is empty.

    Every map and chart draws its layers here. geopandas redraws the whole figure after each layer
    (``ax.figure.canvas.draw_idle()``). The maps' final layout depends on those intermediate draws
    through one thing only: each runs the figure's layout engine, which places the axes and so
    the labels placed from them (skipping the draws altogether was tried and moved labels on every
    map). Here each of those draws runs the layout engine and paints nothing, which is what the
    figure keeps of it: every map comes out byte for byte as with the full draws (tested:
    tests/test_basemap.py), in a third less time.
    """
    if not len(layer):
        return
    fig = ax.figure
    canvas = fig.canvas

    def layout_only(*args, **kwargs):
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.execute(fig)

    own = canvas.__dict__.get("draw_idle")
    canvas.draw_idle = layout_only
    try:
        layer.plot(ax=ax, **kw)
    finally:
        if own is None:
            del canvas.draw_idle  # the canvas's own method again
        else:
            canvas.draw_idle = own


def draw_basemap(
    ax,
    extent: Sequence[float] = (45.0, 95.0, 30.0, 56.0),
    crs: str = CENTRAL_ASIA_LCC,
    highlight_admin1: Iterable[str] = (),
    highlight_countries: Iterable[str] = (),
    graticule_step: float | None = 5,
    scale_bar: bool = True,
    label_countries: Iterable[str] = (),
    admin1_borders: Iterable[str] = (),
    aral: str = "both",
    rivers: bool = True,
    lakes: bool = True,
    fontsize: float = 7.0,
    maps_dir: Path | None = None,
) -> BaseMap:
    """Draw the base map on ``ax`` and return a :class:`BaseMap`.

    Parameters
    ----------
    extent : (lon_min, lon_max, lat_min, lat_max)
        Map window in degrees. The frame is the projected mid-lines of this window; layers
        are clipped in lon/lat (a window covering the frame plus 1 degree) before projecting.
    crs : proj string / EPSG code / pyproj CRS of the map (default :data:`CENTRAL_ASIA_LCC`).
    highlight_admin1 : ISO 3166-2 codes as in ``admin1.geojson`` (e.g. ``"IR-27"``), filled.
    highlight_countries : ISO3 codes (``iso3`` column) with a stronger land fill.
    graticule_step : degrees between graticule lines (None: no graticule).
    scale_bar : draw a km scale bar (true at the map's centre latitude).
    label_countries : ISO3 codes to label at a representative point inside the frame.
    admin1_borders : ISO3 codes whose province borders are drawn (thin grey).
    aral : "both" (modern sea filled, pre-1960s shore as a dashed outline), "modern",
        "historic" (historic sea filled) or "none".
    rivers, lakes : draw these layers.
    """
    import geopandas as gpd
    import matplotlib.patheffects as pe
    from pyproj import CRS, Transformer

    lon_min, lon_max, lat_min, lat_max = (float(v) for v in extent)
    if not (lon_min < lon_max and lat_min < lat_max):
        raise ValueError(f"bad extent {extent!r}: expected (lon_min, lon_max, lat_min, lat_max)")
    crs_obj = CRS.from_user_input(crs)
    fwd = Transformer.from_crs("EPSG:4326", crs_obj, always_xy=True)
    inv = Transformer.from_crs(crs_obj, "EPSG:4326", always_xy=True)

    def project(lon, lat):
        x, y = fwd.transform(lon, lat)
        return x, y

    def unproject(x, y):
        return inv.transform(x, y)

    xlim, ylim = _frame(fwd, (lon_min, lon_max, lat_min, lat_max))
    win = _lonlat_window(inv, xlim, ylim)
    hl_admin1 = sorted(set(highlight_admin1))
    hl_countries = sorted(set(highlight_countries))

    def prep(gdf):
        g = gdf.copy()
        g["geometry"] = gdf.geometry.clip_by_rect(*win)
        keep = np.array([x is not None and not x.is_empty for x in g.geometry.values], dtype=bool)
        return g[keep].to_crs(crs_obj)

    ax.set_facecolor(PALETTE["water"])
    drawn = {}

    countries = prep(load_layer("countries", maps_dir))
    drawn["countries"] = countries
    is_hl = countries["iso3"].isin(hl_countries)
    plot_layer(ax, countries[~is_hl], facecolor=PALETTE["land"], edgecolor=PALETTE["border"],
                linewidth=0.4, zorder=1)
    plot_layer(ax, countries[is_hl], facecolor=PALETTE["land_highlight"], edgecolor=PALETTE["border"],
                linewidth=0.4, zorder=1.1)

    if hl_admin1 or admin1_borders:
        admin1 = prep(load_layer("admin1", maps_dir))
        drawn["admin1"] = admin1
        unknown = sorted(set(hl_admin1) - set(load_layer("admin1", maps_dir)["iso_3166_2"]))
        if unknown:
            raise KeyError(f"admin-1 codes not in data/maps/admin1.geojson: {unknown}")
        sel = admin1[admin1["iso_3166_2"].isin(hl_admin1)]
        plot_layer(ax, sel, facecolor=PALETTE["admin1_highlight"], edgecolor="none", zorder=2)
        borders = admin1[admin1["iso3"].isin(sorted(set(admin1_borders)))]
        plot_layer(ax, borders.boundary, color=PALETTE["admin1_border"], linewidth=0.35,
                   linestyle=(0, (2, 1.5)), zorder=2.5)
        plot_layer(ax, sel.boundary, color=PALETTE["admin1_highlight_edge"], linewidth=0.6, zorder=2.6)

    if lakes:
        lk = prep(load_layer("lakes", maps_dir))
        drawn["lakes"] = lk
        base = lk[~lk["id"].isin(["aral_historic", "aral_modern", "caspian"])]
        caspian = lk[lk["id"] == "caspian"]
        # the Caspian is a hole in NE admin-0: the water background shows it; GSHHG's shore is
        # drawn under the countries so the NE coast wins where the two differ
        plot_layer(ax, caspian, facecolor=PALETTE["water"], edgecolor="none", zorder=0.5)
        plot_layer(ax, base, facecolor=PALETTE["water"], edgecolor=PALETTE["water_edge"],
                    linewidth=0.3, zorder=3)
        hist = lk[lk["id"] == "aral_historic"]
        mod = lk[lk["id"] == "aral_modern"]
        if aral in ("both", "modern"):
            plot_layer(ax, mod, facecolor=PALETTE["water"], edgecolor=PALETTE["water_edge"],
                        linewidth=0.3, zorder=3)
        if aral == "historic":
            plot_layer(ax, hist, facecolor=PALETTE["water"], edgecolor=PALETTE["water_edge"],
                        linewidth=0.3, zorder=3)
        if aral == "both":
            plot_layer(ax, hist.boundary, color=PALETTE["aral_historic"], linewidth=0.6,
                       linestyle=(0, (3, 2)), zorder=3.1)
        if aral not in ("both", "modern", "historic", "none"):
            raise ValueError(f"aral must be 'both', 'modern', 'historic' or 'none', not {aral!r}")

    if rivers:
        rv = prep(load_layer("rivers", maps_dir))
        drawn["rivers"] = rv
        plot_layer(ax, rv, color=PALETTE["river"], linewidth=0.7, zorder=3.5)

    # graticule, labelled where it crosses the bottom and left frame edges
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    if graticule_step:
        step = float(graticule_step)
        lons = np.arange(math.floor(win[0] / step) * step, win[2] + step, step)
        lats = np.arange(math.floor(win[1] / step) * step, win[3] + step, step)
        lats = lats[(lats > -90) & (lats < 90)]
        for lo in lons:
            t = np.linspace(win[1], win[3], 200)
            x, y = fwd.transform(np.full_like(t, lo), t)
            ax.plot(x, y, color=PALETTE["graticule"], linewidth=0.3, zorder=4)
        for la in lats:
            t = np.linspace(win[0], win[2], 400)
            x, y = fwd.transform(t, np.full_like(t, la))
            ax.plot(x, y, color=PALETTE["graticule"], linewidth=0.3, zorder=4)
        xt, xl = _edge_ticks(fwd, lons, True, xlim, ylim, "x")
        yt, yl = _edge_ticks(fwd, lats, False, xlim, ylim, "y")
        ax.set_xticks(xt, xl)
        ax.set_yticks(yt, yl)
        ax.tick_params(labelsize=fontsize, length=2, width=0.5, colors=PALETTE["text"], pad=1.5)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_linewidth(0.6)
        sp.set_color("#555555")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("")
    ax.set_ylabel("")

    halo = [pe.withStroke(linewidth=2.0, foreground="white")]
    if label_countries:
        from shapely.geometry import box as _box

        frame = _box(xlim[0], ylim[0], xlim[1], ylim[1])
        for iso in sorted(set(label_countries)):
            rows = countries[countries["iso3"] == iso]
            if not len(rows):
                continue
            geom = rows.geometry.union_all().intersection(frame)
            if geom.is_empty:
                continue
            # label the largest part inside the frame
            parts = list(getattr(geom, "geoms", [geom]))
            part = max(parts, key=lambda g: g.area)
            p = part.representative_point()
            ax.text(p.x, p.y, rows.iloc[0]["name_en"], fontsize=fontsize, color=PALETTE["text"],
                    ha="center", va="center", zorder=6, path_effects=halo)

    sb = None
    if scale_bar:
        lonc, latc = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
        k = float(fwd_factors(crs_obj, lonc, latc))
        width_km = (xlim[1] - xlim[0]) / k / 1000.0
        km = _nice_length(width_km / 5.0)
        length_m = km * 1000.0 * k
        dx, dy = xlim[1] - xlim[0], ylim[1] - ylim[0]
        x0 = xlim[0] + 0.04 * dx
        y0 = ylim[0] + 0.05 * dy
        h = 0.008 * dy
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((x0, y0), length_m / 2, h, facecolor="#333333", edgecolor="#333333",
                               linewidth=0.5, zorder=7))
        ax.add_patch(Rectangle((x0 + length_m / 2, y0), length_m / 2, h, facecolor="white",
                               edgecolor="#333333", linewidth=0.5, zorder=7))
        label = f"{km:g} km"
        ax.text(x0 + length_m, y0 + 2.2 * h, label, fontsize=fontsize, ha="center", va="bottom",
                color=PALETTE["text"], zorder=7, path_effects=halo)
        ax.text(x0, y0 + 2.2 * h, "0", fontsize=fontsize, ha="center", va="bottom",
                color=PALETTE["text"], zorder=7, path_effects=halo)
        sb = {"km": km, "length_m": length_m, "x0": x0, "x1": x0 + length_m, "y": y0,
              "scale_factor": k, "lat": latc, "lon": lonc}

    return BaseMap(crs=crs_obj, proj4=crs if isinstance(crs, str) else crs_obj.srs,
                   extent=(lon_min, lon_max, lat_min, lat_max), xlim=xlim, ylim=ylim,
                   project=project, unproject=unproject, scale_bar=sb, lonlat_clip=win, layers=drawn)


def fwd_factors(crs, lon: float, lat: float) -> float:
    """Point scale factor of ``crs`` at (lon, lat) (conformal maps: same in all directions)."""
    from pyproj import Proj

    f = Proj(crs).get_factors(lon, lat)
    return float(f.parallel_scale)


__all__ = [
    "CENTRAL_ASIA_LCC", "LAYERS", "MAPS_DIR", "PALETTE", "BaseMap", "MapLayerError",
    "draw_basemap", "layer_path", "load_layer", "fwd_factors",
]
