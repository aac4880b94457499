"""Tests of the committed map layers and the base map (kazdiaspora.basemap)."""
from __future__ import annotations

import hashlib
import io
import shutil
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pyproj import Geod  # noqa: E402

from kazdiaspora import basemap  # noqa: E402
from kazdiaspora.basemap import CENTRAL_ASIA_LCC, MapLayerError, draw_basemap, load_layer  # noqa: E402

COLUMNS = {
    "countries": {"iso3", "adm0_a3", "name_en"},
    "admin1": {"adm1_code", "iso_3166_2", "name", "name_en", "iso3"},
    "lakes": {"id", "name_en", "epoch", "source", "area_km2"},
    "rivers": {"id", "name_en", "source"},
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_layer_loads_in_wgs84_with_columns(name):
    gdf = load_layer(name)
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert COLUMNS[name] <= set(gdf.columns)
    assert len(gdf) > 0
    assert gdf.geometry.is_valid.all()
    lon0, lat0, lon1, lat1 = gdf.total_bounds
    assert -10 <= lon0 and lon1 <= 130 and 15 <= lat0 and lat1 <= 66


def test_needed_countries_and_provinces_exist():
    countries = set(load_layer("countries")["iso3"])
    assert {"KAZ", "UZB", "TKM", "KGZ", "TJK", "CHN", "MNG", "IRN", "AFG", "RUS", "TUR",
            "DEU", "FRA", "SWE", "IND", "PAK"} <= countries
    codes = set(load_layer("admin1")["iso_3166_2"])
    needed = {"KZ-MAN", "IR-27", "CN-XJ", "MN-071", "UZ-QR", "TM-B", "CN-GS", "CN-QH", "CN-XZ",
              "IN-JK", "IN-LA", "IR-21", "IR-31", "IR-12"}
    assert needed <= codes


def test_needed_lakes_and_rivers_exist():
    lakes = load_layer("lakes").set_index("id")
    for key in ("caspian", "aral_historic", "aral_modern", "balkhash", "zaysan", "issyk_kul"):
        assert key in lakes.index, key
    assert lakes.loc["aral_historic", "area_km2"] > lakes.loc["aral_modern", "area_km2"]
    assert lakes.loc["caspian"].geometry.contains(
        __import__("shapely").geometry.Point(51.0, 42.0))
    rivers = set(load_layer("rivers")["id"])
    assert {"ili", "irtysh", "black_irtysh", "syr_darya", "amu_darya"} <= rivers


def test_layers_match_sha256sums():
    sums = (basemap.MAPS_DIR / "SHA256SUMS").read_text().split()
    listed = dict(zip(sums[1::2], sums[0::2]))
    for name in COLUMNS:
        f = f"{name}.geojson"
        assert listed[f] == hashlib.sha256((basemap.MAPS_DIR / f).read_bytes()).hexdigest()


@pytest.fixture
def maps_copy(tmp_path, monkeypatch):
    d = tmp_path / "maps"
    shutil.copytree(basemap.MAPS_DIR, d)
    monkeypatch.setattr(basemap, "MAPS_DIR", d)
    return d


def test_checksum_mismatch_names_the_file(maps_copy):
    f = maps_copy / "lakes.geojson"
    f.write_bytes(f.read_bytes().replace(b"Caspian Sea", b"Caspian Lake"))
    with pytest.raises(MapLayerError, match="lakes.geojson"):
        load_layer("lakes")
    load_layer("rivers")  # other layers still load


def test_missing_layer_names_the_file(maps_copy):
    (maps_copy / "rivers.geojson").unlink()
    with pytest.raises(MapLayerError, match="rivers.geojson"):
        load_layer("rivers")


def _render(**kw):
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    bm = draw_basemap(ax, **kw)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return bm, buf.getvalue()


def test_draw_basemap_fast_and_byte_identical():
    kw = dict(extent=(53, 57, 36, 38.5), highlight_admin1=["IR-27"], admin1_borders=["IRN"],
              highlight_countries=["TKM"], graticule_step=1, label_countries=["IRN", "TKM"])
    t = time.perf_counter()
    bm, png1 = _render(**kw)
    assert time.perf_counter() - t < 10
    _, png2 = _render(**kw)
    assert png1 == png2
    assert png1[:8] == b"\x89PNG\r\n\x1a\n"
    x, y = bm.project(55.0, 37.25)
    assert bm.xlim[0] < x < bm.xlim[1] and bm.ylim[0] < y < bm.ylim[1]
    lon, lat = bm.unproject(x, y)
    assert abs(lon - 55.0) < 1e-9 and abs(lat - 37.25) < 1e-9


def test_unknown_province_code_is_an_error():
    with pytest.raises(KeyError, match="XX-99"):
        _render(extent=(53, 57, 36, 38.5), highlight_admin1=["XX-99"])


@pytest.mark.parametrize("extent", [(45, 95, 30, 56), (53, 57, 36, 38.5), (60, 90, 40, 52)])
def test_scale_bar_true_length(extent):
    bm, _ = _render(extent=extent, graticule_step=None)
    sb = bm.scale_bar
    # the bar's projected length, centred at the map's centre latitude, on the ground
    x, y = bm.project(sb["lon"], sb["lat"])
    half = sb["length_m"] / 2
    lon0, lat0 = bm.unproject(x - half, y)
    lon1, lat1 = bm.unproject(x + half, y)
    _, _, dist = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)
    assert abs(dist / 1000 - sb["km"]) / sb["km"] < 0.01


def test_projection_constant():
    from pyproj import CRS

    crs = CRS.from_user_input(CENTRAL_ASIA_LCC)
    assert "Lambert Conic Conformal" in crs.coordinate_operation.method_name
    assert crs.to_json_dict()["conversion"]["parameters"][1]["value"] == 60


@pytest.mark.parametrize("fid", ["route-map-other", "scripts-map"])
def test_layers_drawn_with_layout_only_give_the_map_of_full_draws(fid, monkeypatch):
    """plot_layer replaces geopandas' full redraw after each layer by a run of the layout engine;
    the map must come out byte for byte as with the full redraws (a route map; a chart map)."""
    from kazdiaspora import figures

    figures.load_all()

    def svg():
        r = figures.render(fid)
        blob = figures._save_bytes(r.fig, "svg")
        plt.close(r.fig)
        return blob

    ours = svg()

    def full_draws(ax, layer, **kw):  # what geopandas does on its own
        if len(layer):
            layer.plot(ax=ax, **kw)

    monkeypatch.setattr(basemap, "plot_layer", full_draws)
    assert svg() == ours
