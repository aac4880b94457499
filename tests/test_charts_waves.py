"""Tests of chapter 2's figures (kazdiaspora.charts.waves): render, metadata, data, export."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import render_figures  # noqa: E402

from kazdiaspora import data, figures, routemap  # noqa: E402
from kazdiaspora.charts import waves as wv  # noqa: E402

FIG_IDS = sorted(["waves-timeline"] + [f"route-map-{m}" for m in routemap.MAP_SPECS])


@pytest.fixture(scope="module")
def rendered():
    yield from render_figures(FIG_IDS)


def test_all_figures_registered_for_the_chapter():
    figures.load_all()
    mine = sorted(k for k, v in figures.REGISTRY.items() if v.chapter == wv.CHAPTER)
    assert mine == FIG_IDS


@pytest.mark.parametrize("fid", FIG_IDS)
def test_metadata_and_provenance(rendered, fid):
    r = rendered[fid]
    assert len(r.alt) > 80 and "<Figure" not in r.alt
    assert len(r.caption) > 80 and "<Figure" not in r.caption
    assert r.source_line.startswith("Source: ")
    assert {"source_key", "locator"} <= set(r.data.columns)
    assert r.data["source_key"].notna().all() and r.data["locator"].notna().all()
    assert len(r.data) > 0


def test_timeline_values_equal_data(rendered):
    d = rendered["waves-timeline"].data
    waves = data.load("waves").set_index("wave_id")
    w = d[d.row_type == "wave"]
    assert sorted(w["wave_id"]) == sorted(waves.index)
    for r in w.itertuples(index=False):
        assert r.year_start == waves.loc[r.wave_id, "year_start"]
        assert r.year_end == waves.loc[r.wave_id, "year_end"]
        assert r.source_key == waves.loc[r.wave_id, "source_key"]
    figs = data.load("wave_figures").set_index("id")
    f = d[d.row_type == "figure"]
    assert len(f) > 20
    for r in f.itertuples(index=False):
        src = figs.loc[r.id]
        for col in ("value", "value_low", "value_high"):
            a, b = getattr(r, col), src[col]
            assert (pd.isna(a) and pd.isna(b)) or a == b, (r.id, col)
        assert src["unit"] == "persons" and r.source_key == src["source_key"] and r.locator == src["locator"]


def test_mover_rule_excludes_deaths_and_populations():
    figs = data.load("wave_figures")
    m = wv.mover_figures(figs)
    assert not m["measure"].str.lower().str.startswith("deaths").any()
    assert not (m["kind"] == "census").any()
    assert (m["unit"] == "persons").all()
    toy = pd.DataFrame({"measure": ["refugees", "deaths: x", "Kazakh population", "returnees"],
                        "unit": ["persons", "persons", "persons", "families"],
                        "value": [1.0, 2.0, 3.0, 4.0], "value_low": [None] * 4, "value_high": [None] * 4,
                        "kind": ["media_report"] * 4})
    assert list(wv.mover_figures(toy)["measure"]) == ["refugees"]


@pytest.mark.parametrize("map_id", sorted(routemap.MAP_SPECS))
def test_map_values_equal_data(rendered, map_id):
    d = rendered[f"route-map-{map_id}"].data
    routes = data.load("routes").set_index("route_id")
    stops = data.load("route_stops").sort_values(["route_id", "seq"])
    figs = data.load("wave_figures").set_index("id")
    r = d[d.row_type == "route"]
    assert len(r) > 0
    for row in r.itertuples(index=False):
        src = routes.loc[row.route_id]
        assert map_id in src["maps"].split()
        assert row.source_key == src["source_key"] and row.locator == src["locator"]
        assert row.certainty == src["certainty"] and row.wave_id == src["wave_id"]
        assert row.stops == " > ".join(stops[stops.route_id == row.route_id]["place_id"])
        if isinstance(row.magnitude_id, str):
            f = figs.loc[row.magnitude_id]
            assert row.magnitude_value == pytest.approx(routemap.magnitude_mid(f["value"], f["value_low"],
                                                                               f["value_high"]))
    f = d[d.row_type == "figure"]
    assert set(f["magnitude_id"]) == set(r["magnitude_id"].dropna())
    for row in f.itertuples(index=False):
        src = figs.loc[row.magnitude_id]
        assert row.source_key == src["source_key"] and row.locator == src["locator"]
        assert (math.isnan(row.value) and math.isnan(src["value"])) or row.value == src["value"]


def test_waves_table_says_which_years_no_source_prints():
    """A wave whose end is the data's last year, or whose years its source does not print, is named."""
    from kazdiaspora.charts import waves as wv

    t = wv.timeline_data()
    text = wv.years_caveats(t)
    ongoing = t[(t["row_type"] == "wave") & t["note"].fillna("").str.contains("ongoing")]
    assert len(ongoing) >= 1
    for _, w in ongoing.iterrows():
        assert f"wave {int(w['wave_no'])} continues: {int(w['year_end'])}" in text
    # the next such wave is named too
    t2 = t.copy()
    i = t2.index[(t2["row_type"] == "wave")][0]
    t2.loc[i, "note"] = "ongoing"
    assert f"wave {int(t2.loc[i, 'wave_no'])} continues" in wv.years_caveats(t2)
