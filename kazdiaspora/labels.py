"""Label placement for every map and chart of the book: one module, one set of rules.

Texts are placed in display units (pixels of the rendered figure; the layout must be frozen first)
as boxes measured with the figure's renderer. Three tools:

* :class:`LabelPlacer` — greedy, deterministic placement on a map: every town, region, country,
  figure and number badge is a box that may overlap no other box already placed (texts, markers,
  badges, arrowheads). Each label stays beside what it names:

  - :meth:`LabelPlacer.place` — a name beside a point (a town marker); a candidate box is refused
    if it lies nearer to another marker than to its own, so a name never sits next to the wrong dot;
  - :meth:`LabelPlacer.place_along` — a text beside a line (a figure beside its own route),
    within ``max_mm`` of it;
  - :meth:`LabelPlacer.place_in_polygon` — a country name inside that country's polygon, starting
    from the pole of inaccessibility (:func:`shapely.ops.polylabel`) of the country's part visible
    in the frame, computed, never typed.

  Every placed label is recorded in :attr:`LabelPlacer.labels` (text, kind, what it names, box)
  for the map's GeoJSON export and for the tests.
* :func:`place_labels` — greedy placement of point labels (the diaspora map of chapter 1);
  :func:`place_labels_with_leaders` — the same for a crowded map (the diaspora map in a journal's
  single column): labels may move away from their point, joined to it by a leader line.
* :func:`spread_labels` — pushes overlapping boxes apart (the scripts map of chapter 4).
* :func:`spread_1d` and :func:`slots_for_leaders` — a column of labels beside a chart, in data
  units: slots kept apart, then given to figures of equal value so that their leaders do not
  cross (the charts of the Kazakhs of Iran and of returnees from Iran).

Rule of precedence: the first label placed wins; later ones move or, where allowed, are left out.
"""
from __future__ import annotations

import math

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

FONT_MIN = 7.5
"""Smallest text size (pt) on a map (legible when a phone shows the figure full size)."""

OFFSETS = (  # direction (unit-ish vector), ha, va — tried in this order
    ((1, 0), "left", "center"), ((-1, 0), "right", "center"),
    ((0.75, 0.75), "left", "bottom"), ((-0.75, 0.75), "right", "bottom"),
    ((0.75, -0.75), "left", "top"), ((-0.75, -0.75), "right", "top"),
    ((0, 1), "center", "bottom"), ((0, -1), "center", "top"),
)
"""Candidate label positions around a point, in order of preference."""


