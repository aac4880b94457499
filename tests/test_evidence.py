"""The evidence model: grades, statuses, and one way of drawing them in every figure."""
from __future__ import annotations

import re

import shutil

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from kazdiaspora import bib, data, evidence, figures, paths

from conftest import rendered

FIGURE_IDS = sorted(figures.load_all())
CSV_COLUMNS = ("grade", "status", "status_note", "reference_year", "reference", "locator")


# ------------------------------------------------------------------ data layer
def test_every_cited_source_has_a_grade():
    s = evidence.sources()
    for name in evidence.FIGURE_TABLES:
        t = data.load(name)
        missing = sorted(set(t["source_key"]) - set(s.index))
        assert not missing, f"{name}: sources without a grade: {missing}"
    assert set(s["grade"]) <= set(evidence.GRADES)


def test_status_values_and_reasons():
    r = evidence.rows()
    assert set(r["status"]) <= set(evidence.STATUSES)
    needs = r[r["status"].isin(["disputed", "probable_error", "excluded"])]
    assert needs["status_note"].notna().all()
    assert r.loc[r["correction"].notna(), "status"].eq("probable_error").all()


def test_corroborated_rows_are_borne_out():
    """'corroborated' means an official record (grade A), or another independent source in the data
    giving the same figure, or a note naming the source that gives it."""
    bad = []
    for name in evidence.FIGURE_TABLES:
        t = data.load(name)
        co = evidence.corroborating(name, t)
        for _, r in t[t["status"] == "corroborated"].iterrows():
            ok = (evidence.grade_of(r["source_key"]) == "A" or co[r["id"]]
                  or any(w in (r["status_note"] or "") for w in ("given by", "gives")))
            if not ok:
                bad.append(r["id"])
    assert not bad, f"marked corroborated without support: {bad}"


def test_statuses_and_notes_are_what_the_data_imply():
    """Every 'corroborated' / 'one source only' row with a note written from the data says exactly
    what :func:`evidence.derived_status` derives: who else gives the figure, and why that does or
    does not count (an independent source; encyclopedias repeating one another; repeats of one body's
    figure; nobody)."""
    bad = []
    for name in evidence.FIGURE_TABLES:
        t = data.load(name)
        cur = t.set_index("id")
        for i, (status, note) in evidence.derived_status(name, t).items():
            if (cur.at[i, "status"], cur.at[i, "status_note"]) != (status, note):
                bad.append(f"{name}/{i}: {cur.at[i, 'status']} {cur.at[i, 'status_note']!r}, data imply {status} {note!r}")
    assert not bad, "\n".join(bad[:20])


_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+\.\d+)(?!\w)")


def _one_sided_disputes(name, t):
    """Disputed rows whose note names a figure that another row gives for the same thing and year,
    while that row is drawn as 'one source only' (it should show the disagreement too)."""
    keys = list(evidence.FIGURE_TABLES[name])
    t = t.assign(_ry=evidence.reference_years(t, name))
    bad = []
    for _, r in t[t["status"] == "disputed"].iterrows():
        nums = {float(n.replace(",", "")) for n in _NUM.findall(r["status_note"] or "")}
        same = t[(t["id"] != r["id"]) & (t["status"] == "uncorroborated")]
        for k in keys + ["_ry"]:
            same = same[same[k].isna()] if pd.isna(r[k]) else same[same[k] == r[k]]
        for _, o in same.iterrows():
            if nums & {o["value"], o["value_low"], o["value_high"]}:
                bad.append((r["id"], o["id"]))
    return bad


def test_disputes_are_shown_on_both_sides():
    bad = [(name, *b) for name in evidence.FIGURE_TABLES for b in _one_sided_disputes(name, data.load(name))]
    assert not bad, bad


def test_one_sided_dispute_is_caught():
    t = data.load("wave_figures").copy()
    t.loc[t["id"] == "tr_survived_aa", ["status", "status_note"]] = ["uncorroborated", evidence.NO_OTHER_SOURCE + "."]
    assert ("tr_survivors_gzt", "tr_survived_aa") in _one_sided_disputes("wave_figures", t)


def test_disputed_notes_name_no_source_key():
    """A reader sees the note: sources by name, never by their key in the bibliography."""
    keys = set(evidence.sources().index)
    bad = [(name, r["id"]) for name in evidence.FIGURE_TABLES for _, r in data.load(name).iterrows()
           if any(k in (r["status_note"] or "") for k in keys)]
    assert not bad, bad


