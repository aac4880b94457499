"""Unit tests of the route-drawing helper (kazdiaspora.routemap)."""
from __future__ import annotations

import math
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kazdiaspora import routemap as rm  # noqa: E402


# ------------------------------------------------------------------ small pure functions
def test_magnitude_mid_value_range_none():
    assert rm.magnitude_mid(5.0, None, None) == 5.0
    assert rm.magnitude_mid(float("nan"), 60000.0, 70000.0) == 65000.0
    assert rm.magnitude_mid(float("nan"), float("nan"), float("nan")) is None


def test_line_width_rule():
    # no figure in people draws thinner than any figure (issue 12: it drew as wide as 1,000 people)
    assert rm.line_width(None) == rm.LW_NONE
    assert rm.line_width(0) == rm.LW_NONE
    assert rm.LW_NONE < rm.line_width(1) < rm.line_width(1000)
    assert rm.line_width(rm.V_REF) == pytest.approx(rm.LW_BASE + rm.LW_SPAN)
    assert rm.line_width(10 * rm.V_REF) == pytest.approx(rm.LW_BASE + rm.LW_SPAN)  # capped
    assert rm.line_width(rm.V_REF / 4) == pytest.approx(rm.LW_BASE + rm.LW_SPAN / 2)  # square root
    ws = [rm.line_width(v) for v in rm.WIDTH_LEGEND_VALUES]
    assert ws == sorted(ws) and len(set(ws)) == len(ws)


def test_magnitude_text():
    assert rm.magnitude_text({"value": 1800.0, "unit": "persons", "as_printed": "about 1800"}) == "1,800 people"
    assert rm.magnitude_text({"value": float("nan"), "value_low": 60000.0, "value_high": 70000.0,
                              "unit": "persons"}) == "60,000–70,000 people"
    assert rm.magnitude_text({"value": 100000.0, "unit": "persons", "measure": "refugees (lower bound)"}) \
        == "≥100,000 people"
    assert rm.magnitude_text({"value": 4000.0, "unit": "families", "as_printed": "4000 families"}) \
        == "4,000 families"


def test_wave_numbers_and_colours_follow_time_order():
    waves = pd.DataFrame({"wave_id": ["b", "a", "c"], "year_start": [1916, 1723, 1916],
                          "year_end": [1917, 1723, 1916]})
    assert rm.wave_numbers(waves) == {"a": 1, "c": 2, "b": 3}
    cols = rm.wave_colours(waves)
    assert cols["a"] == rm.WAVE_PALETTE[0] and len(set(cols.values())) == 3


def test_bends_spread_shared_endpoints_to_both_sides():
    b = rm.bends(["r1", "r2", "r3", "r4"], ["x", "x", "y", "p"], ["y", "y", "x", "q"])
    # r1, r2, r3 share the end points x-y: r1 and r2 on opposite sides, r3 (reversed) further out
    assert b["r1"] == pytest.approx(-b["r2"])
    assert abs(b["r3"]) > abs(b["r1"])
    assert b["r4"] == pytest.approx(0.08)
    assert rm.bends(["r1", "r2"], ["x", "x"], ["y", "y"]) == rm.bends(["r2", "r1"], ["x", "x"], ["y", "y"])


def test_curve_passes_through_ends_and_bends_left():
    pts = np.array([[0.0, 0.0], [10.0, 0.0]])
    c = rm.curve(pts, 0.2)
    assert np.allclose(c[0], pts[0]) and np.allclose(c[-1], pts[-1])
    assert c[:, 1].max() == pytest.approx(2.0, rel=0.05)  # 0.2 x chord, to the left of travel (+y)
    assert np.allclose(rm.curve(pts, 0.0)[:, 1], 0.0)


def test_catmull_rom_passes_through_stops():
    pts = np.array([[0.0, 0.0], [5.0, 5.0], [10.0, 0.0]])
    c = rm.catmull_rom(pts, n=20)
    for p in pts:
        assert np.min(np.hypot(*(c - p).T)) < 1e-9


def test_trim_shortens_both_ends():
    path = np.column_stack([np.linspace(0, 10, 11), np.zeros(11)])
    t = rm.trim(path, 1.0, 2.0)
    assert t[0, 0] == pytest.approx(1.0) and t[-1, 0] == pytest.approx(8.0)


def test_overlap_and_inside():
    assert rm.overlap((0, 0, 2, 2), (1, 1, 3, 3)) == 1.0
    assert rm.overlap((0, 0, 1, 1), (1, 0, 2, 1)) == 0.0  # touching is fine
    assert rm.inside((1, 1, 2, 2), (0, 0, 3, 3)) and not rm.inside((1, 1, 4, 2), (0, 0, 3, 3))


def test_choose_box_takes_first_free_candidate():
    cands = [(0, 0, 10, 5), (20, 0, 30, 5), (40, 0, 50, 5)]
    bounds = (0, 0, 100, 100)
    assert rm.choose_box(cands, [], bounds) == 0
    assert rm.choose_box(cands, [(5, 1, 8, 3)], bounds) == 1
    # a candidate crossing a route line loses against a clean one
    assert rm.choose_box(cands, [(5, 1, 8, 3)], bounds, np.array([[25.0, 2.0]])) == 2
    # outside the frame counts as a hard overlap
    assert rm.choose_box([(-5, 0, 5, 5), (10, 10, 20, 15)], [], bounds) == 1
    # nothing free: the least overlapping one
    assert rm.choose_box([(0, 0, 10, 10), (0, 0, 10, 10)], [(0, 0, 10, 10), (0, 0, 2, 2)], bounds) == 0


