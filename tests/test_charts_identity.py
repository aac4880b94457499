"""Tests of the identity chapter's figures (kazdiaspora.charts.identity) and its helpers."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kazdiaspora import data, figures  # noqa: E402
from kazdiaspora.charts import identity as I  # noqa: E402

FIG_IDS = sorted(k for k, v in figures.load_all().items() if v.chapter == I.CHAPTER)


@pytest.fixture(scope="module")
def rendered():
    out = {fid: figures.render(fid) for fid in FIG_IDS}
    yield out
    for r in out.values():
        plt.close(r.fig)


def test_expected_figures_registered():
    assert FIG_IDS == sorted(["azerbaijanis-by-source", "kurultays-timeline", "scripts-map", "survey-grid",
                              "turning-points-timeline"])


@pytest.mark.parametrize("fid", FIG_IDS)
def test_figure_metadata_and_provenance(rendered, fid):
    r = rendered[fid]
    for text in (r.caption, r.alt):
        assert len(text) > 60 and "<Figure" not in text and "nan" not in text.split()
    assert r.spec.title and r.source_line.startswith("Source: ")
    assert {"source_key", "locator"} <= set(r.data.columns)
    assert r.data["source_key"].notna().all() and r.data["locator"].notna().all()
    assert len(r.data) > 0
    # a title is drawn on the figure itself
    ax_titles = [a.get_title(loc=loc) for a in r.fig.axes for loc in ("left", "center", "right")]
    suptitle = r.fig._suptitle.get_text() if r.fig._suptitle else ""
    assert any(ax_titles) or suptitle


# ---------------------------------------------------------------- plotted values equal data/

def test_scripts_values_equal_data(rendered):
    d = rendered["scripts-map"].data
    src = data.load("scripts")
    m = d.merge(src, on="iso3", suffixes=("", "_src"), validate="one_to_one")
    assert len(m) == len(src)
    for c in ("country", "script", "source_key", "locator"):
        assert (m[c] == m[c + "_src"]).all()


def test_kurultay_values_equal_data(rendered):
    d = rendered["kurultays-timeline"].data
    src = data.load("kurultays")
    m = d.merge(src, on="number", suffixes=("", "_src"), validate="one_to_one")
    assert len(m) == len(src)
    for c in ("date", "place_as_printed", "source_key", "locator"):
        assert (m[c] == m[c + "_src"]).all()
    assert m["countries"].equals(m["countries_src"])
    # the 4th is the only date not printed in the Askhat.s paper
    assert d.loc[d["date_source"] == I.DATE_FROM_OTHER, "number"].tolist() == [4]


def test_survey_values_equal_data(rendered):
    d = rendered["survey-grid"].data
    src = data.load("survey")
    m = d.merge(src, on=["question_id", "iso3"], suffixes=("", "_src"), validate="one_to_one")
    assert len(m) == len(src)
    for c in ("question", "answer", "source_key", "locator"):
        assert (m[c] == m[c + "_src"]).all()
    # rows follow the printed table's order
    assert d.drop_duplicates("row")["row"].tolist() == sorted(d["row"].unique())


def test_azerbaijani_values_equal_data(rendered):
    d = rendered["azerbaijanis-by-source"].data
    src = data.load("diasporas_in_kazakhstan")
    persons = src[(src["unit"] == "persons") & src["value"].notna()]
    assert set(d["id"]) == set(persons["id"])
    m = d.merge(src, on="id", suffixes=("", "_src"), validate="one_to_one")
    assert (m["value"] == m["value_src"]).all()
    for c in ("as_printed", "source_key", "locator", "kind"):
        assert (m[c] == m[c + "_src"]).all()
    # the two 1999 census figures are both plotted, not reconciled
    assert sorted(d.loc[d["year"] == 1999, "value"]) == sorted(persons.loc[persons["year"] == 1999, "value"])


def test_turning_points_values_equal_data(rendered):
    d = rendered["turning-points-timeline"].data
    tp = data.load("turning_points")
    k = data.load("kurultays")
    a = d[d["table"] == "turning_points"].merge(tp, on="id", suffixes=("", "_src"), validate="one_to_one")
    assert len(a) == len(tp)
    for c in ("date", "source_key", "locator", "label"):
        assert (a[c] == a[c + "_src"]).all()
    b = d[d["table"] == "kurultays"]
    assert set(b["date"]) | set(tp["date"]) >= set(k["date"])
    for _, r in b.iterrows():
        src = k[k["date"] == r["date"]].iloc[0]
        assert r["source_key"] == src["source_key"] and r["locator"] == src["locator"]
    assert (d["start"] == [I.decimal_year(x) for x in d["date"]]).all()


# ---------------------------------------------------------------- helpers

def test_parse_and_format_date():
    assert I.parse_date("1986-12-16") == (1986, 12, 16)
    assert I.parse_date("2022-01") == (2022, 1, None)
    assert I.parse_date("1992") == (1992, None, None)
    with pytest.raises(ValueError):
        I.parse_date("16.12.1986")
    assert I.format_date("1986-12-16", "1986-12-17") == "16\u201317 Dec 1986"
    assert I.format_date("1931", "1933") == "1931\u20131933"
    assert I.format_date("2022-01") == "Jan 2022"
    assert I.format_date("1992-09-29") == "29 Sep 1992"
    assert I.format_date("2022-01", "2022-03") == "Jan\u2013Mar 2022"
    assert I.format_date("1992", None) == "1992"


def test_decimal_year():
    assert I.decimal_year("1992") == 1992.0
    assert I.decimal_year("1933", end=True) == 1934.0
    assert I.decimal_year("2022-01") == 2022.0
    assert I.decimal_year("2022-01", end=True) == pytest.approx(2022 + 31 / 365)
    assert I.decimal_year("1986-12-16") == pytest.approx(1986 + 349 / 365)
    assert I.decimal_year("1992-01-01") == 1992.0


def test_ordinal_and_wrap():
    assert [I.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd"]
    w = I.wrap("Is the diaspora an ethnic self-identifying unity to both the host country", 20)
    assert all(len(line) <= 20 for line in w.split("\n")) and " ".join(w.split()) == \
        "Is the diaspora an ethnic self-identifying unity to both the host country"


def test_alternate_levels():
    assert I.alternate_levels([0, 10, 20], min_gap=5) == [0, 0, 0]
    assert I.alternate_levels([0, 1, 2], min_gap=5) == [0, 1, 0]
    # input order does not matter; result is in input order
    assert I.alternate_levels([2, 0, 1], min_gap=5) == [0, 0, 1]


def test_spread_labels_removes_overlaps():
    anchors = [(0, 0), (0.5, 0.1), (5, 5)]
    sizes = [(2, 1), (2, 1), (1, 1)]
    pos = I.spread_labels(anchors, sizes)
    boxes = [(x - w / 2, y - h / 2, x + w / 2, y + h / 2) for (x, y), (w, h) in zip(pos, sizes)]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not I.boxes_overlap(boxes[i], boxes[j])
    assert tuple(pos[2]) == (5, 5)  # a label that overlaps nothing stays at its anchor
    # deterministic
    assert np.array_equal(pos, I.spread_labels(anchors, sizes))
    # a fixed box pushes a label out
    p2 = I.spread_labels([(0, 0)], [(1, 1)], fixed=[(-0.2, -0.2, 0.2, 0.2)])
    assert not I.boxes_overlap((p2[0, 0] - .5, p2[0, 1] - .5, p2[0, 0] + .5, p2[0, 1] + .5), (-0.2, -0.2, 0.2, 0.2))


def test_boxes_overlap():
    assert I.boxes_overlap((0, 0, 2, 2), (1, 1, 3, 3))
    assert not I.boxes_overlap((0, 0, 1, 1), (1, 0, 2, 1))  # touching


def test_kurultay_date_source():
    assert I.kurultay_date_source({"source_key": I.SEED_PAPER, "note": ""}) == I.DATE_FROM_PAPER
    assert I.kurultay_date_source({"source_key": "x", "note": "Askhat's paper gives the same date ('...')"}) == I.DATE_FROM_PAPER
    assert I.kurultay_date_source({"source_key": "x", "note": "pre-event report"}) == I.DATE_FROM_OTHER


def test_named_only_as_group():
    assert I.named_only_as_group("the seed says ... 'the CIS countries' collectively and names none; ...")
    assert not I.named_only_as_group("seed names Mongolia explicitly")
    assert not I.named_only_as_group(None)


def test_extent_for_frame_inverts_basemap_frame():
    from pyproj import Transformer

    from kazdiaspora import basemap

    fwd = Transformer.from_crs("EPSG:4326", basemap.CENTRAL_ASIA_LCC, always_xy=True)
    xlim, ylim = (-3.0e6, 5.5e6), (-2.0e6, 2.9e6)
    ext = I.extent_for_frame(fwd.transform, xlim, ylim)
    fx, fy = basemap._frame(fwd, ext)
    assert fx == pytest.approx(xlim, abs=1.0) and fy == pytest.approx(ylim, abs=1.0)


def test_source_label():
    assert I.source_label("gh_kz_census_script") == I.SOURCE_LABELS["gh_kz_census_script"]
    assert I.source_label("askhat_grfdt").startswith("Askhat")


def test_export_byte_identical(tmp_path, rendered):
    # the two figures whose layout was unstable before freeze_layout (legend outside the axes)
    for fid in ("kurultays-timeline", "turning-points-timeline"):
        r = rendered[fid]
        a = figures.export(r, tmp_path / "a")
        b = figures.export(r, tmp_path / "b")
        for ext in a:
            assert a[ext].read_bytes() == b[ext].read_bytes(), (fid, ext)


def test_glue_text_survives_myst_nb_literal_eval():
    from myst_nb.core.variables import format_plain_text

    for text in ("78,325", "1992, 2002, 2005, 2017", "6.2", "16", "29 Sep 1992", "'quoted'", "70,000"):
        fact = I.glue_text("x", text)
        assert format_plain_text(repr(fact), "s") == text
