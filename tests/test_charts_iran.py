"""Figures of the Iran and return chapter: they render, carry their provenance, plot the data as
stored, and the helpers behave on small inputs."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from kazdiaspora import data, figures, labels
from kazdiaspora.charts import iran as ch

FIG_IDS = sorted(k for k, v in figures.load_all().items() if v.chapter == ch.CHAPTER)


@pytest.fixture(scope="module")
def rendered():
    out = {}
    for fid in FIG_IDS:
        r = figures.render(fid)
        out[fid] = r
    yield out
    for r in out.values():
        plt.close(r.fig)


def test_chapter_has_its_figures():
    assert set(FIG_IDS) >= {"iran-community", "iran-returnees", "return-origins-1990s",
                            "return-origin-shares", "return-cumulative", "return-quotas-settlement"}


@pytest.mark.parametrize("fid", FIG_IDS)
def test_texts_and_provenance(rendered, fid):
    r = rendered[fid]
    for text in (r.caption, r.alt):
        assert len(text) > 80 and "<Figure" not in text and "nan" not in text.lower().split()
    assert {"source_key", "locator"} <= set(r.data.columns)
    assert r.data["source_key"].notna().all() and r.data["locator"].notna().all()
    assert r.fig.axes[0].get_title(loc="left") or r.fig._suptitle is not None


def _values_match(plotted: pd.DataFrame, table: str):
    src = data.load(table).set_index("id")
    rows = plotted[plotted["id"].isin(src.index)]
    assert len(rows), "no plotted row comes from the table"
    for col in ("value", "value_low", "value_high"):
        if col not in rows.columns:
            continue
        for rid, v in zip(rows["id"], rows[col]):
            s = src.loc[rid, col]
            assert (pd.isna(v) and pd.isna(s)) or float(v) == float(s), (rid, col, v, s)
    for col in ("source_key", "locator"):
        assert (rows[col].to_numpy() == src.loc[rows["id"], col].to_numpy()).all()
    return rows


def test_values_equal_data(rendered):
    _values_match(rendered["iran-community"].data[lambda d: d["layer"] == "population"], "iran")
    _values_match(rendered["iran-returnees"].data, "iran")
    _values_match(rendered["return-origins-1990s"].data, "repatriation")
    _values_match(rendered["return-origin-shares"].data, "repatriation")
    cum = rendered["return-cumulative"].data
    _values_match(cum[~cum["derived"].astype(bool)], "repatriation")
    _values_match(rendered["return-quotas-settlement"].data, "repatriation")
    ev = rendered["iran-community"].data[lambda d: d["layer"] == "event"]
    events = data.load("events").set_index("id")
    assert list(ev["as_printed"]) == list(events.loc[ev["id"], "label"])


def test_flagged_rows_not_plotted(rendered):
    for fid, r in rendered.items():
        if "note" in r.data.columns:
            assert not any(ch.is_excluded(n) for n in r.data["note"])
    ids = set().union(*(set(r.data["id"]) for r in rendered.values()))
    assert "ret_iran_1993_trains_persons" not in ids
    assert "shp_uzb_2022-08-01_kazinform_2022_08" not in ids
    assert "cum_all_2021_qostanay_tv" not in ids


def test_persons_and_families_kept_apart(rendered):
    d = rendered["iran-community"].data
    assert set(d.loc[d["layer"] == "population", "unit"]) == {"persons", "families"}
    # the article's figures carry their status: one source only is flagged in the plotted data
    seed = d[(d["source_key"] == "iran_kazakhs_article") & (d["layer"] == "population")]
    assert seed["uncorroborated"].any()
    assert (seed["uncorroborated"] == (seed["status"] == "uncorroborated")).all()


def test_derived_rows_are_flagged_and_traceable(rendered):
    d = rendered["return-cumulative"].data
    der = d[d["layer"] == "derived"]
    assert len(der) and der["derived"].all()
    rep = data.load("repatriation").set_index("id")
    for r in der.itertuples():
        assert r.value == rep.loc[r.to_id, "value"] - rep.loc[r.from_id, "value"]
    assert not d.loc[d["layer"] != "derived", "derived"].astype(bool).any()


# ------------------------------------------------------------------------- helpers

def test_dates():
    assert ch.date_start_x("2016") == 2016.0
    assert ch.date_end_x("2014") == 2015.0
    assert ch.date_end_x("2016-01-01") == 2016.0
    assert math.isclose(ch.date_end_x("2016-06"), 2016 + 182 / 366)
    assert math.isclose(ch.date_start_x("2015-07"), 2015 + 181 / 365)
    with pytest.raises(ValueError):
        ch.date_end_x("c. 2015")


def test_flags():
    assert ch.is_excluded("as printed; implausible - probably a misprint; do not use")
    assert ch.is_excluded("evident typo ... do not plot without correction")
    assert not ch.is_excluded("Tier B")
    assert not ch.is_excluded(None)
    assert ch.is_uncorroborated("uncorroborated: the research pack could not verify")
    assert not ch.is_uncorroborated("Tier C; uncorroborated elsewhere")
    assert ch.is_misreported("probably period shares misreported as cumulative")


def test_bound():
    assert ch.bound({"as_printed": "over 1 million"}) == "lower"
    assert ch.bound({"as_printed": "более 1 миллиона 149 тысяч"}) == "lower"
    assert ch.bound({"as_printed": "5,000", "note": "Tier A; a lower bound"}) == "lower"
    assert ch.bound({"as_printed": "mniej niż 9 tys."}) == "upper"
    assert ch.bound({"as_printed": "957 thousand 772", "note": "Tier A"}) is None


def test_dodge_and_spread():
    assert ch.dodge(["a", "a", "b"], 1.0) == [-0.5, 0.5, 0.0]
    assert ch.dodge([], 1.0) == []
    ys = labels.spread_1d([5.0, 5.0, 10.0], 2.0)
    assert ys[0] < ys[1] and min(abs(a - b) for i, a in enumerate(ys) for b in ys[i + 1:]) >= 2.0 - 1e-6
    assert labels.spread_1d([0.0, 10.0], 1.0) == [0.0, 10.0]
    lo = labels.spread_1d([0.0, 0.0], 2.0, lo=0.0)
    assert min(lo) >= 0.0 and abs(lo[1] - lo[0]) >= 2.0 - 1e-6


def _cross(p0, p1, q0, q1) -> bool:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p0, p1, q0) * side(p0, p1, q1) < 0 and side(q0, q1, p0) * side(q0, q1, p1) < 0


@pytest.mark.parametrize("xs", [[2010, 2010.5, 2015, 2016, 2025], [2025, 2015, 2010, 2016, 2010.5],
                                [2000, 2024, 2001, 2023]])
def test_equal_figures_take_slots_their_leaders_reach_without_crossing(xs):
    """Figures of one value: the one nearest the label column is labelled level with its own marker
    (on the Iran chart a 2010 figure's label stood level with, and just right of, the 2025 figure's
    marker), and no two leaders cross."""
    vals = [5000.0] * len(xs)
    slots = labels.spread_1d(vals, 1000.0)
    out = labels.slots_for_leaders(vals, xs, slots)
    assert sorted(out) == sorted(slots)  # the same slots, given out again
    nearest = max(range(len(xs)), key=lambda i: xs[i])
    assert abs(out[nearest] - 5000) == min(abs(s - 5000) for s in slots)
    column = 2030.0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            assert not _cross((xs[i], 5000), (column, out[i]), (xs[j], 5000), (column, out[j])), (xs, out)
    # figures of different values keep their own slots
    assert labels.slots_for_leaders([1.0, 2.0], [0, 5], [0.5, 2.5]) == [0.5, 2.5]


def test_levels_and_gaps():
    assert ch.alternate_levels([0, 1, 20], 5, n_levels=2) == [0, 1, 0]
    x, y = ch.break_gaps([1.0, 1.5, 5.0], [1.0, 2.0, 3.0], 1.0)
    assert math.isnan(x[2]) and x[3] == 5.0 and len(y) == 4


def test_fmt_and_periods():
    assert ch.fmt_num(4800.0) == "4,800"
    assert ch.fmt_num(13.56) == "13.56"
    assert ch.is_full_year({"date_start": "2016", "date_end": "2016", "period": "2016"})
    assert not ch.is_full_year({"date_start": "2016", "date_end": "2016", "period": "since the start of 2016"})
    assert not ch.is_full_year({"date_start": "2016-01", "date_end": "2016-06", "period": "2016-01 to 2016-06"})
    assert ch.is_regional_quota({"measure": "regional quota for kandas"})


def test_derive_differences():
    cum = pd.DataFrame({
        "id": ["a", "b", "b2", "c", "d", "d2"],
        "date_end": ["2000", "2002", "2002", "2003-06", "2004", "2004"],
        "value": [100.0, 150.0, 150.0, 160.0, 200.0, 210.0],
        "source_key": ["s1", "s2", "s3", "s1", "s1", "s2"],
        "locator": ["p1", "p2", "p3", "p4", "p5", "p6"],
    })
    d = ch.derive_differences(cum)
    # 2004 has two disagreeing figures: skipped; identical figures at 2002 collapse to one
    assert list(d["from_id"]) == ["a", "b"]
    assert list(d["to_id"]) == ["b", "c"]
    assert list(d["value"]) == [50.0, 10.0]
    assert d["derived"].all()
    assert d["source_key"].iloc[0] == "s1;s2"


def test_no_series_band():
    ret = pd.DataFrame({"year_start": [1991, 1991, 2021], "year_end": [1999, 2000, 2021]}, dtype="Int64")
    rep = pd.DataFrame({"date_end": ["2024-09-01", "2025-02-01", None]})
    b0, b1 = ch.no_series_band(ret, rep)
    assert b0 == 2001.0 and b1 == 2026.0