# ------------------------------------------------------------------------------ box geometry
def overlap(a: Box, b: Box) -> float:
    """Area of the intersection of two boxes (0 if they only touch or are apart)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if (w > 0 and h > 0) else 0.0


def boxes_overlap(a: Box, b: Box) -> bool:
    """Do two boxes (x0, y0, x1, y1) overlap (touching does not count)?"""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(a: Box, bounds: Box) -> bool:
    return a[0] >= bounds[0] and a[1] >= bounds[1] and a[2] <= bounds[2] and a[3] <= bounds[3]


def box_point_distance(b: Box, x: float, y: float) -> float:
    """Distance from a point to a box (0 inside)."""
    dx = max(b[0] - x, 0.0, x - b[2])
    dy = max(b[1] - y, 0.0, y - b[3])
    return math.hypot(dx, dy)


def box_polyline_distance(b: Box, line: np.ndarray) -> float:
    """Smallest distance between a box and a polyline (``k x 2``), same units."""
    from shapely.geometry import LineString, box as sbox

    if len(line) < 2:
        return box_point_distance(b, *line[0])
    return float(sbox(*b).distance(LineString(line)))


def _box_points_distance(b: Box, pts: np.ndarray) -> float:
    """Smallest distance from a box to any of ``pts`` (inf if there are none)."""
    if pts is None or not len(pts):
        return math.inf
    dx = np.maximum(np.maximum(b[0] - pts[:, 0], 0.0), pts[:, 0] - b[2])
    dy = np.maximum(np.maximum(b[1] - pts[:, 1], 0.0), pts[:, 1] - b[3])
    return float(np.min(np.hypot(dx, dy)))


def _densify(line: np.ndarray, step: float) -> np.ndarray:
    """The polyline resampled every ``step`` units (its vertices kept)."""
    out = [line[:1]]
    for a, b in zip(line[:-1], line[1:]):
        n = max(int(np.hypot(*(b - a)) / max(step, 1e-9)), 1)
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + (b - a) * t)
    return np.vstack(out)


def candidate_boxes(x: float, y: float, w: float, h: float, r: float, rings=(1.0, 2.2)) -> list[tuple]:
    """Boxes (and their anchor/alignment) for a ``w`` x ``h`` text around (x, y) at distance ``r``."""
    out = []
    for ring in rings:
        if ring == 0:
            out.append(((x - w / 2, y - h / 2, x + w / 2, y + h / 2), (x, y), "center", "center"))
            continue
        for (dx, dy), ha, va in OFFSETS:
            ax_, ay_ = x + dx * r * ring, y + dy * r * ring
            x0 = ax_ if ha == "left" else ax_ - w if ha == "right" else ax_ - w / 2
            y0 = ay_ if va == "bottom" else ay_ - h if va == "top" else ay_ - h / 2
            out.append(((x0, y0, x0 + w, y0 + h), (ax_, ay_), ha, va))
    return out


def _soft_count(c: Box, pts: np.ndarray) -> int:
    if not len(pts):
        return 0
    return int(np.count_nonzero((pts[:, 0] > c[0]) & (pts[:, 0] < c[2]) & (pts[:, 1] > c[1]) & (pts[:, 1] < c[3])))


def choose_box(candidates: list[Box], placed: list[Box], bounds: Box,
               soft_points: np.ndarray | None = None) -> int:
    """Index of the candidate to use.

    The first candidate that lies inside ``bounds``, overlaps no box in ``placed`` and covers
    none of ``soft_points`` (route lines) wins; otherwise the candidate with no hard overlap and
    the fewest soft points; otherwise the one with the least overlap. Deterministic (ties: order).
    """
    best, best_key = 0, None
    pts = np.empty((0, 2)) if soft_points is None or len(soft_points) == 0 else np.asarray(soft_points)
    for i, c in enumerate(candidates):
        hard = sum(overlap(c, p) for p in placed)
        if not inside(c, bounds):
            hard += 1e9
        key = (hard > 0, _soft_count(c, pts), hard, i)
        if best_key is None or key < best_key:
            best, best_key = i, key
        if key[:2] == (False, 0):
            return i
    return best


# ----------------------------------------------------------------------------- the map placer
class LabelPlacer:
    """Places texts on an axes without overlap, in display coordinates (layout must be frozen).

    ``soft_points``: points of route lines (display units); a label avoids covering them when it
    can. ``markers``: {name: (x, y)} of the point features on the map, used to keep each name
    nearer its own marker than any other.
    """

    PAD_PT = 1.2
    """Gap (pt) kept around every placed text."""

    def __init__(self, ax, soft_points: np.ndarray | None = None):
        self.ax = ax
        self.fig = ax.figure
        self.renderer = self.fig.canvas.get_renderer()
        bb = ax.get_window_extent(self.renderer)
        pad = 2.0
        self.bounds = (bb.x0 + pad, bb.y0 + pad, bb.x1 - pad, bb.y1 - pad)
        self.placed: list[Box] = []
        self.soft = soft_points if soft_points is not None else np.empty((0, 2))
        self.px_per_pt = self.fig.dpi / 72.0
        self.markers: dict[str, tuple[float, float]] = {}
        self.labels: list[dict] = []
        """Every text placed: {text, kind, names, box (display), artist}."""
        self.obstacles: list[dict] = []
        """Every non-text box blocked: {kind, names, box}."""
        self.skipped: list[dict] = []
        """Labels that found no free spot and were left out: {text, kind, names}."""

    # obstacles ---------------------------------------------------------------------------
    def block(self, box: Box, kind: str = "obstacle", names: str = "") -> None:
        self.placed.append(tuple(float(v) for v in box))
        self.obstacles.append({"kind": kind, "names": names, "box": tuple(float(v) for v in box)})

    def block_point(self, x: float, y: float, radius_pt: float, kind: str = "marker", names: str = "") -> None:
        r = radius_pt * self.px_per_pt
        self.block((x - r, y - r, x + r, y + r), kind, names)
        if kind == "marker":
            self.markers[names] = (x, y)

    # measuring ---------------------------------------------------------------------------
    def text_size(self, text: str, **kw) -> tuple[float, float]:
        t = self.ax.text(0, 0, text, fontsize=kw.get("fontsize", FONT_MIN), fontstyle=kw.get("fontstyle", "normal"),
                         fontweight=kw.get("fontweight", "normal"), transform=None)
        bb = t.get_window_extent(self.renderer)
        t.remove()
        return bb.width, bb.height

    def _draw(self, box: Box, text: str, kind: str, names: str, **kw):
        import matplotlib.patheffects as pe

        pad = self.PAD_PT * self.px_per_pt
        self.placed.append((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        xd, yd = self.ax.transData.inverted().transform((cx, cy))
        art = self.ax.text(xd, yd, text, ha="center", va="center", fontsize=kw.get("fontsize", FONT_MIN),
                           fontstyle=kw.get("fontstyle", "normal"), fontweight=kw.get("fontweight", "normal"),
                           color=kw.get("color", "#222222"), zorder=kw.get("zorder", 8),
                           path_effects=[pe.withStroke(linewidth=2.2, foreground="white")])
        self.labels.append({"text": text, "kind": kind, "names": names, "box": tuple(box), "artist": art})
        return art

    def _free(self, c: Box) -> bool:
        return inside(c, self.bounds) and not any(overlap(c, q) > 0 for q in self.placed)

    # placing -----------------------------------------------------------------------------
    def place(self, x: float, y: float, text: str, r_pt: float, rings=(1.0, 2.2, 3.4), kind: str = "town",
              names: str = "", skip_crowded: bool = True, **kw):
        """Place ``text`` beside the point (x, y) it names; returns the Text artist or None.

        A candidate must be free (inside the axes, overlapping nothing placed) and nearer to its
        own point than to any other marker. The first such candidate covering no route line wins,
        else the free one covering the fewest. If none is free the label is left out (recorded in
        :attr:`skipped`) unless ``skip_crowded`` is false, when the least bad one is used.
        """
        drawn_text = text
        best, cands = self._beside(x, y, text, r_pt, rings, names, **kw)
        if best is None and " " in text:
            # no room on one line: the name broken onto two lines at the space nearest its middle
            # (the label keeps its one-line text; only the drawing is broken)
            spaces = [i for i, c in enumerate(text) if c == " "]
            cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
            two = text[:cut] + "\n" + text[cut + 1:]
            best, _ = self._beside(x, y, two, r_pt, rings, names, **kw)
            if best is not None:
                drawn_text = two
        if best is None:
            if skip_crowded:
                self.skipped.append({"text": text, "kind": kind, "names": names})
                return None
            i = choose_box([c[0] for c in cands], self.placed, self.bounds, self.soft)
            best = cands[i][0]
        art = self._draw(best, drawn_text, kind, names, **kw)
        self.labels[-1]["text"] = text
        return art

    def _beside(self, x, y, text, r_pt, rings, names, **kw):
        """The best free box for :meth:`place` (None if none) and all the candidates tried."""
        w, h = self.text_size(text, **kw)
        cands = candidate_boxes(x, y, w, h, r_pt * self.px_per_pt, rings)
        best, best_key = None, None
        for i, (box, *_rest) in enumerate(cands):
            if not self._free(box):
                continue
            own = box_point_distance(box, x, y)
            if any(box_point_distance(box, mx, my) < own for n, (mx, my) in self.markers.items() if n != names):
                continue
            key = (_soft_count(box, np.asarray(self.soft)), i)
            if best_key is None or key < best_key:
                best, best_key = box, key
            if key[0] == 0:
                break
        return best, cands

    def place_along(self, line: np.ndarray, text: str, kind: str = "figure", names: str = "",
                    fracs=(0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85), gap_pt: float = 2.0,
                    max_mm: float = 3.0, own_soft: np.ndarray | None = None, side: int = 1,
                    others: np.ndarray | None = None, core: np.ndarray | None = None, wrap: bool = True,
                    grid_pt: float | None = None, **kw):
        """Place ``text`` beside the polyline ``line`` (display units), within ``max_mm`` of it.

        Candidates: at each fraction of the line's length, the box centred on either side of the
        line (normal offset), then diagonally beside the point, then (where the line runs in a
        crowded corridor) centred on the line itself. The first free one covering no other route
        line and no nearer another route than its own wins (else the free one covering the fewest).
        None if none is free.
        ``side``: the side tried first, +1 left of the line's direction, -1 right (a bent route's
        outer side keeps its figure away from a route bent the other way between the same places).
        ``others``: points of the other routes against which "nearer another route than its own" is
        judged (default: every soft point not on the own route); a caller leaves out the routes'
        ends, where lines meet at a shared stop and nearness says nothing.
        ``core``: points of the part of the own line the label must stand beside (default: the
        whole line); a caller passing ``others`` without the routes' ends passes the own line without
        its ends too, so that a figure is never placed where only the end of its route is near.
        ``wrap``: where no place on one line is nearer its own route than any other, the text is
        tried again broken onto two lines at the space nearest its middle (a short route in a
        crowded corridor), unless a line would hold fewer than three characters ('≥100 k'); the
        label keeps its one-line ``text``, only the drawing is broken.
        ``grid_pt`` (a crowded map, the narrow look): where none of these places is clearly nearer
        its own route than any other, every position on a grid of this step (pt) within ``max_mm``
        of the line is tried too (:meth:`_along_grid`), and a place where no other route is nearer
        than its own by more than :data:`NEARER_TOL_PT` counts before one where another is.
        """
        soft = np.asarray(self.soft)
        if own_soft is not None and len(own_soft) and len(soft):
            # points of the label's own route do not count against it
            own = {tuple(np.round(p, 3)) for p in own_soft}
            soft = np.array([p for p in soft if tuple(np.round(p, 3)) not in own]).reshape(-1, 2)
        near = soft if others is None else others
        dense = _densify(line, self.px_per_pt) if core is None or not len(core) else np.asarray(core)
        best, best_key = self._along(line, text, fracs, gap_pt, max_mm, side, soft, near, dense, grid_pt, **kw)
        drawn_text = text
        spaces = [i for i, c in enumerate(text) if c == " "]
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2)) if spaces else None
        if cut is not None and min(cut, len(text) - cut - 1) < 3:
            cut = None  # no line of one or two characters ('≥100' over 'k')
        if wrap and cut is not None and (best is None or best_key[0]):
            two = text[:cut] + "\n" + text[cut + 1:]
            b2, k2 = self._along(line, two, fracs, gap_pt, max_mm, side, soft, near, dense, grid_pt, **kw)
            if b2 is not None and (best is None or k2[:2] < best_key[:2]):
                best, best_key, drawn_text = b2, k2, two
        if best is None:
            self.skipped.append({"text": text, "kind": kind, "names": names})
            return None
        art = self._draw(best, drawn_text, kind, names, **kw)
        self.labels[-1]["text"] = text
        return art

    NEARER_TOL_PT = 0.5
    """With ``grid_pt`` (:meth:`place_along`): how much nearer (pt) another route may be to a label than
    its own in the second tier of places (the first: its own clearly nearer, by 1 display unit)."""

    def _tier(self, near_d: float, own_d: float) -> int:
        """0: own line clearly nearer; 1: no other line nearer by more than :data:`NEARER_TOL_PT`; 2: else."""
        if not near_d < own_d + 1.0:
            return 0
        return 1 if near_d + self.NEARER_TOL_PT * self.px_per_pt >= own_d else 2

    def _along(self, line, text, fracs, gap_pt, max_mm, side, soft, near, dense, grid_pt=None, **kw):
        """The best box for :meth:`place_along` and its key (``(nearer another, soft count, order)``;
        with ``grid_pt`` the first item is a tier, :meth:`_tier`)."""
        w, h = self.text_size(text, **kw)
        gap = gap_pt * self.px_per_pt
        limit = max_mm / 25.4 * self.fig.dpi
        seg = np.hypot(*np.diff(line, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        best, best_key = None, None
        k = 0
        cands = []
        first = 1 if side >= 0 else -1
        for frac in fracs:
            t = frac * s[-1]
            px, py = np.interp(t, s, line[:, 0]), np.interp(t, s, line[:, 1])
            j = int(np.clip(np.searchsorted(s, t), 1, len(line) - 1))
            d = line[j] - line[j - 1]
            d = d / max(np.hypot(*d), 1e-9)
            nx, ny = -d[1], d[0]
            for sd, extra in ((first, 0.0), (-first, 0.0), (first, 2.5), (-first, 2.5)):
                # distance from the line's centre to the box edge along the normal: half the box
                # extent projected on the normal, plus the gap
                half = abs(nx) * w / 2 + abs(ny) * h / 2
                off = half + gap * (1.0 + extra)
                cx, cy = px + sd * nx * off, py + sd * ny * off
                cands.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        ring_cands = []
        for frac in fracs[::2]:  # then all round points of the line (a short line, a crowded place)
            t = frac * s[-1]
            px, py = np.interp(t, s, line[:, 0]), np.interp(t, s, line[:, 1])
            for ring in (gap, 0.5 * limit, 0.85 * limit):
                ring_cands += [c[0] for c in candidate_boxes(px, py, w, h, ring, (1.0,))]
        inline = []  # last: on the line itself, its halo breaking the line (a crowded corridor)
        for frac in fracs:
            t = frac * s[-1]
            px, py = np.interp(t, s, line[:, 0]), np.interp(t, s, line[:, 1])
            inline.append((px - w / 2, py - h / 2, px + w / 2, py + h / 2))
        for phase in (cands, ring_cands, inline):
            for box in phase:
                k += 1
                if not self._free(box):
                    continue
                own_d = _box_points_distance(box, dense)
                if own_d > limit:
                    continue
                # nearer another route than its own: only if nothing better
                near_d = _box_points_distance(box, near)
                first = self._tier(near_d, own_d) if grid_pt else near_d < own_d + 1.0
                key = (first, _soft_count(box, soft), k)
                if best_key is None or key < best_key:
                    best, best_key = box, key
                if key[:2] == (False, 0):
                    break
            if best is not None and not best_key[0]:
                break
        if grid_pt and (best is None or best_key[0]):
            b2, k2 = self._along_grid(line, w, h, limit, soft, near, dense, grid_pt, k)
            if b2 is not None and (best is None or k2 < best_key):
                best, best_key = b2, k2
        return best, best_key

    def _grid_centres(self, line, reach, step_pt, dense):
        """Centres (k x 2) on a grid of ``step_pt`` around ``line`` within ``reach`` (display units) of
        ``dense`` (points of the line), with their distance to it and their place along it (0 to 1,
        from ``line``'s start), in order: nearest the line first, then nearest its middle."""
        import shapely
        from shapely.geometry import LineString

        step = step_pt * self.px_per_pt
        x0, y0 = line.min(axis=0) - reach
        x1, y1 = line.max(axis=0) + reach
        gx, gy = np.meshgrid(np.arange(x0, x1 + 1e-9, step), np.arange(y0, y1 + 1e-9, step))
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        ls = LineString(dense) if len(dense) >= 2 else None
        geoms = shapely.points(pts)
        d = shapely.distance(geoms, ls) if ls is not None else np.hypot(*(pts - dense[0]).T)
        keep = d <= reach
        pts, d = pts[keep], d[keep]
        full = LineString(line)
        along = shapely.line_locate_point(full, shapely.points(pts), normalized=True)
        order = np.lexsort((np.arange(len(pts)), np.abs(along - 0.5), np.round(d / self.px_per_pt * 2)))
        return pts[order], d[order], along[order]

    def _free_mask(self, boxes: np.ndarray) -> np.ndarray:
        """For boxes (k x 4): inside the bounds and overlapping nothing placed."""
        b = self.bounds
        ok = (boxes[:, 0] >= b[0]) & (boxes[:, 1] >= b[1]) & (boxes[:, 2] <= b[2]) & (boxes[:, 3] <= b[3])
        if self.placed:
            q = np.asarray(self.placed, float)
            w = np.minimum(boxes[:, None, 2], q[None, :, 2]) - np.maximum(boxes[:, None, 0], q[None, :, 0])
            h = np.minimum(boxes[:, None, 3], q[None, :, 3]) - np.maximum(boxes[:, None, 1], q[None, :, 1])
            ok &= ~((w > 0) & (h > 0)).any(axis=1)
        return ok

    def _along_grid(self, line, w, h, limit, soft, near, dense, step_pt, k0):
        """:meth:`_along` on a grid: every free ``w`` x ``h`` box within ``limit`` of the own line
        (``dense``), the nearest the line first. Returns the best box and its key, or (None, None)."""
        import shapely

        line = np.asarray(line, float)
        cs, _, _ = self._grid_centres(line, limit + math.hypot(w, h) / 2, step_pt, np.asarray(dense))
        boxes = np.column_stack([cs[:, 0] - w / 2, cs[:, 1] - h / 2, cs[:, 0] + w / 2, cs[:, 1] + h / 2])
        ok = self._free_mask(boxes)
        boxes = boxes[ok]
        if not len(boxes):
            return None, None
        from shapely.geometry import LineString

        own = shapely.distance(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]),
                               LineString(dense)) if len(dense) >= 2 else None
        best, best_key = None, None
        for i, box in enumerate(boxes):
            if own is not None and own[i] > limit + self.px_per_pt:
                continue  # a cheap test first; the exact one below
            box = tuple(float(v) for v in box)
            own_d = _box_points_distance(box, dense)
            if own_d > limit:
                continue
            key = (self._tier(_box_points_distance(box, near), own_d), _soft_count(box, soft), k0 + 1 + i)
            if best_key is None or key < best_key:
                best, best_key = box, key
            if key[:2] == (0, 0):
                break
        return best, best_key

    BADGE_FRACS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85, 0.1, 0.9)
    """Where along its route a number badge is tried, in order."""
    BADGE_GAPS_MM = (0.4, 1.4, 2.5)
    """Gaps (mm) between a badge and its line tried beside the line (after on the line itself)."""

    def badge_spot(self, line: np.ndarray, radius: float, own: np.ndarray | None = None,
                   others: np.ndarray | None = None, fracs: tuple[float, ...] | None = None,
                   gaps_mm: tuple[float, ...] | None = None, grid_pt: float | None = None
                   ) -> tuple[np.ndarray, Box]:
        """Centre and box of a round badge (``radius`` in display units) naming the polyline ``line``.

        Tried along the line at :data:`BADGE_FRACS`: on the line itself (unless the line is too short
        to carry it without being hidden), then beside it on either side at :data:`BADGE_GAPS_MM`,
        so a badge is never more than the largest gap from its line. The first spot that is free and
        has no point of ``others`` (the lines the badge must not seem to name) nearer than ``own``
        (the badge's own line, default ``line``) wins; else the spot overlapping least. A line too short
        to carry the badge is also tried beyond its ends. The badge's box is not added to
        :attr:`placed`: the caller draws it and then blocks it. ``fracs``: other places along the
        line to try, in order, and ``gaps_mm`` other gaps beside it, at most the largest of
        :data:`BADGE_GAPS_MM` (a crowded map tries more). ``grid_pt`` (a crowded map): where none of
        these spots is free with no other line nearer, every spot on a grid of this step (pt) within
        the largest gap of the line is tried as well, the nearest the line first
        (:meth:`_badge_grid`).
        """
        line = np.asarray(line, dtype=float)
        own = _densify(line, self.px_per_pt) if own is None or len(own) < 2 else np.asarray(own)
        others = np.empty((0, 2)) if others is None else np.asarray(others).reshape(-1, 2)
        seg = np.hypot(*np.diff(line, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        short = s[-1] < 6 * radius

        def at(frac):
            t = min(max(frac, 0.0), 1.0) * s[-1]
            return np.array([np.interp(t, s, line[:, 0]), np.interp(t, s, line[:, 1])])

        best, k = None, 0

        def consider(cc):
            nonlocal best, k
            k += 1
            box = (cc[0] - radius, cc[1] - radius, cc[0] + radius, cc[1] + radius)
            hit = sum(overlap(box, q) for q in self.placed) + (0 if inside(box, self.bounds) else 1e9)
            own_d = _box_points_distance(box, own)
            oth = _box_points_distance(box, others) if len(others) else math.inf
            nearer = len(others) > 0 and oth + self.px_per_pt < own_d
            # a crowded map: a spot where another line is nearer at all comes after one where none is
            key = (hit, nearer, oth < own_d, k) if grid_pt else (hit, nearer, k)
            if best is None or key < best[0]:
                best = (key, cc, box)

        def unit(v):
            return v / max(np.hypot(*v), 1e-9)

        good = (0, False, False) if grid_pt else (0, False)
        gaps = self.BADGE_GAPS_MM if gaps_mm is None else gaps_mm
        if max(gaps) > max(self.BADGE_GAPS_MM):
            raise ValueError(f"a badge gap of {max(gaps)} mm: at most {max(self.BADGE_GAPS_MM)} mm")
        dists = [radius + g / 25.4 * self.fig.dpi for g in gaps]
        for frac in (self.BADGE_FRACS if fracs is None else fracs):
            c = at(frac)
            d = unit(at(frac + 0.05) - at(frac - 0.05))
            nrm = np.array([-d[1], d[0]])
            if not short:
                consider(c)
            for dist in dists:
                consider(c + nrm * dist)
                consider(c - nrm * dist)
            if best[0][:len(good)] == good:
                break
        if short and best[0][:len(good)] != good:
            # a short line: also beyond either end, on the line's extension and diagonally
            for end, inward in ((0.0, 0.1), (1.0, 0.9)):
                d = unit(at(end) - at(inward))
                nrm = np.array([-d[1], d[0]])
                for dist in dists:
                    for v in (d, unit(d + nrm), unit(d - nrm)):
                        consider(at(end) + v * dist)
        if grid_pt and best[0][:3] != good:
            found = self._badge_grid(line, radius, own, others, max(gaps) / 25.4 * self.fig.dpi, grid_pt)
            # the grid's spot if the spots along the line left another line nearer (or no room)
            if found is not None and (best[0][0] > 0 or best[0][1] or found[2] < 2):
                return found[0], found[1]
        return best[1], best[2]

    def _badge_grid(self, line, radius, own, others, limit, step_pt):
        """A free spot for a badge on a grid around ``line`` within ``limit`` (display units) of
        ``own``, where no point of ``others`` is nearer than ``own`` by more than a point, nearest the
        line first: ``(centre, box, level)``, level 0 where its own line is clearly nearer (by a
        point) than any other, 1 where no other is nearer, 2 where one is but by less than a point;
        the first spot of the best level. None if there is none."""
        cs, _, _ = self._grid_centres(line, limit + radius * math.sqrt(2), step_pt, own)
        boxes = np.column_stack([cs[:, 0] - radius, cs[:, 1] - radius, cs[:, 0] + radius, cs[:, 1] + radius])
        ok = self._free_mask(boxes)
        found = None
        for c, box in zip(cs[ok], boxes[ok]):
            box = tuple(float(v) for v in box)
            own_d = _box_points_distance(box, own)
            if own_d > limit:
                continue
            oth = _box_points_distance(box, others) if len(others) else math.inf
            if oth + self.px_per_pt < own_d:
                continue
            level = 0 if oth >= own_d + self.px_per_pt else 1 if oth >= own_d else 2
            if found is None or level < found[2]:
                found = (np.asarray(c, float), box, level)
            if level == 0:
                break
        return found

    COUNTRY_MIN_INSIDE = 0.9
    """Share of a country label's box that must lie inside the country (1.0 preferred)."""

    def place_in_polygon(self, poly, text: str, kind: str = "country", names: str = "", step_pt: float = 4.0,
                         inset_pt: float = 1.0, **kw):
        """Place ``text`` inside the shapely polygon ``poly`` (display units).

        Starts at the polygon's pole of inaccessibility (:func:`shapely.ops.polylabel`); then tries
        a grid of points, nearest to the pole first. A box entirely inside the polygon (shrunk by
        ``inset_pt``) and free wins; failing that, a free box whose centre is inside and at least
        :data:`COUNTRY_MIN_INSIDE` of whose area is (a country too narrow for its name). None (label
        left out) otherwise.
        """
        from shapely.geometry import box as sbox
        from shapely.ops import polylabel

        w, h = self.text_size(text, **kw)
        inner = poly.buffer(-inset_pt * self.px_per_pt)
        if inner.is_empty:
            self.skipped.append({"text": text, "kind": kind, "names": names})
            return None
        parts = sorted(getattr(inner, "geoms", [inner]), key=lambda g: -g.area)
        for part in parts:
            if part.area < self.COUNTRY_MIN_INSIDE * w * h:
                continue
            pole = polylabel(part, tolerance=self.px_per_pt)
            x0, y0, x1, y1 = part.bounds
            step = step_pt * self.px_per_pt
            import shapely

            gx, gy = np.meshgrid(np.arange(x0, x1 + 1e-9, step), np.arange(y0, y1 + 1e-9, step))
            gx, gy = gx.ravel(), gy.ravel()
            shapely.prepare(part)
            ok = shapely.contains_xy(part, gx, gy)
            gx, gy = gx[ok], gy[ok]
            order = np.lexsort((gy, gx, np.hypot(gx - pole.x, gy - pole.y)))
            pts = [(pole.x, pole.y)] + [(float(gx[i]), float(gy[i])) for i in order]
            soft = np.asarray(self.soft)
            best, best_key = None, None
            for i, (cx, cy) in enumerate(pts[:1500]):
                b = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                if not self._free(b):
                    continue
                bb = sbox(*b)
                share = 1.0 if part.contains(bb) else part.intersection(bb).area / (w * h)
                if share < self.COUNTRY_MIN_INSIDE:
                    continue
                key = (share < 1.0, _soft_count(b, soft) > 0, i)
                if best_key is None or key < best_key:
                    best, best_key = b, key
                if not any(key[:2]):
                    break
            if best is not None:
                return self._draw(best, text, kind, names, **kw)
        self.skipped.append({"text": text, "kind": kind, "names": names})
        return None

    def extents(self) -> list[dict]:
        """Each placed label with the box the renderer gives its text (display units)."""
        out = []
        for lab in self.labels:
            bb = lab["artist"].get_window_extent(self.renderer)
            out.append({**{k: v for k, v in lab.items() if k != "artist"}, "extent": (bb.x0, bb.y0, bb.x1, bb.y1)})
        return out


# ------------------------------------------------------------------------------- chart helpers
def place_labels(points, sizes, labels_wh, obstacles=(), pad=2.0, bounds=None):
    """Greedy label placement: for each point (in order), the first free candidate position.

    ``points``: [(x, y)] in display units; ``sizes``: symbol radius per point; ``labels_wh``:
    [(w, h)] per label; ``bounds``: optional (x0, y0, x1, y1) the labels must stay inside.
    Candidates: right, left, above, below, then the diagonals, then farther out. A candidate is
    free if its box overlaps no placed label, no symbol disc of another point and no box in
    ``obstacles``. Returns [(x, y, ha, va)] (x, y: anchor of the text).
    """
    placed: list[Box] = list(obstacles)
    out = []

    def box(x, y, w, h, ha, va):
        x0 = {"left": x, "right": x - w, "center": x - w / 2}[ha]
        y0 = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
        return (x0, y0, x0 + w, y0 + h)

    def hits(b, own):
        if bounds is not None and (b[0] < bounds[0] or b[1] < bounds[1] or b[2] > bounds[2] or b[3] > bounds[3]):
            return True
        for q in placed:
            if boxes_overlap(b, q):
                return True
        for j, ((px, py), r) in enumerate(zip(points, sizes)):
            if j == own:
                continue
            if box_point_distance(b, px, py) < r:
                return True
        return False

    for i, ((x, y), r, (w, h)) in enumerate(zip(points, sizes, labels_wh)):
        choice = None
        for f in (1.0, 1.8, 2.8, 4.0):
            d = r + pad * f + (f - 1) * 6
            e = d * 0.75
            cands = [(x + d, y, "left", "center"), (x - d, y, "right", "center"),
                     (x, y + d, "center", "bottom"), (x, y - d, "center", "top"),
                     (x + e, y + e, "left", "bottom"), (x - e, y + e, "right", "bottom"),
                     (x + e, y - e, "left", "top"), (x - e, y - e, "right", "top")]
            for cx, cy, ha, va in cands:
                b = box(cx, cy, w, h, ha, va)
                if not hits(b, i):
                    choice = (cx, cy, ha, va)
                    break
            if choice:
                break
        if choice is None:
            choice = (x + r + pad, y, "left", "center")
        placed.append(box(choice[0], choice[1], w, h, choice[2], choice[3]))
        out.append(choice)
    return out


def _segment_box_distance(p0, p1, b: Box) -> float:
    """Distance between the segment p0-p1 and the box ``b`` (0 if they touch or cross)."""
    return box_polyline_distance(b, np.array([p0, p1], dtype=float))


def _segments_cross(a0, a1, b0, b1) -> bool:
    """Do two segments cross (a shared end point does not count)?"""
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(b0, b1, a0), orient(b0, b1, a1)
    d3, d4 = orient(a0, a1, b0), orient(a0, a1, b1)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def _point_segment_distance(p, a, b) -> float:
    ax_, ay_, bx, by = a[0], a[1], b[0], b[1]
    vx, vy = bx - ax_, by - ay_
    L2 = vx * vx + vy * vy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((p[0] - ax_) * vx + (p[1] - ay_) * vy) / L2))
    return math.hypot(p[0] - ax_ - t * vx, p[1] - ay_ - t * vy)


