"""The evidence model: how reliable each figure is, whether other sources bear it out, and how
every chart draws that.

Data
----
* Each source in ``data/sources/sources.csv`` has a reliability **grade** (A official or primary
  record; B scholarly work, international organisation or agency relaying an official release;
  C encyclopedia or press feature; D low reliability) with the reason, and a **source type**.
* Each row of a figure table (``FIGURE_TABLES``) has a **status**:

  ``corroborated``    an official record (grade A), or a second, independent source in the data
                      gives the same figure (see :func:`corroborating`);
  ``uncorroborated``  only this source gives it;
  ``disputed``        other sources give a materially different figure for the same thing;
  ``probable_error``  the figure as printed is very probably wrong (``status_note`` says why, and
                      ``correction`` holds the likely figure where one exists);
  ``excluded``        kept for the record only; never drawn.

  ``status_note`` says why in plain words.

Grammar (one meaning per mark, in every figure)
-----------------------------------------------
* marker **shape** and hue: the kind of figure (census, official estimate, …), from
  :data:`kazdiaspora.style.KIND_STYLE` (two kinds whose shapes are alike at legend size differ in
  lightness too, so that they stay apart in greyscale and for the common colour-vision deficiencies);
* marker **fill**: the status — filled = corroborated, half-filled = disputed, hollow =
  uncorroborated;
* marker **shade**: the grade — full colour for A, lighter for B and C, palest for D;
* ``probable_error`` and ``excluded`` rows are never drawn as data. A chart that shows a probable
  error *as an error* draws it with :func:`error_mark` (a grey cross) and says so in its legend.

:func:`annotate` adds, to the rows a figure plots, the columns every figure CSV carries: ``grade``,
``status``, ``status_note``, ``reference_year``, ``reference`` (the full reference) and ``locator``.
"""
from __future__ import annotations

import math
import re

import pandas as pd

from . import data, style, trace

# The kind of a figure: (colour, marker), used by every chart; the palette lives in kazdiaspora.style.
KIND_STYLE = style.KIND_STYLE
KIND_LABEL = style.KIND_LABEL

GRADES = ("A", "B", "C", "D")
STATUSES = ("corroborated", "uncorroborated", "disputed", "probable_error", "excluded")
NOT_DATA = ("probable_error", "excluded")

FIGURE_TABLES = {
    # table: (columns that say *what* is counted, reference-year rule)
    "population_estimates": ("iso3", "subregion", "unit"),
    "repatriation": ("series", "origin_iso3", "destination", "unit", "date_start", "date_end"),
    "iran": ("series", "geography", "unit", "year_start"),
    "wave_figures": ("wave_id", "unit", "counts"),
    "diasporas_in_kazakhstan": ("group", "geography", "unit"),
}

GRADE_LABEL = {
    "A": "A: official or primary record",
    "B": "B: scholarly work or agency report",
    "C": "C: encyclopedia or press feature",
    "D": "D: low reliability (blog, tour site, anonymous)",
}
STATUS_LABEL = {
    "corroborated": "Filled: official record or borne out by another source",
    "disputed": "Half-filled: sources disagree",
    "uncorroborated": "Hollow: one source only",
}
STATUS_WORDS = {
    "corroborated": "corroborated",
    "uncorroborated": "one source only",
    "disputed": "disputed",
    "probable_error": "probable error",
    "excluded": "excluded",
}
# Mix of the kind's colour with white: A full colour, D palest.
# even steps of lightness: neighbouring grades stay apart (CIEDE2000 > 10) in greyscale and for
# the common colour-vision deficiencies (checked by tests/test_paper.py on every legend)
_SHADE = {"A": 1.0, "B": 0.78, "C": 0.52, "D": 0.22}
_FILL = {"corroborated": "full", "disputed": "left", "uncorroborated": "none"}


class EvidenceError(ValueError):
    """A chart tried to draw a row that is not data (a probable error or an excluded row)."""


# --------------------------------------------------------------------------- lookups
@trace.memo
def _sources_cached(stamp) -> pd.DataFrame:
    return data.load("sources").set_index("source_key")


def sources() -> pd.DataFrame:
    """``data/sources/sources.csv`` indexed by source key."""
    return _sources_cached(data._stamp())


def grade_of(key: str) -> str:
    return str(sources().loc[key, "grade"])


_ROW_COLUMNS = ("id", "source_key", "locator", "status", "status_note", "correction",
                # what reference_years reads
                "year", "year_start", "year_end", "date_start", "date_end", "period", "wave_id")