def test_candidate_boxes_surround_the_point():
    cands = rm.candidate_boxes(50, 50, 10, 4, 3, rings=(0, 1.0))
    assert cands[0][0] == (45, 48, 55, 52)  # ring 0: centred
    east = cands[1][0]
    assert east[0] == 53 and east[1] == 48  # right of the point, vertically centred
    west = cands[2][0]
    assert west[2] == 47


def test_label_placer_places_without_overlap():
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    fig.canvas.draw()
    placer = rm.LabelPlacer(ax)
    texts = []
    for i in range(6):  # six labels at almost the same point
        x, y = ax.transData.transform((5, 5 + 0.05 * i))
        placer.block_point(x, y, 2)
        texts.append(rm.place_label(placer, x, y, f"Place {i}"))
    # a label that finds no free place beside its own point is left out and recorded, never overlaps
    placed = [t for t in texts if t is not None]
    assert placed and len(placed) + len(placer.skipped) == 6
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in placed]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert rm.overlap((a.x0, a.y0, a.x1, a.y1), (b.x0 + 0.5, b.y0 + 0.5, b.x1 - 0.5, b.y1 - 0.5)) == 0
    plt.close(fig)


def test_fit_extent_covers_points():
    from kazdiaspora import basemap

    lons, lats = [29.0, 97.0, 2.3], [41.0, 37.4, 48.9]
    e = rm.fit_extent(rm.WIDE_LCC, lons, lats, 0.05)
    fig, ax = plt.subplots()
    bm = basemap.draw_basemap(ax, extent=e, crs=rm.WIDE_LCC, rivers=False, lakes=False, graticule_step=None,
                              scale_bar=False)
    x, y = bm.project(np.array(lons), np.array(lats))
    assert (x > bm.xlim[0]).all() and (x < bm.xlim[1]).all()
    assert (y > bm.ylim[0]).all() and (y < bm.ylim[1]).all()
    plt.close(fig)


# ------------------------------------------------------------------ from the data
@pytest.fixture(scope="module")
def tables():
    return rm.load_tables()


@pytest.fixture(scope="module")
def table(tables):
    t = tables
    return rm.route_table(t["routes"], t["route_stops"], t["gazetteer"], t["wave_figures"], t["waves"])


def test_every_route_is_on_a_known_map(table):
    for maps in table["maps"]:
        assert set(maps.split()) <= set(rm.MAP_SPECS), maps


def test_every_map_spec_has_routes(table):
    for mid in rm.MAP_SPECS:
        assert len(rm.routes_for_map(table, mid)) > 0, mid


def test_route_widths_follow_the_figures(tables, table):
    figs = tables["wave_figures"].set_index("id")
    for r in table.itertuples(index=False):
        if isinstance(r.magnitude_id, str) and figs.loc[r.magnitude_id, "unit"] == "persons":
            f = figs.loc[r.magnitude_id]
            v = f["value"] if not math.isnan(f["value"]) else (f["value_low"] + f["value_high"]) / 2
            assert r.line_width_pt == pytest.approx(rm.line_width(v), abs=1e-3)
        else:
            assert r.line_width_pt == rm.LW_NONE


def test_new_route_is_a_new_row(tables):
    """A route added to the tables shows up on its map without new plotting code."""
    t = {k: v.copy() for k, v in tables.items()}
    new = t["routes"].iloc[[0]].copy()
    new["route_id"] = "zz_test_route"
    new["maps"] = "other"
    new["magnitude_id"] = None
    t["routes"] = pd.concat([t["routes"], new], ignore_index=True)
    t["route_stops"] = pd.concat([t["route_stops"], pd.DataFrame(
        {"route_id": ["zz_test_route"] * 2, "seq": [1, 2], "place_id": ["tashkent", "orenburg"]})],
        ignore_index=True)
    fig, d = rm.draw_map("other", t)
    plt.close(fig)
    assert "zz_test_route" in set(d["route_id"])


@pytest.mark.parametrize("map_id", sorted(rm.MAP_SPECS))
def test_map_draws_fast_and_labels_do_not_overlap(tables, map_id):
    t0 = time.perf_counter()
    fig, d = rm.draw_map(map_id, tables)
    elapsed = time.perf_counter() - t0
    fig.canvas.draw()
    assert elapsed < 10, f"{map_id}: {elapsed:.1f} s"
    r = fig.canvas.get_renderer()
    # place-name and figure labels (size FONT, drawn by the placer) must not overlap each other
    for ax in fig.axes:
        boxes = []
        for t in ax.texts:
            if t.get_fontsize() == rm.FONT and t.get_text() and t.get_zorder() >= 8:
                bb = t.get_window_extent(r)
                boxes.append((bb.x0 + 0.5, bb.y0 + 0.5, bb.x1 - 0.5, bb.y1 - 0.5))
        bad = [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if rm.overlap(boxes[i], boxes[j]) > 0]
        assert not bad, f"{map_id}: overlapping labels {bad}"
    assert set(d["row_type"]) <= {"route", "figure"}
    plt.close(fig)