LEADER_RINGS = (5.5, 7.0, 9.0, 11.5, 14.5, 18.0)
"""Rings (in the units of :func:`place_labels`' ``f``) tried by :func:`place_labels_with_leaders`
after those of :func:`place_labels`, each in :data:`LEADER_DIRECTIONS`."""
LEADER_DIRECTIONS = 16
"""Directions tried on each of :data:`LEADER_RINGS` (every 22.5 degrees, starting to the right)."""


def place_labels_with_leaders(points, sizes, labels_wh, obstacles=(), pad=2.0, bounds=None,
                              leader_px: float = 6.0, gap: float = 1.0, retries: int = 6):
    """:func:`place_labels` for a crowded map: a label may move away from its point, joined to it
    by a leader line, and no label is ever nearer another point than its own without one.

    The candidates are those of :func:`place_labels`, in its order, then farther rings
    (:data:`LEADER_RINGS`) in :data:`LEADER_DIRECTIONS` directions. A candidate whose anchor is
    farther than ``leader_px`` from the edge of its point's disc (radius ``sizes[i]``) gets a leader
    line, a straight segment from the disc's edge to the anchor. A candidate is free if, besides
    the rules of :func:`place_labels` (no placed label, no other disc, no box of ``obstacles``,
    inside ``bounds``), its box keeps ``gap`` away from every leader line placed and, if it has a
    leader, that line crosses no placed label, no obstacle, no other disc and no other leader.
    Without a leader, a box must lie nearer its own disc than any other disc.

    Labels are placed greedily, the first placed winning, in three orders: the order given, the
    most crowded labels first (those with the most other discs within reach) and the reverse of
    the order given; when some label finds no free spot, the placement is done again with those
    labels first (at most ``retries`` times per order); then each label of the best placement
    that needs a leader line is tried first. The placement kept is the one with the fewest labels
    left without a free spot, then the fewest leader lines, then the shortest.
    Returns ``[(x, y, ha, va, leader)]`` (x, y: anchor of the text; leader: True if the label needs
    a leader line) and, as second value, the indices of labels that found no free spot (an empty
    list when every label was placed). Deterministic.
    """
    n = len(points)
    pts = [tuple(map(float, p)) for p in points]

    def box(x, y, w, h, ha, va):
        x0 = {"left": x, "right": x - w, "center": x - w / 2}[ha]
        y0 = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
        return (x0, y0, x0 + w, y0 + h)

    def candidates(i):
        (x, y), r = pts[i], sizes[i]
        out = []
        for f in (1.0, 1.8, 2.8, 4.0):  # those of place_labels, in its order
            d = r + pad * f + (f - 1) * 6
            e = d * 0.75
            out += [(x + d, y, "left", "center"), (x - d, y, "right", "center"),
                    (x, y + d, "center", "bottom"), (x, y - d, "center", "top"),
                    (x + e, y + e, "left", "bottom"), (x - e, y + e, "right", "bottom"),
                    (x + e, y - e, "left", "top"), (x - e, y - e, "right", "top")]
        for f in LEADER_RINGS:
            d = r + pad * f + (f - 1) * 6
            for k in range(LEADER_DIRECTIONS):
                a = 2 * math.pi * k / LEADER_DIRECTIONS
                c, s_ = math.cos(a), math.sin(a)
                ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
                va = "bottom" if s_ > 0.3 else "top" if s_ < -0.3 else "center"
                out.append((x + d * c, y + d * s_, ha, va))
        return out

    def edge(i, ax_, ay_):
        (x, y), r = pts[i], sizes[i]
        dist = math.hypot(ax_ - x, ay_ - y)
        return (x + (ax_ - x) * r / dist, y + (ay_ - y) * r / dist) if dist > 0 else (x, y)

    def attempt(order):
        placed: list[Box] = []
        leaders: list[tuple] = []  # (i, start, end)
        spots: dict[int, tuple] = {}
        failed = []
        for i in order:
            (x, y), r, (w, h) = pts[i], sizes[i], labels_wh[i]
            choice = None
            for cx, cy, ha, va in candidates(i):
                b = box(cx, cy, w, h, ha, va)
                if bounds is not None and not inside(b, bounds):
                    continue
                if any(boxes_overlap(b, q) for q in list(obstacles) + placed):
                    continue
                own = box_point_distance(b, x, y) - r
                others = [box_point_distance(b, *pts[j]) - sizes[j] for j in range(n) if j != i]
                if any(o < 0 for o in others):
                    continue
                if any(_segment_box_distance(s0, s1, b) < gap for _, s0, s1 in leaders):
                    continue
                leader = math.hypot(cx - x, cy - y) > r + leader_px
                if leader:
                    s0, s1 = edge(i, cx, cy), (cx, cy)
                    if any(_segment_box_distance(s0, s1, q) < gap for q in list(obstacles) + placed):
                        continue
                    if any(_point_segment_distance(pts[j], s0, s1) < sizes[j] + gap for j in range(n) if j != i):
                        continue
                    if any(_segments_cross(s0, s1, t0, t1) for _, t0, t1 in leaders):
                        continue
                elif others and own >= min(others):
                    continue
                choice = (cx, cy, ha, va, leader)
                break
            if choice is None:
                failed.append(i)
                choice = (x + r + pad, y, "left", "center", False)
            spots[i] = choice
            placed.append(box(*choice[:2], w, h, *choice[2:4]))
            if choice[4]:
                leaders.append((i, edge(i, choice[0], choice[1]), (choice[0], choice[1])))
        return [spots[i] for i in range(n)], failed

    def cost(out, failed):
        moved = sum(math.hypot(o[0] - pts[i][0], o[1] - pts[i][1]) - sizes[i] for i, o in enumerate(out) if o[4])
        return (len(failed), sum(1 for o in out if o[4]), moved)

    def crowding(i):  # other discs within reach of this label: the most crowded are placed first
        reach = max(labels_wh[i]) + sizes[i]
        return sum(1 for j in range(n) if j != i and math.dist(pts[i], pts[j]) < reach + sizes[j])

    starts = [list(range(n)), sorted(range(n), key=lambda i: (-crowding(i), i)), list(range(n))[::-1]]
    best, best_cost = None, None
    for order in starts:
        for _ in range(retries + 1):
            out, failed = attempt(order)
            c = cost(out, failed)
            if best_cost is None or c < best_cost:
                best, best_cost = (out, failed), c
            if not failed:
                break
            order = failed + [i for i in order if i not in failed]
    for i in [i for i, o in enumerate(best[0]) if o[4]]:  # a label moved away: placed first, does it stay?
        order = [i] + [j for j in range(n) if j != i]
        out, failed = attempt(order)
        c = cost(out, failed)
        if c < best_cost:
            best, best_cost = (out, failed), c
    return best