"""The columns of a figure table that :func:`rows` reads (only these are recorded as its inputs)."""


@trace.memo
def _rows_cached(stamp) -> pd.DataFrame:
    frames = []
    for name in FIGURE_TABLES:
        fields = {f["name"] for f in data.package().fields(name)}
        t = data.load(name, columns=[c for c in _ROW_COLUMNS if c in fields])
        t["table"] = name
        t["reference_year"] = reference_years(t, name)
        frames.append(t[["id", "table", "source_key", "locator", "status", "status_note", "correction",
                         "reference_year"]])
    return pd.concat(frames, ignore_index=True).set_index("id")


def rows() -> pd.DataFrame:
    """Every row of every figure table: id -> table, source, status, reference year…"""
    return _rows_cached(data._stamp())


_YEAR = re.compile(r"(1[6-9]\d\d|20\d\d)")


def reference_years(t: pd.DataFrame, name: str) -> pd.Series:
    """The year a figure refers to (not the date its source was read); <NA> when undated."""
    if "year" in t.columns:
        y = t["year"]
    elif "year_end" in t.columns:
        y = t["year_end"].fillna(t["year_start"])
    elif "date_end" in t.columns:
        d = t["date_end"].fillna(t["date_start"])
        y = d.map(lambda s: int(s[:4]) if isinstance(s, str) and s else pd.NA)
    else:  # wave figures: the last year the period names, else the wave's last year
        waves = data.load("waves").set_index("wave_id")

        def one(r):
            ys = _YEAR.findall(r["period"] or "")
            return int(ys[-1]) if ys else int(waves.loc[r["wave_id"], "year_end"])
        y = t.apply(one, axis=1)
    return pd.array(list(y), dtype="Int64")


# --------------------------------------------------------------------------- corroboration
def _interval(r) -> tuple[float, float] | None:
    v, lo, hi = r["value"], r["value_low"], r["value_high"]
    if v == v and v is not None:
        return float(v), float(v)
    if lo == lo and hi == hi and lo is not None and hi is not None:
        return float(lo), float(hi)
    return None


def _same_originator(a, b) -> bool:
    """Two rows that say they relay the same body's figure (``originator``) repeat one figure."""
    oa, ob = a.get("originator"), b.get("originator")
    return isinstance(oa, str) and bool(oa) and oa == ob


def same_figure(ia: tuple[float, float], ib: tuple[float, float], tolerance: float = 0.01) -> bool:
    """Two figures are the same when both are points within ``tolerance`` of each other, or both are
    ranges whose ends are. A point inside a range is not the same figure: 899,195 is not borne out
    by '0.8 to 1.1 million'."""
    def close(x, y):
        return abs(x - y) <= tolerance * max(abs(x), abs(y))
    a_point, b_point = ia[0] == ia[1], ib[0] == ib[1]
    if a_point != b_point:
        return False
    return close(ia[0], ib[0]) and close(ia[1], ib[1])


def _independent(a: str, b: str) -> bool:
    """Two sources count as independent unless they are the same key or both encyclopedias
    (mirrors and translations of one encyclopedia article repeat each other)."""
    if a == b:
        return False
    s = sources()
    return not (s.loc[a, "source_type"] == "encyclopedia" and s.loc[b, "source_type"] == "encyclopedia")


def _other_source(a: str, b: str) -> bool:
    return a != b


def corroborating(name: str, t: pd.DataFrame | None = None, tolerance: float = 0.01,
                  independent=_independent, by_originator: bool = True) -> dict[str, list[str]]:
    """For each row id of table ``name``: the ids of rows from independent sources that give a
    figure for the same thing (same :data:`FIGURE_TABLES` columns and reference year): the same
    point within ``tolerance`` (relative), or the same range (see :func:`same_figure`)."""
    t = data.load(name) if t is None else t
    keys = list(FIGURE_TABLES[name])
    t = t.copy()
    t["_ry"] = reference_years(t, name)
    out: dict[str, list[str]] = {i: [] for i in t["id"]}
    for _, g in t.groupby(keys + ["_ry"], dropna=False, sort=False):
        if len(g) < 2:
            continue
        recs = g.to_dict("records")
        for a in recs:
            ia = _interval(a)
            if ia is None or a["status"] in NOT_DATA:
                continue
            for b in recs:
                if b is a or b["status"] in NOT_DATA or not independent(a["source_key"], b["source_key"]):
                    continue
                if by_originator and _same_originator(a, b):
                    continue
                ib = _interval(b)
                if ib is None:
                    continue
                if same_figure(ia, ib, tolerance):
                    out[a["id"]].append(b["id"])
    return out


