"""Every mark identifies itself: where each plotted row is drawn in an exported figure.

Chart code says which artists draw which row, in one of two ways:

* ``hotspots.row(ax, row_id)`` before drawing a row, ``hotspots.done(ax)`` after the last one:
  every artist added to ``ax`` in between belongs to the row named last (markers, range lines,
  labels, arrows — whatever the chart draws for it);
* ``hotspots.tag(artist, ids)``: one id for the whole artist, or one id per element of a
  collection (scatter points, line vertices, bars of a bar container, paths of a collection).

At export, :func:`compute` draws the figure once at the PNG's resolution and measures, with
matplotlib's own transforms, the pixel box of every tagged artist (or element), as fractions of
the exported PNG (which is cropped by ``bbox_inches="tight"``). :func:`payload` adds, for every
plotted row, what a reader needs to identify it: the value as printed, unit, reference year,
source (author, title), locator, grade and status. ``kazdiaspora.figures.export`` writes both to
``figures/<id>.hotspots.json``; the book's Sphinx extension embeds it in the page, where
``_static/hotspots.js`` lays focusable buttons over the image.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import bib, paths

DPI = 300
PAD_INCHES = 0.06
MIN_BOX_PX = 1.0
ID_COLUMNS = ("id", "route_id", "magnitude_id", "wave_id", "number", "iso3")
"""Columns a tag is looked up in, in this order, to find its row of the plotted data (a route map's
figure rows are named by their ``magnitude_id``, the wave_figures row its figure label prints)."""

_ATTR = "_kaz_hotspot_ids"


# ----------------------------------------------------------------------------- tagging
def tag(artist, ids):
    """Mark ``artist`` as drawing row ``ids`` (a string), or one row per element (a list).

    A multi-line text takes one id per line (``None`` for a line that names no row).
    ``artist`` may be a list of artists (what ``ax.plot`` returns) or a container (``ax.bar``).
    Returns ``artist`` so it can wrap a drawing call.
    """
    if artist is None:
        return artist
    if isinstance(artist, (list, tuple)) and not hasattr(artist, "patches"):
        for a in artist:
            tag(a, ids)
        return artist
    if hasattr(artist, "patches") and not isinstance(ids, str):  # BarContainer: one id per bar
        for p, i in zip(artist.patches, list(ids)):
            tag(p, str(i))
        return artist
    setattr(artist, _ATTR, str(ids) if isinstance(ids, str) else [None if i is None else str(i) for i in ids])
    return artist


def _children(ax) -> list:
    return list(ax.get_children())


def row(ax, row_id) -> None:
    """Every artist added to ``ax`` from now on (until the next ``row`` or ``done``) draws ``row_id``."""
    done(ax)
    ax._kaz_hotspot_open = (str(row_id), {id(a) for a in _children(ax)})


def done(ax) -> None:
    """Close the row opened by :func:`row`: tag the artists added since."""
    open_ = getattr(ax, "_kaz_hotspot_open", None)
    if open_ is None:
        return
    rid, before = open_
    # reference lines and bands (axhline, axvspan ...) span the axes: they are not a row's mark
    spanning = {id(ax.get_xaxis_transform()), id(ax.get_yaxis_transform())}
    for a in _children(ax):
        if id(a) not in before and not hasattr(a, _ATTR) and id(a.get_transform()) not in spanning:
            setattr(a, _ATTR, rid)
    ax._kaz_hotspot_open = None


# ----------------------------------------------------------------------------- measuring
def _all_artists(fig):
    seen = set()
    for a in fig.findobj(lambda a: hasattr(a, _ATTR)):
        if id(a) not in seen:
            seen.add(id(a))
            yield a


def covered_by_legends(fig, tol_px: float = 1.0) -> list[tuple[str, str]]:
    """``(row id, legend)`` for every plotted row whose mark or label lies under a legend's box
    (a key placed over the data hides what the figure shows); empty when none does."""
    from matplotlib.legend import Legend

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    keys = []
    for lg in fig.findobj(Legend):
        if lg.get_visible() and (lg.axes is None or lg.axes.get_visible()):
            bb = lg.get_window_extent(renderer)
            texts = [t.get_text() for t in lg.get_texts() if t.get_text().strip()]
            keys.append(((bb.x0, bb.y0, bb.x1, bb.y1), lg.get_title().get_text() or (texts[0] if texts else "key")))
    out = []
    for a in _all_artists(fig):
        if not a.get_visible():
            continue
        ids = getattr(a, _ATTR)
        elems = [(ids, _whole_box(a, renderer))] if isinstance(ids, str) else zip(ids, _element_boxes(a, renderer))
        for rid, b in elems:
            if rid is None or b is None:
                continue
            for (x0, y0, x1, y1), name in keys:
                if min(b[2], x1) - max(b[0], x0) > tol_px and min(b[3], y1) - max(b[1], y0) > tol_px:
                    out.append((rid, name))
    return sorted(set(out))


def _marker_boxes(fig, renderer):
    """``(artist, row id, box)`` for every marker of a tagged, visible line or scatter: the marks a
    label may not cover and a panel's edge may not cut. A flat marker ("_", "|") counts by its line."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    for a in _all_artists(fig):
        is_line = isinstance(a, Line2D) and a.get_marker() not in (None, "None", "", " ")
        if not a.get_visible() or not (is_line or isinstance(a, PathCollection)):
            continue
        ids = getattr(a, _ATTR)
        boxes = _element_boxes(a, renderer)
        flat = a.get_marker() if is_line and a.get_marker() in ("_", "|") else None
        half = a.get_markeredgewidth() / 2 * renderer.dpi / 72.0 if flat else 0.0
        for rid, (x0, y0, x1, y1) in zip([ids] * len(boxes) if isinstance(ids, str) else ids, boxes):
            if rid is None:
                continue
            if flat == "_":
                y0, y1 = (y0 + y1) / 2 - half, (y0 + y1) / 2 + half
            elif flat == "|":
                x0, x1 = (x0 + x1) / 2 - half, (x0 + x1) / 2 + half
            yield a, rid, (x0, y0, x1, y1)


