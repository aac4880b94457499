"""Unit tests of the one label-placement module (kazdiaspora.labels)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from shapely.geometry import Polygon, box  # noqa: E402

from kazdiaspora import labels as L  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    fig.canvas.draw()
    yield ax
    plt.close(fig)


def _extents(placer):
    return [lab["extent"] for lab in placer.extents()]


def _disjoint(boxes, tol=0.3):
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert L.overlap((a[0] + tol, a[1] + tol, a[2] - tol, a[3] - tol), b) == 0, (i, j)


def test_the_charts_use_this_module():
    from kazdiaspora import routemap
    from kazdiaspora.charts import identity, population

    assert identity.spread_labels is L.spread_labels and identity.boxes_overlap is L.boxes_overlap
    assert population.place_labels is L.place_labels
    assert routemap.LabelPlacer is L.LabelPlacer


def test_name_sits_nearer_its_own_marker_than_any_other(ax):
    placer = L.LabelPlacer(ax)
    pts = {"a": ax.transData.transform((50, 50)), "b": ax.transData.transform((53, 50))}
    for k, (x, y) in pts.items():
        placer.block_point(x, y, 2, "marker", k)
    for k, (x, y) in pts.items():
        placer.place(x, y, f"Town {k}", 3, names=k)
    for lab in placer.labels:
        own = L.box_point_distance(lab["box"], *pts[lab["names"]])
        other = [L.box_point_distance(lab["box"], *p) for n, p in pts.items() if n != lab["names"]]
        assert own <= min(other)
    _disjoint(_extents(placer) + [o["box"] for o in placer.obstacles])


def test_crowded_name_is_left_out_not_overlapped(ax):
    placer = L.LabelPlacer(ax)
    bb = ax.get_window_extent(placer.renderer)
    placer.block((bb.x0, bb.y0, bb.x1, bb.y1))  # nothing is free
    x, y = ax.transData.transform((50, 50))
    assert placer.place(x, y, "Nowhere", 3, names="n") is None
    assert placer.skipped == [{"text": "Nowhere", "kind": "town", "names": "n"}]


def test_figure_label_stays_beside_its_line(ax):
    placer = L.LabelPlacer(ax)
    line = ax.transData.transform(np.column_stack([np.linspace(10, 90, 50), np.linspace(20, 80, 50)]))
    other = ax.transData.transform(np.column_stack([np.linspace(10, 90, 50), np.full(50, 30.0)]))
    placer.soft = np.vstack([line, other])
    placer.place_along(line, "12,345 people", names="r1", own_soft=line)
    (lab,) = placer.labels
    mm = L.box_polyline_distance(lab["box"], line) / ax.figure.dpi * 25.4
    assert mm <= 3.0


def test_long_name_with_no_room_on_one_line_is_broken_not_dropped(ax):
    placer = L.LabelPlacer(ax)
    x, y = ax.transData.transform((50, 50))
    bb = ax.get_window_extent(placer.renderer)
    w1, _ = placer.text_size("Bandar Torkaman")
    w2, _ = placer.text_size("Torkaman")
    # a corridor around the marker wide enough for the longer word, too narrow for the whole name
    half = (w2 + w1) / 4
    placer.block((bb.x0, bb.y0, x - half, bb.y1))
    placer.block((x + half, bb.y0, bb.x1, bb.y1))
    art = placer.place(x, y, "Bandar Torkaman", 3, names="bt")
    assert art is not None and art.get_text() == "Bandar\nTorkaman"
    assert placer.labels[-1]["text"] == "Bandar Torkaman"  # what the label names, on one line
    _disjoint(_extents(placer) + [o["box"] for o in placer.obstacles])


def _mm(ax, d):
    return d / ax.figure.dpi * 25.4


def test_badge_on_its_line_or_beside_it_and_never_nearer_another(ax):
    placer = L.LabelPlacer(ax)
    line = ax.transData.transform(np.column_stack([np.linspace(10, 90, 50), np.full(50, 50.0)]))
    rad = 5.2 * placer.px_per_pt
    c, b = placer.badge_spot(line, rad)
    assert L.box_polyline_distance(b, line) == 0  # free room: on the line itself
    # the middle of the line taken by labels: the badge moves along the line
    placer.block(tuple(ax.transData.transform((35, 40))) + tuple(ax.transData.transform((65, 60))))
    c, b = placer.badge_spot(line, rad)
    assert all(L.overlap(b, q) == 0 for q in placer.placed)
    assert L.box_polyline_distance(b, line) == 0
    # the whole line covered by a strip of labels, another line above it: the badge goes beside
    # its own line, on the side away from the other line, and within the largest gap
    placer = L.LabelPlacer(ax)
    placer.block(tuple(ax.transData.transform((0, 48))) + tuple(ax.transData.transform((100, 52))))
    other = ax.transData.transform(np.column_stack([np.linspace(10, 90, 50), np.full(50, 56.0)]))
    c, b = placer.badge_spot(line, rad, others=other)
    assert all(L.overlap(b, q) == 0 for q in placer.placed)
    assert _mm(ax, L.box_polyline_distance(b, line)) <= L.LabelPlacer.BADGE_GAPS_MM[-1] + 0.01
    assert L.box_polyline_distance(b, other) >= L.box_polyline_distance(b, line)
    assert c[1] < line[0][1]  # below: the side away from the other line (above is tried first)


def test_badge_of_a_short_line_may_sit_beyond_its_end(ax):
    placer = L.LabelPlacer(ax)
    p0, p1 = ax.transData.transform((50, 50)), ax.transData.transform((52, 50))
    line = np.array([p0, p1])
    rad = 5.2 * placer.px_per_pt
    bb = ax.get_window_extent(placer.renderer)
    # both sides of the short line are taken; only the room beyond its ends is free
    placer.block((bb.x0, p0[1] + 2, bb.x1, bb.y1))
    placer.block((bb.x0, bb.y0, bb.x1, p0[1] - 2))
    other = ax.transData.transform(np.column_stack([np.full(20, 51.0), np.linspace(0, 100, 20)]))
    c, b = placer.badge_spot(line, rad, others=other)
    assert _mm(ax, L.box_polyline_distance(b, line)) <= L.LabelPlacer.BADGE_GAPS_MM[-1] + 0.01
    assert L.box_polyline_distance(b, other) + placer.px_per_pt >= L.box_polyline_distance(b, line)


def test_country_label_inside_polygon_from_its_pole(ax):
    placer = L.LabelPlacer(ax)
    # an L-shaped country: the centroid lies outside, the label must not
    poly_d = Polygon([(10, 10), (90, 10), (90, 30), (30, 30), (30, 90), (10, 90)])
    poly = Polygon(ax.transData.transform(np.array(poly_d.exterior.coords)))
    assert not poly.contains(poly.centroid)
    placer.place_in_polygon(poly, "COUNTRY", names="XXX")
    (lab,) = placer.labels
    assert poly.contains(box(*lab["box"]))
    assert poly.contains(box(*placer.extents()[0]["extent"]))  # the renderer's box too


def test_country_too_small_is_left_out(ax):
    placer = L.LabelPlacer(ax)
    x, y = ax.transData.transform((50, 50))
    tiny = box(x - 2, y - 2, x + 2, y + 2)
    assert placer.place_in_polygon(tiny, "LONG COUNTRY NAME", names="XXX") is None


def test_place_labels_and_spread_labels_give_disjoint_boxes():
    spots = L.place_labels([(50, 50), (52, 50), (54, 50)], [3, 3, 3], [(40, 10)] * 3)
    boxes = []
    for (x, y, ha, va) in spots:
        x0 = {"left": x, "right": x - 40, "center": x - 20}[ha]
        y0 = {"bottom": y, "top": y - 10, "center": y - 5}[va]
        boxes.append((x0, y0, x0 + 40, y0 + 10))
    _disjoint(boxes, tol=0)
    pos = L.spread_labels([(0, 0), (0.1, 0), (0.2, 0.1)], [(1, 1)] * 3)
    bx = [(p[0] - .5, p[1] - .5, p[0] + .5, p[1] + .5) for p in pos]
    assert not any(L.boxes_overlap(bx[i], bx[j]) for i in range(3) for j in range(i + 1, 3))


def _spot_box(spot, wh):
    x, y, ha, va = spot[:4]
    w, h = wh
    x0 = {"left": x, "right": x - w, "center": x - w / 2}[ha]
    y0 = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
    return (x0, y0, x0 + w, y0 + h)


def test_place_labels_with_leaders_keeps_place_labels_where_there_is_room():
    pts, sizes, whs = [(50, 50), (200, 50), (50, 200)], [3, 5, 2], [(40, 10), (30, 12), (20, 8)]
    spots, failed = L.place_labels_with_leaders(pts, sizes, whs)
    assert failed == [] and not any(s[4] for s in spots)
    assert [s[:4] for s in spots] == L.place_labels(pts, sizes, whs)


def test_crowded_labels_move_away_on_leader_lines_and_never_sit_nearer_another_point():
    """A tight cluster: every label is placed, no two labels overlap and none covers a point; a
    label without a leader line is nearer its own point than any other; leader lines cross no
    other label, no other point and no other leader line."""
    pts = [(100, 100), (110, 100), (100, 110), (110, 110), (105, 105), (95, 104)]
    sizes = [3, 2, 2, 3, 1.5, 2]
    whs = [(34, 14)] * len(pts)
    spots, failed = L.place_labels_with_leaders(pts, sizes, whs, bounds=(0, 0, 220, 220))
    assert failed == []
    boxes = [_spot_box(s, wh) for s, wh in zip(spots, whs)]
    _disjoint(boxes, tol=0)
    assert any(s[4] for s in spots)  # the cluster is too tight for every label to stay beside its point
    leaders = []
    for i, (s, b) in enumerate(zip(spots, boxes)):
        others = [j for j in range(len(pts)) if j != i]
        assert all(L.box_point_distance(b, *pts[j]) >= sizes[j] for j in others)
        own = L.box_point_distance(b, *pts[i]) - sizes[i]
        if not s[4]:
            assert all(own < L.box_point_distance(b, *pts[j]) - sizes[j] for j in others)
            continue
        seg = np.array([pts[i], s[:2]], dtype=float)
        leaders.append((i, seg))
        assert all(L.box_polyline_distance(boxes[j], seg) > 0 for j in others)
        for j in others:  # the segment keeps clear of the other discs
            a, c, p = seg[0], seg[1], np.asarray(pts[j], dtype=float)
            t = np.clip(np.dot(p - a, c - a) / max(np.dot(c - a, c - a), 1e-9), 0, 1)
            assert np.hypot(*(a + t * (c - a) - p)) > sizes[j]
    for k, (i, a) in enumerate(leaders):
        for j, b in leaders[k + 1:]:
            assert not L._segments_cross(a[0], a[1], b[0], b[1]), (i, j)


def test_place_labels_with_leaders_reports_a_label_that_finds_no_room():
    spots, failed = L.place_labels_with_leaders([(10, 10), (12, 10)], [2, 2], [(30, 10), (30, 10)],
                                                bounds=(0, 0, 40, 22))
    assert failed  # two labels of 30 x 10 beside two points in a 40 x 22 frame: one cannot be placed