def spread_labels(anchors, sizes, *, fixed=(), iterations: int = 400, pad: float = 0.0):
    """Move label boxes apart until none overlaps another or a fixed box.

    ``anchors``: (n, 2) label centres wanted; ``sizes``: (n, 2) widths and heights (same units);
    ``fixed``: boxes (x0, y0, x1, y1) labels must avoid. Each step pushes every overlapping
    pair apart along the axis of least overlap.
    Returns the (n, 2) centres. Deterministic: no randomness, pairs visited in index order.
    """
    pos = np.array(anchors, dtype=float).reshape(-1, 2).copy()
    half = np.array(sizes, dtype=float).reshape(-1, 2) / 2 + pad / 2
    fixed = [tuple(map(float, b)) for b in fixed]
    n = len(pos)
    for _ in range(iterations):
        moved = False
        for i in range(n):
            for j in range(i + 1, n):
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                ox = half[i, 0] + half[j, 0] - abs(dx)
                oy = half[i, 1] + half[j, 1] - abs(dy)
                if ox > 0 and oy > 0:
                    moved = True
                    if ox < oy:
                        s = 1.0 if dx > 0 or (dx == 0 and j > i) else -1.0
                        pos[i, 0] -= s * ox / 2 * 1.02
                        pos[j, 0] += s * ox / 2 * 1.02
                    else:
                        s = 1.0 if dy > 0 or (dy == 0 and j > i) else -1.0
                        pos[i, 1] -= s * oy / 2 * 1.02
                        pos[j, 1] += s * oy / 2 * 1.02
            for (x0, y0, x1, y1) in fixed:
                cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
                dx, dy = pos[i, 0] - cx, pos[i, 1] - cy
                ox = half[i, 0] + hx - abs(dx)
                oy = half[i, 1] + hy - abs(dy)
                if ox > 0 and oy > 0:
                    moved = True
                    if ox < oy:
                        pos[i, 0] += (1.0 if dx >= 0 else -1.0) * ox * 1.02
                    else:
                        pos[i, 1] += (1.0 if dy >= 0 else -1.0) * oy * 1.02
        if not moved:
            break
    return pos