def labels_over_marks(fig, tol_px: float = 1.0) -> list[tuple[str, str]]:
    """``(label's row id, mark's row id)`` for every label that lies on the marker of another row
    (a label over a neighbour's marker makes the reader take one figure for the other); empty when
    none does. Labels are the texts tagged with a row (not their leader lines); marks are
    :func:`_marker_boxes`."""
    from matplotlib.text import Text

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    labels = []
    for a in _all_artists(fig):
        if isinstance(a, Text) and a.get_visible() and a.get_text().strip():
            ids = getattr(a, _ATTR)
            pairs = [(ids, _artist_box(a, renderer))] if isinstance(ids, str) else zip(ids, _element_boxes(a, renderer))
            labels.extend((rid, b) for rid, b in pairs if rid and b)
    marks = [(rid, b) for _, rid, b in _marker_boxes(fig, renderer)]
    out = []
    for lid, (a0, b0, a1, b1) in labels:
        for mid, (x0, y0, x1, y1) in marks:
            if mid != lid and min(a1, x1) - max(a0, x0) > tol_px and min(b1, y1) - max(b0, y0) > tol_px:
                out.append((lid, mid))
    return sorted(set(out))


def marks_cut_by_axes(fig, tol_px: float = 1.0) -> list[str]:
    """Row ids whose marker (:func:`_marker_boxes`) stands partly outside its axes (cut by, or drawn
    over, the axis line: a mark at the very start of an axis reads as part of the axis); empty when
    none does. A marker wholly outside its axes is not reported here."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    out = []
    for a, rid, (x0, y0, x1, y1) in _marker_boxes(fig, renderer):
        if a.axes is None:
            continue
        ax = a.axes.get_window_extent(renderer)
        if x1 < ax.x0 or x0 > ax.x1 or y1 < ax.y0 or y0 > ax.y1:
            continue
        if x0 < ax.x0 - tol_px or x1 > ax.x1 + tol_px or y0 < ax.y0 - tol_px or y1 > ax.y1 + tol_px:
            out.append(rid)
    return sorted(set(out))


def _element_boxes(artist, renderer) -> list[tuple[float, float, float, float]]:
    """Display-space boxes (x0, y0, x1, y1) of each element of ``artist``."""
    from matplotlib.collections import Collection, PathCollection
    from matplotlib.lines import Line2D

    from matplotlib.text import Text

    if isinstance(artist, Text):  # one id per line of a multi-line text (None: a line naming no row)
        bb = artist.get_window_extent(renderer)
        n = max(1, len(artist.get_text().split("\n")))
        h = (bb.y1 - bb.y0) / n
        return [(bb.x0, bb.y1 - (k + 1) * h, bb.x1, bb.y1 - k * h) for k in range(n)]
    if isinstance(artist, PathCollection) and len(artist.get_offsets()):
        offs = artist.get_offset_transform().transform(np.asarray(artist.get_offsets(), float))
        sizes = artist.get_sizes()
        out = []
        for k, (x, y) in enumerate(offs):
            s = sizes[k % len(sizes)] if len(sizes) else 36.0
            r = math.sqrt(s) / 2 * renderer.dpi / 72.0
            out.append((x - r, y - r, x + r, y + r))
        return out
    if isinstance(artist, Line2D):
        xy = artist.get_transform().transform(np.column_stack(artist.get_data()).astype(float))
        ms = artist.get_markersize() + artist.get_markeredgewidth() if artist.get_marker() not in (None, "None", "", " ") else 0
        r = max(ms, artist.get_linewidth()) / 2 * renderer.dpi / 72.0
        return [(x - r, y - r, x + r, y + r) for x, y in xy]
    if isinstance(artist, Collection):
        tr = artist.get_transform()
        out = []
        for p in artist.get_paths():
            v = tr.transform(p.vertices)
            if len(v):
                out.append((v[:, 0].min(), v[:, 1].min(), v[:, 0].max(), v[:, 1].max()))
        return out
    return []


def _artist_box(artist, renderer):
    from matplotlib.text import Annotation, Text

    try:
        if isinstance(artist, Annotation) and artist.get_text().strip():
            bb = Text.get_window_extent(artist, renderer)  # the label, not its leader line
        elif isinstance(artist, Annotation) and artist.arrow_patch is not None:
            bb = artist.arrow_patch.get_window_extent(renderer)
        else:
            bb = artist.get_window_extent(renderer)
    except Exception:  # noqa: BLE001 - an artist without extent gets no hotspot
        return None
    if bb is None or not np.all(np.isfinite([bb.x0, bb.y0, bb.x1, bb.y1])):
        return None
    return (bb.x0, bb.y0, bb.x1, bb.y1)


def _whole_box(artist, renderer):
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D

    if isinstance(artist, (Collection, Line2D)):
        boxes = _element_boxes(artist, renderer)
        if boxes:
            a = np.array(boxes)
            return (a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max())
    return _artist_box(artist, renderer)


def compute(fig, dpi: int = DPI, pad_inches: float = PAD_INCHES) -> dict:
    """Boxes of every tagged row, as fractions of the exported (tight-cropped) PNG.

    Returns ``{"width": px, "height": px, "boxes": {row_id: [[cx, cy, w, h], ...]}}`` with centre
    and size as fractions of the image, rounded to 1e-4 (deterministic).
    """
    from matplotlib import cbook

    with cbook._setattr_cm(fig, dpi=dpi):
        fig.draw_without_rendering()  # positions, as a draw at this resolution places them
        renderer = fig.canvas.get_renderer()
        tight = fig.get_tightbbox(renderer).padded(pad_inches)
        W, H = tight.width * dpi, tight.height * dpi
        x_off, y_top = tight.x0 * dpi, tight.y1 * dpi
        boxes: dict[str, list] = {}

        def add(rid, b):
            x0, y0, x1, y1 = b
            if not all(map(math.isfinite, b)) or (x1 - x0 < MIN_BOX_PX and y1 - y0 < MIN_BOX_PX):
                return
            cx, cy = ((x0 + x1) / 2 - x_off) / W, (y_top - (y0 + y1) / 2) / H
            if not (0 <= cx <= 1 and 0 <= cy <= 1):
                return
            box = [round(float(v), 4) for v in (cx, cy, (x1 - x0) / W, (y1 - y0) / H)]
            lst = boxes.setdefault(rid, [])
            if box not in lst:
                lst.append(box)

        for a in _all_artists(fig):
            if not a.get_visible():
                continue
            ids = getattr(a, _ATTR)
            if isinstance(ids, str):
                b = _whole_box(a, renderer)
                if b is not None:
                    add(ids, b)
            else:
                for rid, b in zip(ids, _element_boxes(a, renderer)):
                    if rid is not None:
                        add(rid, b)
    return {"width": int(W), "height": int(H),
            "boxes": {k: boxes[k] for k in sorted(boxes)}}


# ----------------------------------------------------------------------------- describing
def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        v = float(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    s = v if not isinstance(v, str) else v.strip()
    return s if s != "" else None


def _fmt_num(v) -> str:
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return f"{int(v):,}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def row_key(r: dict) -> str | None:
    q, iso = _clean(r.get("question_id")), _clean(r.get("iso3"))
    if q is not None and iso is not None:  # survey answers: one per question and country
        return f"{q}-{iso}"
    for c in ID_COLUMNS:
        v = _clean(r.get(c))
        if v is not None:
            return str(v)
    return None


def _year(r: dict):
    for c in ("reference_year", "year", "year_end", "date_end", "date", "year_start", "date_start", "period"):
        v = _clean(r.get(c))
        if v is not None:
            return str(v)
    return None


def _printed(r: dict):
    v = _clean(r.get("as_printed"))
    if v is not None:
        return str(v)
    lo, hi, val = (_clean(r.get(c)) for c in ("value_low", "value_high", "value"))
    if val is not None and not isinstance(val, str) and not isinstance(val, bool):
        return _fmt_num(val)
    if lo is not None and hi is not None:
        return f"{_fmt_num(lo)}\u2013{_fmt_num(hi)}"
    for c in ("answer", "script", "label", "name"):
        v = _clean(r.get(c))
        if v is not None:
            return str(v)
    return None


def _what(r: dict):
    for c in ("geography", "country", "origin", "label", "name", "place_as_printed", "question"):
        v = _clean(r.get(c))
        if v is not None:
            return str(v)
    return None


def grades() -> dict[str, str]:
    """source_key -> grade, from ``data/sources/sources.csv`` when the table exists."""
    p = paths.DATA_DIR / "sources" / "sources.csv"
    if not p.exists():
        return {}
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    if "source_key" not in df.columns or "grade" not in df.columns:
        return {}
    return dict(zip(df["source_key"], df["grade"]))


def source_info(key: str) -> dict:
    """Short label, author and title of a references.bib entry."""
    e = bib.entries()[key]
    title = bib._latex_to_text(e.fields.get("title", ""))
    return {"key": key, "cite": bib.short_cite(key), "title": title}


def describe(r: dict, grade_of: dict[str, str]) -> dict:
    """What the popover shows for one plotted row (missing fields are left out)."""
    keys = [k for k in str(_clean(r.get("source_key")) or "").split(";") if k]
    out = {
        "id": row_key(r),
        "what": _what(r),
        "printed": _printed(r),
        "unit": _clean(r.get("unit")),
        "year": _year(r),
        "kind": _clean(r.get("kind")),
        "sources": keys,
        "locator": _clean(r.get("locator")),
        "grade": _clean(r.get("grade")) or (" / ".join(dict.fromkeys(grade_of[k] for k in keys if k in grade_of)) or None),
        "status": _clean(r.get("status")),
        "status_note": _clean(r.get("status_note")),
        "derived": bool(_clean(r.get("derived"))) or None,
        "iso3": _clean(r.get("iso3")) or _clean(r.get("origin_iso3")),
    }
    return {k: (str(v) if not isinstance(v, (list, bool)) else v) for k, v in out.items() if v is not None}


def payload(fig_id: str, fig, data: pd.DataFrame, measured: dict | None = None) -> dict:
    """The hotspots file of a rendered figure: image size, rows, boxes, sources (``measured``: what
    :func:`compute` gave for the figure, when it was drawn earlier and is not at hand)."""
    measured = compute(fig) if measured is None else measured
    grade_of = grades()
    rows, keys = [], set()
    recs = data.to_dict("records")
    seen = set()
    for r in recs:
        d = describe(r, grade_of)
        if d.get("id") is None or d["id"] in seen:
            continue
        seen.add(d["id"])
        d["boxes"] = measured["boxes"].get(d["id"], [])
        keys.update(d.get("sources", []))
        rows.append(d)
    unknown = sorted(set(measured["boxes"]) - seen)
    if unknown:
        raise ValueError(f"figure {fig_id}: hotspot id(s) not in the plotted data: {', '.join(unknown[:5])}")
    return {"figure": fig_id, "width": measured["width"], "height": measured["height"], "rows": rows,
            "sources": {k: source_info(k) for k in sorted(keys)}}


def load(fig_id: str, figdir: Path | None = None) -> dict | None:
    import json

    p = Path(figdir or paths.FIGURES_DIR) / f"{fig_id}.hotspots.json"
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def key(r) -> str:
    """The hotspot id of a plotted row (a pandas Series or dict): its ``id``, else its other key column."""
    k = row_key(dict(r))
    if k is None:
        raise ValueError(f"plotted row has none of the id columns {ID_COLUMNS}: {dict(r)}")
    return k


# ----------------------------------------------------------------------------- the HTML page
IMAGE_NAME = r"(?:^|/)(?P<id>[a-z0-9-]+?)(?:[-_.@](?:screen|light|dark|small|large|\d+w|\dx)[^/]*)?\.png$"
"""A figure's image in the book: ``figures/<id>.png`` or a screen variant of it (``<id>-screen.png``...)."""


def embed_json(hs: dict, ref_anchor, profile_of=None) -> str:
    """The compact JSON embedded in a page for one figure (``</`` escaped for a script element).

    ``ref_anchor(key)`` gives the link to a source's entry on the References page;
    ``profile_of(iso3)`` the link to a country profile (or None).
    """
    import json

    srcs = {k: {"cite": v["cite"], "title": v["title"], "href": ref_anchor(k)} for k, v in hs["sources"].items()}
    rows = []
    for r in hs["rows"]:
        r = dict(r)
        if profile_of is not None and r.get("iso3"):
            href = profile_of(r["iso3"])
            if href:
                r["profile"] = href
        rows.append(r)
    out = {"figure": hs["figure"], "rows": rows, "sources": srcs}
    text = json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("</", "<\\/")