def test_derived_status_catches_false_notes():
    base = {"iso3": ["XYZ"] * 4, "subregion": [None] * 4, "unit": ["persons"] * 4,
            "year": pd.array([2000] * 4, dtype="Int64"), "value_low": [float("nan")] * 4,
            "value_high": [float("nan")] * 4, "status": ["uncorroborated"] * 4,
            "status_note": [evidence.NO_OTHER_SOURCE + "."] * 4}
    t = pd.DataFrame({**base, "id": ["enc1", "enc2", "rel1", "rel2"], "value": [1000.0, 1000.0, 2000.0, 2000.0],
                      "source_key": ["wp_kazakhs_2015", "wp_kazakhs_mirror_2018", "askhat_grfdt", "irin_2003"],
                      "originator": [None, None, "the World Association of Kazakhs", "the World Association of Kazakhs"]})
    d = evidence.derived_status("population_estimates", t)
    assert d["enc1"][0] == "uncorroborated" and d["enc1"][1].startswith(evidence.ENCYCLOPEDIAS_ONLY)
    assert d["rel1"][0] == "uncorroborated" and d["rel1"][1].startswith("Only repeats of the figure of the World")
    t.loc[3, "originator"] = None  # an independent source of the same figure
    d = evidence.derived_status("population_estimates", t)
    assert d["rel1"] == ("corroborated", evidence.same_figure_note(["irin_2003"]))
    # a point inside a range is not the same figure
    assert not evidence.same_figure((899195.0, 899195.0), (800000.0, 1100000.0))
    assert evidence.same_figure((3000.0, 15000.0), (3000.0, 15000.0))
    assert evidence.same_figure((1000.0, 1000.0), (1005.0, 1005.0)) and not evidence.same_figure((1000.0, 1000.0), (1030.0, 1030.0))


def test_corroboration_needs_an_independent_source(monkeypatch):
    t = pd.DataFrame({
        "id": ["a", "b", "c"], "iso3": ["XYZ"] * 3, "subregion": [None] * 3, "unit": ["persons"] * 3,
        "year": pd.array([2000, 2000, 2000], dtype="Int64"), "value": [1000.0, 1004.0, 2000.0],
        "value_low": [float("nan")] * 3, "value_high": [float("nan")] * 3,
        "source_key": ["irin_2003", "askhat_grfdt", "wp_kazakhs_2015"], "status": ["uncorroborated"] * 3})
    co = evidence.corroborating("population_estimates", t)
    assert co == {"a": ["b"], "b": ["a"], "c": []}
    # two encyclopedia snapshots repeat each other: not independent
    t["source_key"] = ["wp_kazakhs_2015", "wp_kazakhs_mirror_2014", "irin_2003"]
    assert evidence.corroborating("population_estimates", t)["a"] == []


def test_reference_year_is_not_the_date_read():
    """An undated encyclopedia snapshot keeps the date it was read apart from the figure's year."""
    p = data.load("population_estimates")
    snap = p[p["note"].str.contains("date of the snapshot read", regex=False)]
    assert len(snap) > 10
    assert snap["year"].isna().all() and snap["source_year"].notna().all()


@pytest.mark.parametrize("change, message", [
    ({"status": "disputed", "status_note": ""}, "must say why in status_note"),
    ({"status": "uncorroborated", "correction": "5"}, "correction is allowed only on a probable_error row"),
    ({"status": "doubtful"}, "is not one of the allowed values"),
])
def test_validator_refuses_bad_status(tmp_path, change, message):
    shutil.copytree(paths.DATA_DIR, tmp_path / "data")
    f = tmp_path / "data" / "iran" / "figures.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    for k, v in change.items():
        df.loc[3, k] = v
    df.to_csv(f, index=False, lineterminator="\n")
    problems = [str(p.error()) for p in data.validate_all(data.Package(tmp_path / "data"))]
    assert any(message in p and "line 5" in p for p in problems), problems


# ------------------------------------------------------------------ figures
@pytest.mark.parametrize("fid", FIGURE_IDS)
def test_figure_csv_carries_the_evidence(fid):
    d = rendered(fid).data
    for c in CSV_COLUMNS:
        assert c in d.columns, f"{fid}: no column {c}"
    counts = d[d["status"].isin(evidence.STATUSES)]
    assert counts["grade"].isin(evidence.GRADES).all(), f"{fid}: a figure row without a grade"
    assert counts["reference"].notna().all()


@pytest.mark.parametrize("fid", FIGURE_IDS)
def test_no_probable_error_drawn_as_data(fid):
    d = rendered(fid).data
    bad = d[d["status"].isin(evidence.NOT_DATA)]
    if len(bad):
        assert "shown_as" in d.columns and bad["shown_as"].eq("error").all(), (fid, list(bad["id"]))


def test_render_refuses_a_probable_error():
    d = pd.DataFrame({"id": ["x", "y"], "status": ["corroborated", "probable_error"]})
    with pytest.raises(evidence.EvidenceError, match="y"):
        evidence.check_plotted(d)
    evidence.check_plotted(d.assign(shown_as=["data", "error"]))
    with pytest.raises(evidence.EvidenceError):
        evidence.mark("census", "A", "probable_error")


def test_probable_errors_in_the_data_are_left_out_of_every_chart():
    """Every probable_error row of the data: where a figure plots it, it is shown as an error."""
    errs = set(evidence.rows().query("status == 'probable_error'").index)
    assert errs
    for fid in FIGURE_IDS:
        d = rendered(fid).data
        if "id" in d.columns:
            shown = d[d["id"].isin(errs)]
            assert shown.get("shown_as", pd.Series("data", index=shown.index)).eq("error").all(), fid


