"""The evidence layer (issue 15): hotspots measured at export, explorer table, country profiles, data zip."""
from __future__ import annotations

import io
import json
import zipfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kazdiaspora import data, downloads, explorer, figures, hotspots, paths, profiles, style  # noqa: E402

COLOURS = {"a": (255, 0, 0), "b": (0, 160, 0), "c": (0, 0, 255), "d": (255, 0, 255)}


def _demo_figure():
    """Four marks of distinct colours drawn by the three tagging mechanisms, plus a reference line."""
    with style.book_style():
        fig, ax = style.new_figure(3.0, layout="constrained")
        hotspots.tag(ax.scatter([1, 3], [1, 2], s=80, c=["#ff0000", "#00a000"], marker="s", linewidths=0),
                     ["a", "b"])
        ax.set_xlim(0, 5)
        ax.set_ylim(0, 5)
        hotspots.row(ax, "c")
        ax.axhline(4.5, color="#dddddd")          # spans the axes: not a mark of row c
        ax.plot([4], [4], marker="s", ms=9, color="#0000ff", ls="none")
        hotspots.done(ax)
        hotspots.tag(ax.text(0.5, 3.5, "dd", color="#ff00ff", fontsize=14), "d")
        ax.set_title("Demo")
        figures.freeze_layout(fig)
    return fig


def _ink(png: bytes, rgb) -> tuple[float, float, float, float, float, float]:
    """Centroid and bounding box (x0, y0, x1, y1) of the pixels of one colour, in pixels."""
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    m = (np.abs(a - np.array(rgb)).sum(axis=2) < 60)
    ys, xs = np.nonzero(m)
    assert len(xs), f"colour {rgb} not found"
    return xs.mean(), ys.mean(), xs.min(), ys.min(), xs.max(), ys.max()


def test_hotspot_boxes_land_on_the_marks_in_the_exported_png():
    fig = _demo_figure()
    png = figures._save_bytes(fig, "png")
    m = hotspots.compute(fig)
    from PIL import Image

    w, h = Image.open(io.BytesIO(png)).size
    assert abs(m["width"] - w) <= 1 and abs(m["height"] - h) <= 1
    assert sorted(m["boxes"]) == ["a", "b", "c", "d"]
    for rid, rgb in COLOURS.items():
        (cx, cy, bw, bh), = m["boxes"][rid]
        px, py, x0, y0, x1, y1 = _ink(png, rgb)
        # the ink of the mark lies inside its box (3 px tolerance) ...
        assert (cx - bw / 2) * w - 3 <= x0 and x1 <= (cx + bw / 2) * w + 3, (rid, "x", cx, bw, x0, x1)
        assert (cy - bh / 2) * h - 3 <= y0 and y1 <= (cy + bh / 2) * h + 3, (rid, "y", cy, bh, y0, y1)
        if rid != "d":  # ... and a marker's centre is the box's centre (a text box includes its descent)
            assert abs(cx * w - px) < 3 and abs(cy * h - py) < 3, (rid, (cx * w, cy * h), (px, py))
        assert bw * w < 150, f"{rid}: box {bw * w:.0f} px wide: the reference line was taken for a mark"
    plt.close(fig)


def test_payload_is_deterministic_and_refuses_unknown_ids():
    fig = _demo_figure()
    d = pd.DataFrame({"id": ["a", "b", "c", "d"], "value": [1, 2, 3, 4], "unit": "persons",
                      "source_key": "askhat_grfdt", "locator": "Table 1"})
    p1 = json.dumps(hotspots.payload("demo", fig, d), sort_keys=True)
    p2 = json.dumps(hotspots.payload("demo", fig, d), sort_keys=True)
    assert p1 == p2
    rows = json.loads(p1)["rows"]
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"] and all(r["boxes"] for r in rows)
    assert rows[0]["printed"] == "1" and rows[0]["sources"] == ["askhat_grfdt"]
    with pytest.raises(ValueError, match="not in the plotted data: d"):
        hotspots.payload("demo", fig, d[d["id"] != "d"])
    plt.close(fig)