def encyclopedias_only(name: str, t: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """For each row id: the rows of *other* sources that give the same figure but do not count as
    independent of it (encyclopedias repeating one another). A row with such companions and no
    independent one is 'uncorroborated', and its ``status_note`` must say that only encyclopedias
    give the figure, not that no other source does."""
    t = data.load(name) if t is None else t
    same = corroborating(name, t, independent=_other_source, by_originator=False)
    src = t.set_index("id")["source_key"]
    return {i: [j for j in same[i] if not _independent(src[i], src[j])] for i in same}


def same_figure_note(source_keys) -> str:
    """The status note of a corroborated row: every other source that gives the figure, by name."""
    from . import bib

    return "The same figure is given by " + "; ".join(dict.fromkeys(bib.short_cite(k) for k in source_keys)) + "."


ENCYCLOPEDIAS_ONLY = "Only encyclopedias give this figure"
NO_OTHER_SOURCE = "No other source in the data gives a figure for the same thing and year"
NOT_IN_PASSAGE = "The passage we could read does not contain this figure"
"""In a ``status_note``: the figure is known only from a summary of the page, not from its words."""


GENERIC_NOTES = ("The same figure is given by ", NO_OTHER_SOURCE, ENCYCLOPEDIAS_ONLY, "Only repeats of ",
                 "No other source found gives this figure")
"""Status notes written from the data by :func:`derived_status` (other notes are a person's words)."""


def derived_status(name: str, t: pd.DataFrame | None = None) -> dict[str, tuple[str, str]]:
    """For every corroborated or uncorroborated row whose note is one of :data:`GENERIC_NOTES`:
    the status and note the data imply. Another independent source giving the same figure makes
    it corroborated and is named; otherwise the note says who else gives it and why that does not
    count (encyclopedias repeating one another, repeats of one body's figure), or that nobody does.
    ``tests/test_evidence.py`` checks that the data files say exactly this."""
    from . import bib

    t = data.load(name) if t is None else t
    co = corroborating(name, t)
    same = corroborating(name, t, independent=_other_source, by_originator=False)
    rows_by_id = t.set_index("id")
    out = {}
    for _, r in t.iterrows():
        note = r["status_note"] if isinstance(r["status_note"], str) else ""
        if r["status"] not in ("corroborated", "uncorroborated") or not note.startswith(GENERIC_NOTES):
            continue
        tail = f" {NOT_IN_PASSAGE}{note.split(NOT_IN_PASSAGE, 1)[1]}" if NOT_IN_PASSAGE in note else ""
        if co[r["id"]]:
            out[r["id"]] = ("corroborated", same_figure_note(rows_by_id.loc[co[r["id"]], "source_key"]) + tail)
            continue
        others = same[r["id"]]
        if not others:
            out[r["id"]] = ("uncorroborated", NO_OTHER_SOURCE + "." + tail)
            continue
        names = "; ".join(dict.fromkeys(bib.short_cite(k) for k in rows_by_id.loc[others, "source_key"]))
        orig = r.get("originator")
        if any(_same_originator(r, rows_by_id.loc[i]) for i in others):
            out[r["id"]] = ("uncorroborated", f"Only repeats of the figure of {orig} give it (also {names}): "
                                              "repeats of one figure are not counted as independent." + tail)
        else:
            out[r["id"]] = ("uncorroborated", f"{ENCYCLOPEDIAS_ONLY} (also {names}): encyclopedias repeat one "
                                              "another and are not counted as independent." + tail)
    return out


# --------------------------------------------------------------------------- annotate / guard
def annotate(df: pd.DataFrame, id_col: str = "id") -> pd.DataFrame:
    """Add grade, status, status_note, reference_year, reference and locator to plotted rows.

    Rows whose id is a row of a figure table take its evidence; other rows (derived values,
    events) keep what they carry, and derived rows get status ``derived``.
    """
    from . import bib

    out = df.copy()
    ev = rows()
    ids = out[id_col].astype("string") if id_col in out.columns else pd.Series(pd.NA, index=out.index, dtype="string")
    known = ids.isin(ev.index).fillna(False).astype(bool)
    derived = out["derived"].fillna(False).astype(bool) if "derived" in out.columns else pd.Series(False, index=out.index)

    def col(name, default=pd.NA):
        return [ev.loc[i, name] if k else (out.at[j, name] if name in out.columns else default)
                for j, i, k in zip(out.index, ids, known)]

    out["status"] = ["derived" if d else (s if k else "") for d, s, k in zip(derived, col("status"), known)]
    out["status_note"] = [n if k else ("computed by the book from the rows it names" if d else
                                       "not a count: a date, place, route or statement")
                          for n, k, d in zip(col("status_note"), known, derived)]
    out["reference_year"] = pd.array([None if (v is pd.NA or v is None or (isinstance(v, float) and math.isnan(v)))
                                      else int(v) for v in col("reference_year")], dtype="Int64")
    if "source_key" not in out.columns:
        out["source_key"] = col("source_key")
    if "locator" not in out.columns:
        out["locator"] = col("locator")
    s = sources()
    def keys(k):
        return [x for x in k.split(";") if x] if isinstance(k, str) else []

    # a value computed from several sources is as reliable as the weakest of them
    out["grade"] = [max((s.loc[x, "grade"] for x in keys(k)), default=pd.NA) for k in out["source_key"]]
    out["reference"] = [" | ".join(bib.full_reference(x) for x in keys(k)) or pd.NA for k in out["source_key"]]
    return out


def drawable(df: pd.DataFrame, id_col: str = "id") -> pd.DataFrame:
    """The rows that may be drawn as data: probable errors and excluded rows are left out."""
    if "status" not in df.columns:
        df = annotate(df, id_col)
    return df[~df["status"].isin(NOT_DATA)]


def check_plotted(df: pd.DataFrame) -> None:
    """Refuse plotted data with a probable error or an excluded row drawn as data.

    A row shown *as* an error carries ``shown_as == 'error'``.
    """
    if "status" not in df.columns:
        return
    bad = df["status"].isin(NOT_DATA)
    if "shown_as" in df.columns:
        bad &= df["shown_as"].ne("error").fillna(True)
    if bad.any():
        ids = ", ".join(map(str, df.loc[bad, "id"] if "id" in df.columns else df.index[bad]))
        raise EvidenceError(f"rows that are not data drawn as data: {ids} "
                            "(status probable_error/excluded; draw them with evidence.error_mark, or leave them out)")


# --------------------------------------------------------------------------- grammar
def _hex_to_rgb(c: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb
    return to_rgb(c)


def shade(colour: str, grade: str | None) -> tuple[float, float, float]:
    """The kind's colour mixed with white by grade (A full colour, D palest)."""
    f = _SHADE.get(grade or "", _SHADE["C"])
    r, g, b = _hex_to_rgb(colour)
    return (1 - f + f * r, 1 - f + f * g, 1 - f + f * b)


def mark(kind: str, grade: str | None, status: str, size: float = 6.5) -> dict:
    """Keyword arguments for ``ax.plot(x, y, ls='', **mark(...))``: the one way a figure is drawn.

    Shape = kind; fill = status (filled, half-filled, hollow); shade = grade.
    """
    from . import style

    if status in NOT_DATA:
        raise EvidenceError(f"a {status} figure cannot be drawn as data")
    colour, marker = KIND_STYLE.get(kind, (style.GREY, "o"))
    c = shade(colour, grade)
    edge = shade(colour, "A") if grade in ("A", "B") else shade(colour, "B")
    fill = _FILL.get(status, "full")  # derived values are drawn filled (they are labelled derived)
    kw = dict(marker=marker, markersize=size, markeredgecolor=edge, markeredgewidth=1.1,
              markerfacecolor=c if fill != "none" else "white", linestyle="none")
    if fill == "left":
        kw.update(fillstyle="left", markerfacecoloralt="white")
    return kw


def scatter_mark(ax, x, y, kind: str, grade: str | None, status: str, size: float = 6.5, zorder: float = 3, **kw):
    """Draw one figure with :func:`mark`; returns the Line2D."""
    (ln,) = ax.plot([x], [y], zorder=zorder, **mark(kind, grade, status, size), **kw)
    return ln


def plot_marks(ax, df: pd.DataFrame, x: str = "x", y: str = "value", size: float = 6.5, zorder: float = 3,
               id_col: str = "id", **kw) -> list:
    """Draw every row of ``df`` (columns ``kind``, ``source_key``, ``status``, ``x``, ``y``) with
    :func:`mark`, one artist per (kind, grade, status), each point tagged with its row id for the
    marks layer. Rows that are not data (probable errors, excluded) raise :class:`EvidenceError`."""
    from . import hotspots

    d = df.assign(_grade=[grade_of(k) for k in df["source_key"]])
    out = []
    for (kind, grade, status), g in d.groupby(["kind", "_grade", "status"], sort=True):
        (ln,) = ax.plot(g[x].to_numpy(float), g[y].to_numpy(float), zorder=zorder,
                        **mark(kind, grade, status, size), **kw)
        out.append(hotspots.tag(ln, [str(i) for i in g[id_col]]))
    return out


def error_mark(ax, x, y, size: float = 6.5, zorder: float = 3, **kw):
    """A probable error shown as such: a grey cross (its legend entry: :func:`legend_handles`)."""
    from . import style
    (ln,) = ax.plot([x], [y], marker="x", markersize=size, color=style.GREY, markeredgewidth=1.2,
                    linestyle="none", zorder=zorder, **kw)
    return ln


def legend_columns(*groups) -> tuple[list, int]:
    """Legend entries laid out one group a column (a legend fills its columns top to bottom):
    ``(handles, ncol)`` for ``legend(handles=..., ncol=...)``, each group padded with blank entries
    to the length of the longest, so that a heading (:data:`STATUS_HEADING`) never stands in one
    column and its entries in the next."""
    from matplotlib.lines import Line2D

    groups = [list(g) for g in groups if len(g)]
    rows = max(len(g) for g in groups)
    out = []
    for g in groups:
        out += g + [Line2D([], [], linestyle="none", label=" ") for _ in range(rows - len(g))]
    return out, len(groups)


#: The headings of the three parts of every key, worded as Methods explains the marks.
KIND_HEADING = "Kind of figure (shape and colour):"
STATUS_HEADING = "Status of the figure (fill):"
GRADE_HEADING = "Reliability of the source (shade):"
#: The heading of a chart's own marks (lines, bands, arrows), after the three parts of the grammar.
OTHER_HEADING = "Other marks:"


def heading(text: str):
    """A key's section heading: an entry with no mark."""
    from matplotlib.lines import Line2D

    return Line2D([], [], label=text, linestyle="none")


def kind_handles(kinds, with_heading: bool = True) -> list:
    """Legend entries for shape and hue (the kind of figure), the same in every figure, under
    :data:`KIND_HEADING`."""
    from matplotlib.lines import Line2D

    from . import style

    hs = [heading(KIND_HEADING)] if with_heading else []
    for k in kinds:
        c, m = KIND_STYLE[k]
        hs.append(Line2D([], [], ls="", marker=m, ms=7 if m != "*" else 9, mfc=c, mec="black", mew=0.4,
                         label=style.KIND_LABEL[k]))
    return hs


def legend_handles(statuses=("corroborated", "disputed", "uncorroborated"), grades=GRADES,
                   with_error: bool = False):
    """Legend entries for fill (status) and shade (grade), the same wording in every figure."""
    return status_handles(statuses, with_error) + grade_handles(grades)


def status_handles(statuses=("corroborated", "disputed", "uncorroborated"), with_error: bool = False):
    """The status half of :func:`legend_handles`: its heading and one entry per status."""
    from matplotlib.lines import Line2D

    from . import style

    hs = [heading(STATUS_HEADING)]
    for s in statuses:
        hs.append(Line2D([], [], label=STATUS_LABEL[s], **mark("census", "A", s, 6)))
        hs[-1].set_markeredgecolor(style.GREY)
        if s != "uncorroborated":
            hs[-1].set_markerfacecolor(style.GREY)
    if with_error:
        hs.append(Line2D([], [], marker="x", color=style.GREY, linestyle="none", markersize=6,
                         label="Cross: probable error, shown as such"))
    return hs


def grade_handles(grades=GRADES):
    """The reliability half of :func:`legend_handles`: its heading and one entry per grade."""
    from matplotlib.lines import Line2D

    from . import style

    hs = [heading(GRADE_HEADING)]
    for g in grades:
        hs.append(Line2D([], [], label=GRADE_LABEL[g], marker="s", markersize=7, linestyle="none",
                         markerfacecolor=shade(style.GREY, g), markeredgecolor=shade(style.GREY, "B")))
    return hs
