"""Tests of the chapter 1 figures (kazdiaspora.charts.population)."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import render_figures

from kazdiaspora import data, figures
from kazdiaspora.charts import population as pop

FIG_IDS = ["population-sources-by-country", "census-series", "diaspora-map", "diaspora-totals", "diaspora-shares"]


@pytest.fixture(scope="module")
def df():
    return data.load("population_estimates")


@pytest.fixture(scope="module")
def rendered():
    yield from render_figures(FIG_IDS)


def test_all_registered_for_chapter():
    specs = figures.load_all()
    mine = sorted(f for f, s in specs.items() if s.chapter == pop.CHAPTER)
    assert mine == sorted(FIG_IDS)


@pytest.mark.parametrize("fid", FIG_IDS)
def test_texts_and_provenance(rendered, fid):
    r = rendered[fid]
    for text in (r.caption, r.alt):
        assert len(text) > 80 and "<Figure" not in text and "nan" not in text.lower().split()
    assert {"source_key", "locator"} <= set(r.data.columns)
    assert r.data["source_key"].notna().all() and r.data["locator"].notna().all()
    assert r.source_line.startswith("Source: ")
    assert r.fig.get_figwidth() == pytest.approx(6.5)


def _check_rows_equal_data(plotted: pd.DataFrame, df: pd.DataFrame, cols=("value", "value_low", "value_high")):
    src = df.set_index("id")
    for _, r in plotted.iterrows():
        for c in cols:
            a, b = r[c], src.at[r["id"], c]
            assert (pd.isna(a) and pd.isna(b)) or a == b, (r["id"], c)
        assert r["source_key"] == src.at[r["id"], "source_key"]
        assert r["locator"] == src.at[r["id"], "locator"]


def test_dotplot_values_equal_data(rendered, df):
    d = rendered["population-sources-by-country"].data
    _check_rows_equal_data(d, df)
    assert (d["unit"] == "persons").all()
    assert not d["iso3"].isin(pop.GROUP_CODES).any()
    assert not d["measure"].str.contains("denominator", regex=False).any()
    assert ((d["year"] >= pop.CURRENT_SINCE) | d["year"].isna()).all()


def test_census_values_equal_data(rendered, df):
    d = rendered["census-series"].data
    _check_rows_equal_data(d, df)
    assert set(d["kind"]) <= set(pop.OFFICIAL_KINDS)
    assert d["year"].notna().all()


def test_census_chart_leaves_out_approximate_years(rendered, df):
    """A count the source dates only 'c. 1990' is not drawn at 1990 on the census time axis; the caption names it."""
    d = rendered["census-series"].data
    periods = df.set_index("id").loc[d["id"], "period"]
    assert not periods.map(data.year_is_approximate).any()
    left = pop.census_approximate_years(df)
    caption = rendered["census-series"].caption
    for _, r in left.iterrows():
        assert r["as_printed"] in caption and f"c. {int(r['year'])}" in caption
    # the next such row is caught too: date a drawn census count only approximately
    victim = d[d["kind"] == "census"].iloc[0]["id"]
    df2 = df.copy()
    df2.loc[df2["id"] == victim, "period"] = "c. " + str(int(df2.loc[df2["id"] == victim, "year"].iloc[0]))
    assert victim not in set(pop.census_series_data(df2)["id"])
    assert victim in set(pop.census_approximate_years(df2)["id"])


def test_rows_noted_as_not_ethnic_are_not_counted_as_ethnic(df):
    """A figure whose note says it is not a count of ethnic Kazakhs (birthplace, citizenship) gets the cross."""
    flagged = df[df["note"].fillna("").str.contains("not ethnic", case=False)]
    assert len(flagged) >= 4
    wrong = flagged.loc[pop.is_ethnic(flagged), "id"].tolist()
    assert not wrong, f"noted as not ethnic but drawn as a count of ethnic Kazakhs: {wrong}"


def test_year_is_approximate():
    for p in ("c. 1990", "C. 2012 (conference)", "about 1925", "circa 1900", " c. 2010s"):
        assert data.year_is_approximate(p), p
    for p in ("1990", "1989-1999", "2021 census", None, float("nan"), "since c. 1990"):
        assert not data.year_is_approximate(p), p


def test_totals_values(rendered, df):
    d = rendered["diaspora-totals"].data
    _check_rows_equal_data(d[~d["derived"]], df)
    off = pop.official_by_country(df)
    got = d.set_index("id")["value"]
    assert got["derived_sum_official"] == off.loc[off["basis"] == "official", "value"].sum()
    assert got["derived_sum_all_map"] == off["value"].sum()


def test_map_values(rendered, df):
    d = rendered["diaspora-map"].data
    src = df.set_index("id")
    for _, r in d[d["basis"] == "official"].iterrows():
        assert r["value"] == src.at[r["id"], "value"]
        assert src.at[r["id"], "kind"] in pop.OFFICIAL_KINDS
    for _, r in d[d["basis"] == "median"].iterrows():
        vals = [src.at[i, "value"] for i in r["id"].split(";")]
        assert r["value"] == pytest.approx(pd.Series(vals).median())
        assert r["derived"]


def test_shares_values(rendered, df):
    d = rendered["diaspora-shares"].data.set_index("id")
    src = df.set_index("id")
    assert d.at["askhat_groups_top3_share", "value"] == src.at["askhat_groups_top3_share", "value"]
    t1 = src.loc[["askhat_t1_mendikulova_chn", "askhat_t1_mendikulova_uzb", "askhat_t1_mendikulova_rus"], "value"].sum()
    assert d.at["derived_top3_askhat_t1_mendikulova_2001", "value"] == pytest.approx(
        100 * t1 / src.at["askhat_t1_mendikulova_xdi", "value"])
    assert d.at["derived_share_tukumov_2000", "value"] == pytest.approx(
        100 * src.at["xdi_2000_tukumov_2000", "value"] / src.at["wld_2000_tukumov_2000", "value"])
    printed = d[~d["derived"].astype(bool)]
    for rid, r in printed.iterrows():
        for c in ("value", "value_low", "value_high"):
            a, b = r[c], src.at[rid, c]
            assert (pd.isna(a) and pd.isna(b)) or a == b


# ------------------------------------------------------------------ helpers with small inputs
def _rows(**cols):
    n = len(next(iter(cols.values())))
    base = {"id": [f"r{i}" for i in range(n)], "iso3": ["AAA"] * n, "subregion": [None] * n,
            "year": pd.array([2020] * n, dtype="Int64"), "value": [1.0] * n, "value_low": [math.nan] * n,
            "value_high": [math.nan] * n, "unit": ["persons"] * n, "kind": ["census"] * n, "measure": ["Kazakhs"] * n,
            "geography": ["A"] * n, "source_key": ["k"] * n, "locator": ["l"] * n, "table_ref": [None] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_precision():
    assert pop.precision(1250458) == 0
    assert pop.precision(1500000) == 5
    assert pop.precision(13400000) == 5
    assert pop.precision(math.nan) == 99


def test_pick_official_prefers_latest_then_precise():
    r = _rows(year=pd.array([2010, 2020, 2020, 2021], dtype="Int64"), value=[5.0, 1520000.0, 1562518.0, 7.0],
              kind=["census", "census", "census", "encyclopedia"])
    assert pop.pick_official(r)["id"] == "r2"
    r2 = _rows(measure=["residents born in Kazakhstan (any ethnicity)", "Kazakhs"], value=[9.0, 3.0],
               year=pd.array([2023, 2020], dtype="Int64"), kind=["official_estimate", "census"])
    assert pop.pick_official(r2)["id"] == "r1"
    assert pop.pick_official(_rows(kind=["encyclopedia"])) is None


def test_person_counts_drops_denominators_and_non_persons():
    r = _rows(unit=["persons", "percent", "persons", "persons"],
              measure=["Kazakhs", "share", "total population (denominator, not a Kazakh count)", "Kazakhs"],
              value=[1.0, 2.0, 3.0, math.nan])
    assert list(pop.person_counts(r)["id"]) == ["r0"]


def test_current_rows_keeps_undated():
    r = _rows(year=pd.array([1999, 2000, None], dtype="Int64"))
    assert list(pop.current_rows(r, 2000)["id"]) == ["r1", "r2"]


def test_seed_tiers_and_tier_of(df):
    tiers = pop.seed_tiers(df)
    assert [t[1] for t in tiers] == [0.0, 10000.0, 100000.0]
    assert pop.tier_of(9999, tiers) == tiers[0][0]
    assert pop.tier_of(10000, tiers) == tiers[1][0]
    assert pop.tier_of(5e6, tiers) == tiers[2][0]
    # the paper's middle class is "between 10,000 and 100,000": both edges belong to it
    assert pop.tier_of(100000, tiers) == tiers[1][0]
    assert pop.tier_of(100001, tiers) == tiers[2][0]
    assert [pop.in_tier(50000, 100000, i, tiers) for i in range(3)] == [False, True, False]
    assert [pop.in_tier(5000, 100001, i, tiers) for i in range(3)] == [True, True, True]


def test_kind_offsets():
    o = pop.kind_offsets(["census", "encyclopedia", "census"])
    assert o == {"census": -0.32, "encyclopedia": pytest.approx(0.32)}
    assert pop.kind_offsets(["census"]) == {"census": 0.0}


def test_place_labels_avoids_overlap():
    pts = [(100.0, 100.0), (112.0, 100.0), (100.0, 112.0)]
    spots = pop.place_labels(pts, [5, 5, 5], [(40, 10)] * 3)
    boxes = []
    for (x, y, ha, va) in spots:
        x0 = {"left": x, "right": x - 40, "center": x - 20}[ha]
        y0 = {"bottom": y, "top": y - 10, "center": y - 5}[va]
        boxes.append((x0, y0, x0 + 40, y0 + 10))
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = boxes[i], boxes[j]
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_place_labels_respects_bounds():
    (x, y, ha, va), = pop.place_labels([(95.0, 50.0)], [3], [(30, 10)], bounds=(0, 0, 100, 100))
    assert ha == "right"


def test_symbol_anchor_near_home():
    from shapely.geometry import box
    home = box(0, 0, 10, 10)
    country = box(10, 0, 100, 10)
    p = pop.symbol_anchor(country, home, 5)
    assert 10 <= p.x <= 15
    far = box(200, 0, 210, 10)
    assert pop.symbol_anchor(far, home, 5).x == pytest.approx(205)


def test_top3_shares_table1(df):
    sh = pop.top3_shares(df).set_index("table_ref")
    assert sh.at["askhat_t1:tatimov_2003", "basis"] == "printed column total"
    assert 0 < sh["share_pct"].max() <= 100