def test_the_image_name_pattern_finds_figures_and_their_screen_variants():
    import re

    rx = re.compile(hotspots.IMAGE_NAME)
    assert rx.search("figures/diaspora-map.png").group("id") == "diaspora-map"
    assert rx.search("../figures/diaspora-map-screen.png").group("id") == "diaspora-map"
    assert rx.search("_images/route-map-iran.960w.png").group("id") == "route-map-iran"
    assert rx.search("figures/diaspora-map.svg") is None


@pytest.mark.parametrize("fid", ["diaspora-shares", "kurultays-timeline"])
def test_every_plotted_row_of_a_chart_has_a_mark(fid):
    r = figures.render(fid)
    p = hotspots.payload(fid, r.fig, r.data)
    plt.close(r.fig)
    missing = [x["id"] for x in p["rows"] if not x["boxes"]]
    assert p["rows"] and not missing, f"{fid}: rows without a mark: {missing}"
    for x in p["rows"]:
        for cx, cy, w, h in x["boxes"]:
            assert 0 <= cx <= 1 and 0 <= cy <= 1 and 0 <= w <= 1 and 0 <= h <= 1


def test_exported_hotspot_files_cover_the_figures():
    files = sorted(paths.FIGURES_DIR.glob("*.hotspots.json"))
    if not files:
        pytest.skip("figures/ not regenerated on this branch (run `make figures`)")
    for f in files:
        p = json.loads(f.read_text(encoding="utf-8"))
        drawn = sum(1 for r in p["rows"] if r["boxes"])
        assert drawn >= 0.8 * len(p["rows"]), f"{f.name}: only {drawn} of {len(p['rows'])} rows have a mark"


# ----------------------------------------------------------------------------- explorer
def test_explorer_table_holds_every_figure_row_once():
    ev = explorer.evidence_table()
    want = sum(len(data.load(t)) for t in explorer.figure_tables())
    assert len(ev) == want and ev["id"].is_unique
    sample = data.load("population_estimates").iloc[0]
    row = ev.set_index("id").loc[sample["id"]]
    assert row["printed"] == sample["as_printed"] and row["source_keys"] == sample["source_key"].split(";")


def test_explorer_html_is_deterministic_offline_and_carries_every_id():
    ev = explorer.evidence_table()
    frame = explorer.explorer_frame(ev, lambda k: f"references.html#ref-{k}", lambda c: f"{c}.html",
                                    lambda f: f"figures.html#fig-{f}", lambda i: None)
    h1, h2 = explorer.explorer_html(frame), explorer.explorer_html(frame)
    assert h1 == h2
    assert "https://cdn" not in h1 and "<script src=" not in h1  # the DataTables bundle is embedded
    missing = [i for i in ev["id"] if i not in h1]
    assert not missing, missing[:5]
    assert "downsampled" not in h1


# ----------------------------------------------------------------------------- country profiles
def test_profiles_are_every_host_country_with_five_figures():
    ev = explorer.evidence_table()
    counts = ev[(ev["iso3"] != "") & (ev["iso3"] != "KAZ")].groupby("iso3").size()
    assert set(profiles.countries(ev)) == set(counts[counts >= profiles.MIN_FIGURES].index)
    assert len(profiles.countries(ev)) >= 10


def test_profile_numbers_are_read_from_data(tmp_path):
    ev = explorer.evidence_table()
    iso = "TUR"
    md = profiles.markdown(iso, ev)
    pop = data.load("population_estimates")
    for r in pop[(pop["iso3"] == iso)].itertuples():
        assert f"`{r.id}`" in md
        if isinstance(r.as_printed, str):
            assert r.as_printed.replace("|", "\\|") in md
    assert all(f"`{i}`" in md for i in ev.loc[ev["iso3"] == iso, "id"])  # every figure row of the country
    with pytest.raises(ValueError, match="no figure row"):
        profiles.markdown("ZZZ", ev)
    names = profiles.write_stubs(tmp_path)
    assert sorted(p.stem for p in tmp_path.glob("*.md")) == names
    (tmp_path / "old.md").write_text("x")
    profiles.write_stubs(tmp_path)
    assert not (tmp_path / "old.md").exists()