__all__ = [
    "Box", "FONT_MIN", "LabelPlacer", "OFFSETS", "box_point_distance", "box_polyline_distance", "boxes_overlap",
    "candidate_boxes", "choose_box", "inside", "overlap", "place_labels", "spread_labels",
]


# ------------------------------------------------------------------ a column of labels on a chart

def spread_1d(values, min_gap: float, lo: float | None = None, hi: float | None = None) -> list[float]:
    """Move values apart (keeping their order) until neighbours are at least ``min_gap`` apart,
    staying as close as possible to where they were; optional bounds ``lo``/``hi``.
    Returns positions in input order. Deterministic."""
    vals = list(map(float, values))
    order = sorted(range(len(vals)), key=lambda i: (vals[i], i))
    pos = [vals[i] for i in order]
    for _ in range(200):
        moved = False
        for j in range(1, len(pos)):
            gap = pos[j] - pos[j - 1]
            if gap < min_gap - 1e-9:
                push = (min_gap - gap) / 2
                pos[j - 1] -= push
                pos[j] += push
                moved = True
        if lo is not None and pos and pos[0] < lo:
            shift = lo - pos[0]
            pos = [p + shift for p in pos]
        if hi is not None and pos and pos[-1] > hi:
            shift = pos[-1] - hi
            pos = [p - shift for p in pos]
        if not moved:
            break
    out = [0.0] * len(vals)
    for k, i in enumerate(order):
        out[i] = pos[k]
    return out