# ------------------------------------------------------------------ grammar
def _lum(c):
    r, g, b = to_rgb(c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_same_status_looks_the_same_everywhere():
    for kind in ("census", "encyclopedia", "scholarly_estimate"):
        for grade in evidence.GRADES:
            full = evidence.mark(kind, grade, "corroborated")
            half = evidence.mark(kind, grade, "disputed")
            hollow = evidence.mark(kind, grade, "uncorroborated")
            assert full.get("fillstyle", "full") == "full" and full["markerfacecolor"] != "white"
            assert half["fillstyle"] == "left"
            assert hollow["markerfacecolor"] == "white"
            assert full["marker"] == half["marker"] == hollow["marker"]


def test_grade_shades_get_lighter_from_a_to_d():
    for kind in ("census", "encyclopedia", "media_report"):
        lums = [_lum(evidence.mark(kind, g, "corroborated")["markerfacecolor"]) for g in evidence.GRADES]
        assert lums == sorted(lums) and len(set(lums)) == 4, (kind, lums)


def test_legend_wording_is_one():
    labels = [h.get_label() for h in evidence.legend_handles()]
    for s in ("corroborated", "disputed", "uncorroborated"):
        assert evidence.STATUS_LABEL[s] in labels
    for g in evidence.GRADES:
        assert evidence.GRADE_LABEL[g] in labels


def test_every_chart_with_markers_uses_the_grammar():
    """Charts that draw figures from the data carry the status legend (one wording everywhere; a
    label wrapped onto two lines keeps its words)."""
    for fid in ("population-sources-by-country", "census-series", "diaspora-totals", "waves-timeline"):
        fig = rendered(fid).fig
        texts = {" ".join(t.get_text().split()) for ax in fig.axes for leg in [ax.get_legend()] if leg
                 for t in leg.get_texts()}
        assert evidence.STATUS_LABEL["uncorroborated"] in texts, fid
        assert evidence.GRADE_LABEL["D"] in texts, fid


# Marks that are not a figure's mark: range caps and ticks, a quota's dash, arrowheads, invisible hover
# targets, text markers.
_NOT_A_FIGURE_MARK = {"|", "_", ">", "<", "none", "None", "", " "}
GRAMMAR_PENDING: dict[str, str] = {
    # charts whose marks encode something else and are not yet on the one grammar: id -> the reason
}


def _grammar_problems(fig) -> list[str]:
    """Every data mark (a marker tagged with the row it draws) drawn as :func:`evidence.mark` draws that row."""
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D

    from kazdiaspora import hotspots

    rows = evidence.rows()
    kind = {}
    for name in evidence.FIGURE_TABLES:
        t = data.load(name)
        kind.update(dict(zip(t["id"], t["kind"])))
    out = []
    for a in fig.findobj(Line2D):
        ids = getattr(a, hotspots._ATTR, None)
        m = a.get_marker()
        if ids is None or m in _NOT_A_FIGURE_MARK or (isinstance(m, str) and m.startswith("$")):
            continue
        for i in [ids] if isinstance(ids, str) else [x for x in ids if x]:
            if i not in rows.index:
                continue  # an event, a derived value, a place: not a figure row
            r = rows.loc[i]
            if r["status"] in evidence.NOT_DATA:
                if m != "x":
                    out.append(f"{i}: a {r['status']} row drawn as data")
                continue
            want = evidence.mark(kind[i], evidence.grade_of(r["source_key"]), r["status"])
            if m != want["marker"]:
                out.append(f"{i}: shape {m!r}, the grammar draws {kind[i]} as {want['marker']!r}")
            if to_rgba(a.get_markerfacecolor()) != to_rgba(want["markerfacecolor"]):
                out.append(f"{i}: fill {a.get_markerfacecolor()}, the grammar gives {want['markerfacecolor']}")
            if a.get_fillstyle() != want.get("fillstyle", "full"):
                out.append(f"{i}: fill style {a.get_fillstyle()}, the grammar gives {want.get('fillstyle', 'full')}")
    return out


@pytest.mark.parametrize("fid", [f for f in FIGURE_IDS if f not in GRAMMAR_PENDING])
def test_every_mark_of_a_figure_row_follows_the_grammar(fid):
    problems = _grammar_problems(rendered(fid).fig)
    assert not problems, f"{fid}: {len(problems)} mark(s) off the grammar:\n" + "\n".join(problems[:15])


def test_grammar_check_catches_a_mark_drawn_its_own_way():
    from kazdiaspora import hotspots

    t = data.load("iran")
    r = t[t["status"] == "uncorroborated"].iloc[0]
    fig, ax = plt.subplots()
    good = evidence.mark(r["kind"], evidence.grade_of(r["source_key"]), r["status"])
    hotspots.tag(ax.plot([0], [1], **good), r["id"])
    assert not _grammar_problems(fig)
    hotspots.tag(ax.plot([1], [1], marker="s" if good["marker"] != "s" else "o", color="red", ls="none"), r["id"])
    probs = _grammar_problems(fig)
    assert any("shape" in p for p in probs) and any("fill" in p for p in probs), probs
    plt.close(fig)