def test_profile_range_and_series_count_kazakhs_of_the_whole_country():
    """The 'person counts run from … to …' sentence and the series over time use only counts of the
    Kazakhs of the whole country: never a region, the whole population, people born in Kazakhstan
    or a probable misprint; printed ranges count with their ends."""
    import re

    ev = explorer.evidence_table()
    pop = data.load("population_estimates").set_index("id")
    keep = profiles.national_count_ids()
    for iso in profiles.countries(ev):
        md = profiles.markdown(iso, ev)
        rows = pop.loc[sorted(i for i in keep if pop.at[i, "iso3"] == iso)]
        m = re.search(r"The person counts run from ([\d,]+) to ([\d,]+)", md)
        if not len(rows):
            assert m is None, iso
            continue
        lo = rows[["value", "value_low", "value_high"]].min().min()
        hi = rows[["value", "value_low", "value_high"]].max().max()
        assert m and (m.group(1), m.group(2)) == (f"{lo:,.0f}", f"{hi:,.0f}"), (iso, m and m.groups(), lo, hi)
    # the rows that must stay out, whatever the country: a whole population, a region
    assert "mng_2020_theubposts_2021_total" not in keep
    assert not any(isinstance(pop.at[i, "subregion"], str) for i in keep)


def test_committed_country_stubs_are_up_to_date():
    want = {f"{profiles.page_name(i)}.md": profiles.stub(i, n) for i, n in profiles.countries().items()}
    have = {p.name: p.read_text(encoding="utf-8") for p in profiles.PAGES_DIR.glob("*.md")}
    assert have == want, "book/countries/ is stale: run a build (or `python -c 'import kazdiaspora.profiles as p; p.write_stubs()'`)"


# ----------------------------------------------------------------------------- downloads
def test_data_zip_is_complete_and_byte_identical(tmp_path):
    a = downloads.build(tmp_path / "a.zip")
    b = downloads.build(tmp_path / "b.zip")
    assert a.read_bytes() == b.read_bytes()
    names = zipfile.ZipFile(a).namelist()
    assert names == sorted(names)
    p = downloads.PREFIX
    for must in ("data/datapackage.json", "data/README.md", "references.bib", "LICENSE",
                 "data/population/estimates.csv", "data/population/README.md"):
        assert p + must in names, must
    for res in json.loads(paths.DATAPACKAGE.read_text())["resources"]:
        assert p + "data/" + res["path"] in names, res["path"]
    assert all(i.date_time == downloads.FIXED_TIME for i in zipfile.ZipFile(a).infolist())


def test_profile_marks_an_approximate_year():
    """A year the source gives only as 'c. …' is shown as approximate, never as an exact year."""
    assert profiles._year(1990, "c. 1990 (factsheet)") == "c. 1990"
    assert profiles._year(2000, "2000 census") == "2000"
    assert profiles._year(None, "c. 1990") == "c. 1990"  # no single year: the period as printed
    assert profiles._year(None, "1960s") == "1960s"
    assert profiles._year(None, "undated (EN Wikipedia May 2015)") == "undated"
    assert profiles._year(None, None) == "undated"
    pop = data.load("population_estimates")
    approx = pop[pop["period"].fillna("").str.lower().str.startswith("c.") & pop["year"].notna()]
    for r in approx.itertuples():
        if r.iso3 in profiles.countries():
            md = profiles.markdown(r.iso3)
            assert f"c. {int(r.year)}" in md, (r.id, r.iso3)