def slots_for_leaders(values, xs, slots) -> list[float]:
    """Give the label slots of figures with the same value (``slots``, from :func:`spread_1d`, in
    input order) to those figures so that their leader lines neither cross nor run through another
    figure's marker: the figure nearest the label column (largest ``x``) takes the slot nearest its
    value, and the farther a figure stands from the column, the farther its slot, above or below.
    (Otherwise a label could stand level with, and just right of, another figure's marker, and be
    read as its label.) Figures with a value of their own keep their slots. Returns slots in input
    order. Deterministic."""
    vals, xs, out = list(map(float, values)), list(map(float, xs)), list(map(float, slots))
    for v in sorted(set(vals)):
        idx = [i for i, w in enumerate(vals) if w == v]
        if len(idx) < 2:
            continue
        near = sorted((out[i] for i in idx), key=lambda s: (abs(s - v), s))  # slots, nearest first
        above = sorted(s for s in near[1:] if s >= v)
        below = sorted((s for s in near[1:] if s < v), reverse=True)
        rows = sorted(idx, key=lambda i: (-xs[i], i))  # nearest the column first
        out[rows[0]] = near[0]
        # the rest alternate outwards: the nearer a figure to the column, the nearer its slot
        rest, k_a, k_b = rows[1:], 0, 0
        for i in rest:
            if k_a < len(above) and (k_b >= len(below) or abs(above[k_a] - v) <= abs(below[k_b] - v)):
                out[i], k_a = above[k_a], k_a + 1
            else:
                out[i], k_b = below[k_b], k_b + 1
    return out
