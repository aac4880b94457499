"""Figures of the chapter *The Kazakhs of Iran and the return to Kazakhstan*.

Every figure is made in two steps (``data=`` in :func:`kazdiaspora.figures.register`). Its data
function (``*_plotted``) reads the tables through :func:`kazdiaspora.data.load` (``iran``,
``repatriation``, ``events``, ``gazetteer``) and returns exactly the rows it draws, with their
``source_key`` and ``locator``, and in ``attrs["drawn"]`` the few other rows and values the drawing
needs (see each data function). Its build function draws from those alone (it reads no figure
table; only the sources' grades and the bibliography), so that a change to one row of a table draws
again only the figures that show that row. No number or date is typed here: labels, captions, alt
texts and the "no series" annotations are computed from the tables.

Rules applied to the data (all from the datasets' READMEs and notes):

* persons and families are never mixed on one axis and never converted;
* a row whose note says "do not use" / "do not plot" is not plotted; the figure says so on the
  chart (value as printed and source), computed from the rows left out;
* "uncorroborated" seed figures are drawn hollow and labelled as such;
* lower bounds ("more than", "over") carry an upward arrow;
* arrivals derived from two cumulative figures are computed here (:func:`derive_differences`),
  drawn hatched and outlined, and flagged ``derived`` in the plotted data with the ids of the
  two rows they come from.

Small helpers (dates, bounds, exclusions, dodging, label spreading) are plain functions with unit
tests in ``tests/test_charts_iran.py``.
"""
from __future__ import annotations

import calendar
import re
import textwrap

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .. import bib, data, evidence, hotspots, style
from ..labels import slots_for_leaders, spread_1d
from . import narrow_column, wrap_legend_labels
from ..figures import register

CHAPTER = "03_iran_and_return"

# Events of the Iran timeline (ids of rows in data/events/events.csv; dates and labels come from there).
TIMELINE_EVENTS = (
    "mangystau_flight_1929_1936",
    "iran_nationality_early_1950s",
    "iran_iraq_war_1980_1988",
    "kz_ir_agreement_1992",
    "iran_trains_1993",
    "moves_to_kz_autumn_1995",
    "consulate_to_gorgan_2008",
    "gorgan_group_2021",
    "tokayev_pezeshkian_2025",
)

# Origins shown by name in the share charts, in this order; everything else is "other".
ORIGINS = ("UZB", "CHN", "MNG", "TKM", "RUS", "OTH")
ORIGIN_LABEL = {"UZB": "Uzbekistan", "CHN": "China", "MNG": "Mongolia", "TKM": "Turkmenistan",
                "RUS": "Russia", "OTH": "Other countries (incl. Iran)"}

MARKS_SENTENCE = ("Marks follow the book's one grammar: shape and colour give the kind of source, the fill "
                  "whether another source bears the figure out (hollow: one source only), the shade how "
                  "reliable the source is.")
NUMBERED_SOURCES = "The number in brackets names the source, listed under the chart."


def _present(order, values) -> tuple:
    """The members of ``order`` found in ``values``, in ``order``'s order (legend entries for what is drawn)."""
    vals = set(values)
    return tuple(v for v in order if v in vals and v not in evidence.NOT_DATA)
DERIVED_HATCH = "////"
DERIVED_BAND = 1.3  # a derived value is drawn as a hatched box from value/1.3 to value*1.3 (log axis)

# ----------------------------------------------------------------------------- small helpers

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _parse(text: str) -> tuple[int, int | None, int | None]:
    m = _DATE.match(str(text))
    if not m:
        raise ValueError(f"not an ISO date at year, month or day precision: {text!r}")
    y, mo, d = m.groups()
    return int(y), (int(mo) if mo else None), (int(d) if d else None)


def date_start_x(text: str) -> float:
    """Decimal year at which a period starts: '2016' -> 2016.0, '2016-07' -> start of July,
    '2016-07-01' -> that day."""
    y, mo, d = _parse(text)
    n = 366 if calendar.isleap(y) else 365
    if mo is None:
        return float(y)
    doy = sum(calendar.monthrange(y, m)[1] for m in range(1, mo)) + ((d or 1) - 1)
    return y + doy / n


def date_end_x(text: str) -> float:
    """Decimal year at which a period (or an "as of" statement) ends: the end of the period the
    date names. '2014' -> 2015.0 (end of 2014), '2016-06' -> end of June, '2016-01-01' -> that day
    (a release "as of 1 January" counts up to that day)."""
    y, mo, d = _parse(text)
    n = 366 if calendar.isleap(y) else 365
    if mo is None:
        return float(y + 1)
    if d is None:
        return y + sum(calendar.monthrange(y, m)[1] for m in range(1, mo + 1)) / n
    return date_start_x(text)


def is_excluded(note) -> bool:
    """True when the data's note says a figure must not be used or plotted as printed."""
    n = str(note or "").lower()
    return "do not use" in n or "do not plot" in n


def is_uncorroborated(note) -> bool:
    return str(note or "").lower().startswith("uncorroborated")


_LOWER = re.compile(r"\b(more than|over|above|lower bound|более|свыше|астам|almost)\b", re.I)


def bound(row) -> str | None:
    """'lower' when the figure is printed as a lower bound ('more than 5,000', 'over 1 million',
    'более'), 'approx' for 'almost'/'about'-type figures is not a bound (None)."""
    text = " ".join(str(row.get(c) or "") for c in ("as_printed", "note", "measure"))
    if re.search(r"lower bound|\bmore than\b|\bover\b|более|свыше|астам", text, re.I):
        return "lower"
    if re.search(r"upper bound|fewer than|less than|менее|mniej", text, re.I):
        return "upper"
    return None


def dodge(keys, step: float) -> list[float]:
    """Offsets that spread items sharing the same key symmetrically around 0 (in input order):
    keys ['a','a','b'] with step 1 -> [-0.5, 0.5, 0.0]."""
    keys = list(keys)
    groups: dict = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    out = [0.0] * len(keys)
    for idx in groups.values():
        n = len(idx)
        for j, i in enumerate(idx):
            out[i] = (j - (n - 1) / 2) * step
    return out


def alternate_levels(xs, min_gap: float, n_levels: int = 3) -> list[int]:
    """A label level per point (in input order) such that two labels on one level are at least
    ``min_gap`` apart in x where possible; the least recently used level otherwise."""
    order = sorted(range(len(xs)), key=lambda i: (xs[i], i))
    last: dict[int, float] = {}
    out = [0] * len(xs)
    for i in order:
        free = [lv for lv in range(n_levels) if lv not in last or xs[i] - last[lv] >= min_gap]
        lv = free[0] if free else min(range(n_levels), key=lambda v: (last[v], v))
        out[i] = lv
        last[lv] = xs[i]
    return out


def break_gaps(xs, ys, max_gap: float) -> tuple[list[float], list[float]]:
    """Insert a NaN between consecutive points more than ``max_gap`` apart in x, so that a line
    is not drawn across a gap in the series. Input must be sorted by x."""
    ox, oy = [], []
    for i, (x, y) in enumerate(zip(xs, ys)):
        if i and x - xs[i - 1] > max_gap:
            ox.append(float("nan"))
            oy.append(float("nan"))
        ox.append(float(x))
        oy.append(float(y))
    return ox, oy


def source_label(key: str, width: int = 34) -> str:
    """Short name of a source for a legend: the author-year cite, Wikipedia by language."""
    cite = bib.short_cite(key)
    if cite.startswith("Wikipedia contributors"):
        title = re.sub(r"[{}]", "", bib.entries()[key].fields.get("title", key))
        lang = "Russian" if re.search("[А-Яа-я]", title) else "English"
        return f"{lang} Wikipedia, \u2018{title}\u2019"
    return textwrap.shorten(cite.replace("[", "").replace("]", ""), width, placeholder="\u2026")


def fmt_num(x: float) -> str:
    """'4800.0' -> '4,800'; '13.56' -> '13.56'; '61.3' -> '61.3'."""
    x = float(x)
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:g}"


def derive_differences(cum: pd.DataFrame) -> pd.DataFrame:
    """Arrivals between consecutive cumulative figures, computed (not data).

    ``cum`` holds cumulative rows (columns ``id``, ``date_end``, ``value``, ``source_key``,
    ``locator``). Rows are ordered by the date they refer to (:func:`date_end_x`); at one date
    only identical values are kept (the first id in alphabetical order stands for them); a date
    whose sources disagree is skipped, so that no derived number depends on a choice between
    sources. Returns one row per interval with ``from_id``, ``to_id``, ``x0``, ``x1``, ``value``
    (the difference), ``derived`` True and both source keys and locators joined with ';'.
    """
    c = cum.copy()
    c["x"] = [date_end_x(d) for d in c["date_end"]]
    c = c.sort_values(["x", "id"]).reset_index(drop=True)
    points = []
    for x, g in c.groupby("x", sort=True):
        if g["value"].nunique() == 1:
            points.append(g.iloc[0])
    rows = []
    for a, b in zip(points, points[1:]):
        rows.append({
            "id": f"derived_{a['id']}__{b['id']}",
            "from_id": a["id"], "to_id": b["id"],
            "x0": a["x"], "x1": b["x"],
            "period": f"{a['date_end']} to {b['date_end']}",
            "value": float(b["value"] - a["value"]),
            "derived": True,
            "source_key": ";".join(sorted({a["source_key"], b["source_key"]})),
            "locator": f"{a['locator']} ; {b['locator']}",
        })
    cols = ["id", "from_id", "to_id", "x0", "x1", "period", "value", "derived", "source_key", "locator"]
    return pd.DataFrame(rows, columns=cols)


def _place_names() -> dict[str, str]:
    try:
        gz = data.load("gazetteer")
    except Exception:  # the gazetteer is optional for labels; fall back to the source's wording
        return {}
    return dict(zip(gz["place_id"], gz["name_en"]))


def scope_label(row, places: dict[str, str]) -> str:
    """Where a population figure applies: the gazetteer name of its place, else the geography
    as the source names it (without its parenthesis)."""
    pid = row.get("place_id")
    if isinstance(pid, str) and pid in places:
        name = places[pid]
        return f"{name} city" if pid == "gorgan" else name
    geo = str(row.get("geography") or "")
    return geo.split(" (")[0]


def lower_arrow(ax, x, y, color):
    """An upward arrow just above a point: the figure is a lower bound ('more than')."""
    ax.annotate("\u2191", xy=(x, y), xytext=(0, 5), textcoords="offset points", ha="center",
                va="bottom", fontsize=9, color=color, fontweight="bold")


def _excluded_note(rows: pd.DataFrame, what: str) -> str:
    parts = [f"\u2018{r.as_printed}\u2019 ({source_label(r.source_key)})" for r in rows.itertuples()]
    return f"Not plotted ({what}): " + "; ".join(parts)


def wrap_text(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(" ".join(str(text).split()), width, break_long_words=False))


def _letter(i: int) -> str:
    """a, b, ... z, aa, ab, ...: the key letter of the i-th label."""
    import string

    return string.ascii_lowercase[i] if i < 26 else _letter(i // 26 - 1) + string.ascii_lowercase[i % 26]


def _legend_below(ax, handles, ncol: int):
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.16), ncol=ncol,
              frameon=False, handletextpad=0.4, columnspacing=1.0, borderaxespad=0)


# ------------------------------------------------------------------- 1. the community in Iran

def community_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    ir = data.load("iran")
    pop = ir[(ir["series"] == "population")].copy()
    pop = pop[pop["value"].notna() | pop["value_low"].notna()]
    ev = data.load("events")
    ev = ev[ev["id"].isin(TIMELINE_EVENTS)].copy()
    return pop, ev


def _community_caption(d: pd.DataFrame) -> str:
    p = d[d["layer"] == "population"]
    persons = p[p["unit"] == "persons"]
    lo, hi = persons["value"].min(), persons[["value", "value_high"]].max().max()
    unc = persons[persons["uncorroborated"]]
    return (f"Each marker is one figure from one source, as printed: the size of the Kazakh community "
            f"of Iran in persons (top) and in families (middle; not converted to persons). Figures "
            f"range from {fmt_num(lo)} to {fmt_num(hi)} persons and refer to different areas (the city "
            f"of Gorgan, Golestan province, all Iran); {len(unc)} of the figures in persons are given by "
            f"one source only. Undated statements are in the right-hand column. The bottom strip shows "
            f"dated events from the events table. {MARKS_SENTENCE} {NUMBERED_SOURCES}")


def _community_alt(d: pd.DataFrame) -> str:
    p = d[(d["layer"] == "population") & (d["unit"] == "persons")]
    dated = p[p["year_end"].notna()]
    return (f"Scatter chart of {len(p)} population figures in persons for the Kazakhs of Iran between "
            f"{int(dated['year_end'].min())} and {int(dated['year_end'].max())}, one marker per source, "
            f"with a timeline of {int((d['layer'] == 'event').sum())} events below. Most dated figures "
            f"are between {fmt_num(dated['value'].min())} and {fmt_num(dated['value'].max())}; the "
            f"article's uncorroborated {fmt_num(p[p['uncorroborated']]['value'].max())} and an undated "
            f"blog range stand apart.")


COMMUNITY_DRAWN = ["id", "unit", "period", "year_start", "year_end", "value", "value_low", "value_high",
                   "kind", "status", "uncorroborated", "bound", "scope", "source_key"]
"""The columns of the population rows that drawing "iran-community" uses."""


def iran_community_plotted() -> pd.DataFrame:
    """The rows of "iran-community": every population figure of the Iran table that has a value or
    a range (layer ``population``, by unit, year and id), then the timeline's events (layer
    ``event``, from the events table, in time order), each with its source.

    ``attrs["drawn"]`` holds what the drawing needs besides: ``population``, those population rows
    with the columns :data:`COMMUNITY_DRAWN` (among them ``status``, ``bound``, a lower or upper bound
    or None, and ``scope``, the place the figure refers to, named from the gazetteer); ``events``,
    the events' ``id``, ``date``, ``date_end`` and ``label`` with their start and end as decimal
    years (``x0``, ``x1``)."""
    pop, ev = community_data()
    places = _place_names()
    pop = pop.sort_values(["unit", "year_end", "id"], na_position="last").reset_index(drop=True)
    pop["uncorroborated"] = pop["status"].eq("uncorroborated")
    pop["bound"] = [bound(r) for _, r in pop.iterrows()]
    pop["scope"] = [scope_label(r, places) for _, r in pop.iterrows()]
    ev = ev.copy()
    ev["x0"] = [date_start_x(d) for d in ev["date"]]
    ev["x1"] = [date_end_x(e) if isinstance(e, str) else date_end_x(d) for d, e in zip(ev["date"], ev["date_end"])]
    ev = ev.sort_values(["x0", "id"]).reset_index(drop=True)
    out_pop = pop.assign(layer="population")[[
        "layer", "id", "series", "geography", "period", "year_start", "year_end", "value", "value_low",
        "value_high", "as_printed", "unit", "kind", "uncorroborated", "source_key", "locator"]]
    out_ev = ev.assign(layer="event", series="event", period=[r.date + (f" to {r.date_end}" if isinstance(r.date_end, str) else "")
                                                          for r in ev.itertuples()])
    out_ev = out_ev.rename(columns={"label": "as_printed"})[["layer", "id", "series", "period", "as_printed",
                                                             "source_key", "locator"]]
    out = pd.concat([out_pop, out_ev], ignore_index=True)
    out["uncorroborated"] = out["uncorroborated"].fillna(False).astype(bool)
    out.attrs["drawn"] = {"population": pop[COMMUNITY_DRAWN],
                          "events": ev[["id", "date", "date_end", "label", "x0", "x1"]]}
    return out


@register("iran-community", chapter=CHAPTER,
          title="The Kazakhs of Iran: every published figure, by source",
          caption=_community_caption, alt=_community_alt, data=iran_community_plotted)
def iran_community(d: pd.DataFrame):
    """Draw the rows of :func:`iran_community_plotted` (population figures and events in ``attrs``)."""
    pop, ev = d.attrs["drawn"]["population"].copy(), d.attrs["drawn"]["events"].copy()
    # each figure's label names its source by number; the numbers are listed under the legend
    keys = sorted(pop["source_key"].unique(), key=lambda k: (source_label(k).lower(), k))
    src_no = {k: i + 1 for i, k in enumerate(keys)}
    # one journal column: short lettered labels (value and letter) with the full labels in a key,
    # event names on two lines, the key and the notes wrapped to the column
    narrow = narrow_column()
    key_items: list[str] = []
    wide_chars = 64 if narrow else 110
    fig, axes = style.new_figure(10.8 if narrow else 9.3, nrows=4, ncols=2, layout="constrained",
                                 gridspec_kw=dict(height_ratios=[3.2, 0.75, 2.6, 3.3] if narrow else [3.2, 0.75, 2.2, 1.9],
                                                  width_ratios=[5.0, 3.0 if narrow else 1.35]))
    ax_p, ax_u = axes[0]
    ax_f, ax_fu = axes[1]
    ax_e, ax_eu = axes[2]
    for a in axes[3]:
        a.remove()
    ax_l = fig.add_subplot(axes[3][0].get_gridspec()[3, :])  # the legend, across the figure
    for a in (ax_fu, ax_eu, ax_l):
        a.axis("off")
    ax_f.sharex(ax_p)
    ax_e.sharex(ax_p)
    ax_u.sharey(ax_p)

    dated = pop[pop["year_end"].notna()].copy()
    undated = pop[pop["year_end"].isna()].copy()
    dated["x0"] = [float(s) if pd.notna(s) else float(e) for s, e in zip(dated["year_start"], dated["year_end"])]
    dated["x1"] = dated["year_end"].astype(float)
    dated["x"] = (dated["x0"] + dated["x1"]) / 2
    dated["x"] = dated["x"] + dodge(list(zip(dated["x"], dated["value"], dated["unit"])), 1.4)

    def draw(ax, r, x, top=None):
        hotspots.row(ax, r.id)
        # shape and hue: kind; fill: status; shade: grade (the book's one grammar)
        col, _ = evidence.KIND_STYLE[r.kind]
        grade = evidence.grade_of(r.source_key)
        if pd.notna(r.value_low) and pd.notna(r.value_high) and pd.isna(r.value):
            hi = min(r.value_high, top) if top else r.value_high
            ax.plot([x, x], [r.value_low, hi], color=col, lw=2.2, solid_capstyle="butt")
            ax.plot(x, r.value_low, **evidence.mark(r.kind, grade, r.status, 6))
            if top and r.value_high > top:  # the range runs off the chart: arrow at the top edge
                ax.annotate("", xy=(x, top), xytext=(x, top * 0.9),
                            arrowprops=dict(arrowstyle="-|>", color=col, lw=2.2, mutation_scale=10))
            else:
                ax.plot(x, r.value_high, **evidence.mark(r.kind, grade, r.status, 6))
            return
        if getattr(r, "x0", x) != getattr(r, "x1", x):
            ax.plot([r.x0, r.x1 + 1], [r.value, r.value], color=col, lw=1.4, alpha=0.7)
        ax.plot(x, r.value, zorder=3, **evidence.mark(r.kind, grade, r.status, 7))
        if r.bound == "lower":
            lower_arrow(ax, x, r.value, col)

    # persons, dated; the y axis is scaled to the point figures, a longer range runs off the top
    pers = dated[dated["unit"] == "persons"]
    point_max = float(pop.loc[pop["unit"] == "persons", "value"].max())
    top = point_max * 1.9
    for r in pers.itertuples():
        draw(ax_p, r, r.x)
    hotspots.done(ax_p)
    x_last = float(dated["x1"].max()) + 1
    cut = float(dated["x0"].min()) + (x_last - float(dated["x0"].min())) / 2
    right = pers[pers["x"] >= cut]
    left = pers[pers["x"] < cut]
    label_x = x_last + 2
    ys = slots_for_leaders(right["value"], right["x"],
                           spread_1d(right["value"].tolist(), top * 0.118, lo=top * 0.05, hi=top * 0.95))

    def text_of(r):
        t = f"{fmt_num(r.value)}{'+' if r.bound == 'lower' else ''}"
        if pd.isna(r.year_start):
            t += "\n" + textwrap.fill(r.period, 22)
        elif r.year_start != r.year_end:
            t += f" \u00b7 {int(r.year_start)}\u2013{int(r.year_end)}"
        else:
            t += f" \u00b7 {int(r.year_end)}"
        t += f" [{src_no[r.source_key]}]\n{r.scope}"
        if narrow:
            letter = _letter(len(key_items))
            key_items.append(f"({letter}) " + " ".join(t.split()))
            return f"{fmt_num(r.value)}{'+' if r.bound == 'lower' else ''} ({letter})"
        return t

    for r, ly in zip(right.itertuples(), ys):
        an = ax_p.annotate(text_of(r), xy=(r.x, r.value), xytext=(label_x, ly), fontsize=7.5, va="center",
                           ha="left", arrowprops=dict(arrowstyle="-", color=style.GREY, lw=0.5,
                                                      shrinkA=0, relpos=(0, 0.5),
                                                      # a lower bound's line stops above its arrow
                                                      shrinkB=17 if r.bound == "lower" else 4))
        an.set_in_layout(False)
        hotspots.tag(an, r.id)
    for r in left.itertuples():  # (one column: left of the marker, clear of the lines on the right)
        # left of the marker in both editions: on its right a label ran into the leader lines
        an = ax_p.annotate(text_of(r), xy=(r.x, r.value), xytext=(-7, 0), textcoords="offset points",
                           fontsize=7.5, va="center", ha="right")
        an.set_in_layout(False)
        hotspots.tag(an, r.id)
    ax_p.set_ylim(0, top)
    ax_p.set_ylabel("Kazakhs in Iran (persons)")
    ax_p.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax_p.set_title("A. Population figures in persons, by source", fontsize=9)
    ax_p.grid(axis="y")

    # undated statements
    und = undated[undated["unit"] == "persons"].sort_values("id").reset_index(drop=True)
    for i, r in enumerate(und.itertuples()):
        draw(ax_u, r, i, top=top)
        lab = textwrap.fill(f"\u2018{r.period.split(' (')[0]}\u2019", 9)
        ax_u.text(i, -top * 0.03, lab, ha="center", va="top", fontsize=7.5)
        if pd.isna(r.value):
            txt = f"{fmt_num(r.value_low)}\u2013\n{fmt_num(r.value_high)}\n[{src_no[r.source_key]}]"
            ax_u.text(i, r.value_low - top * 0.04, txt, ha="center", va="top", fontsize=7.5)
        else:
            txt = (fmt_num(r.value) + ("\n" if narrow else " ") + f"[{src_no[r.source_key]}]"
                   + ("\nuncorro-\nborated" if r.uncorroborated else ""))
            ax_u.text(i, r.value - top * 0.04, txt, ha="center", va="top", fontsize=7.5)
    hotspots.done(ax_u)
    ax_u.set_xlim(-0.6, len(und) - 0.4)
    ax_u.set_xticks([])
    ax_u.set_title("Undated", fontsize=9)
    ax_u.tick_params(labelleft=False)
    ax_u.grid(axis="y")
    ax_u.spines["bottom"].set_visible(False)

    # families, dated (no conversion to persons)
    fam = dated[dated["unit"] == "families"]
    for r in fam.itertuples():
        draw(ax_f, r, r.x)
        ax_f.annotate(f"{fmt_num(r.value)} families · {r.scope} · {r.period} [{src_no[r.source_key]}]",
                      xy=(r.x, r.value),
                      xytext=(8, 0), textcoords="offset points", va="center", fontsize=7.5)
    hotspots.done(ax_f)
    fmax = float(fam["value"].max()) if len(fam) else 1.0
    ax_f.set_ylim(0, fmax * 1.8)
    ax_f.set_yticks([0, fmax])
    ax_f.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax_f.set_ylabel("families")
    ax_f.set_title("B. Population figures in families (not converted to persons)", fontsize=9)

    # events: one row each, label beside the bar
    n = len(ev)
    mid = (float(ev["x0"].min()) + float(ev["x1"].max())) / 2
    for i, r in enumerate(ev.itertuples()):
        hotspots.row(ax_e, r.id)
        y = n - 1 - i
        ax_e.barh(y, max(r.x1 - r.x0, 0.6), left=r.x0, height=0.55, color=style.OKABE_ITO["blue"])
        yr = r.date[:4] + (f"–{r.date_end[:4]}" if isinstance(r.date_end, str) and r.date_end[:4] != r.date[:4] else "")
        name = wrap_text(r.label, 24) if narrow else r.label
        if r.x0 < mid:
            ax_e.text(r.x1 + 1, y, f"{yr}  {name}", fontsize=7.5, va="center", ha="left")
        else:
            ax_e.text(r.x0 - 1, y, f"{name}  {yr}", fontsize=7.5, va="center", ha="right")
    hotspots.done(ax_e)
    ax_e.set_ylim(-0.7, n - 0.3)
    ax_e.set_yticks([])
    ax_e.spines["left"].set_visible(False)
    ax_e.set_title("C. Events (from the events table)", fontsize=9)
    ax_p.set_xlim(float(min(ev["x0"].min(), dated["x0"].min())) - 3, label_x + (16 if narrow else 42))
    ax_e.set_xlabel("Year")
    ax_e.set_xticks([t for t in ax_e.get_xticks() if t <= x_last])
    for a in (ax_p, ax_f):
        a.tick_params(labelbottom=False)

    # two columns, each heading with its entries: kind and status; reliability and this chart's own marks
    handles, ncol = evidence.legend_columns(
        evidence.kind_handles(sorted(pop["kind"].unique(), key=list(evidence.KIND_STYLE).index))
        + evidence.status_handles(_present(evidence.STATUS_LABEL, pop["status"])),
        evidence.grade_handles(_present(evidence.GRADES, [evidence.grade_of(k) for k in pop["source_key"]]))
        + [evidence.heading(evidence.OTHER_HEADING),
           Line2D([], [], color=style.GREY, lw=1.4, alpha=0.7, label="line: period the figure covers"),
           Line2D([], [], ls="none", marker="$↑$", ms=7, color=style.GREY, label="↑: lower bound (‘more than’)")])
    if narrow:
        wrap_legend_labels(handles, 24)
    ax_l.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=7.5, ncol=ncol,
                frameon=False, handletextpad=0.3, borderaxespad=0.0, labelspacing=0.3, columnspacing=1.2)
    notes = ([textwrap.fill("Labels: " + "; ".join(key_items), wide_chars)] if key_items else [])
    notes.append(textwrap.fill("Sources: " + "; ".join(f"[{n}] {source_label(k, 60)}" for k, n in src_no.items()),
                               wide_chars))
    ax_l.text(0.0, 0.0, "\n".join(notes), transform=ax_l.transAxes, fontsize=7.5, va="bottom", ha="left")
    fig.suptitle("The Kazakhs of Iran: how many, according to whom", x=0.01, ha="left",
                 fontweight="bold", fontsize=10)
    return fig


# ----------------------------------------------------------------- 2. returnees from Iran

def _destination(geo: str) -> str:
    dest = str(geo).split("->")[-1].strip()
    return "" if dest == "Kazakhstan" else dest


def iran_returnee_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    ir = data.load("iran")
    ret = ir[(ir["series"] == "returnees") & ir["value"].notna()].copy()
    excluded = ret[[is_excluded(n) for n in ret["note"]]]
    ret = ret[[not is_excluded(n) for n in ret["note"]]]
    return ret.sort_values(["unit", "year_end", "value", "id"]).reset_index(drop=True), excluded


def no_series_band(ret: pd.DataFrame, rep: pd.DataFrame) -> tuple[float, float]:
    """The years with no Iran-specific total: from the end of the last period an Iran total
    covers (a returnee row spanning several years) to the end of the latest year in the
    repatriation table."""
    totals = ret[ret["year_start"] < ret["year_end"]]
    last = float(totals["year_end"].max()) + 1
    latest = max(date_end_x(d) for d in rep["date_end"].dropna())
    return last, float(np.ceil(latest))


def _iran_ret_caption(d: pd.DataFrame) -> str:
    tot = d[(d["year_start"] < d["year_end"])]
    last = tot.sort_values("year_end").iloc[-1]
    return (f"Returnees from Iran to Kazakhstan as printed by each source, in persons (top) and in "
            f"families (bottom, not converted). Horizontal lines are totals over a period since 1991 "
            f"(the last is {fmt_num(last['value'])} persons for {last['period']}); single markers are "
            f"organised groups and the parts of the 1993 train transfer settled in three oblasts. "
            f"Logarithmic scales. The shaded band marks the years without any Iran-specific total. "
            f"The person count printed for the 1993 trains is left out as implausible (see the note "
            f"on the chart). {MARKS_SENTENCE} {NUMBERED_SOURCES}")


def _iran_ret_alt(d: pd.DataFrame) -> str:
    tot = d[(d["year_start"] < d["year_end"])].sort_values("year_end")
    groups = sorted({int(y) for y in d.loc[~d.index.isin(tot.index), "year_end"].dropna()})
    group_years = ", ".join(map(str, groups[:-1])) + (" and " if len(groups) > 1 else "") + str(groups[-1])
    return (f"Chart of {len(d)} figures on Kazakhs moving from Iran to Kazakhstan, "
            f"{int(tot['year_start'].min())} to {int(d['year_end'].max())}: totals of "
            f"{' and '.join(fmt_num(v) for v in tot['value'])} "
            f"persons for the 1990s, groups of tens to hundreds of families in {group_years}, and "
            f"a shaded gap after {int(tot['year_end'].max())} where no Iran-specific total exists.")


def iran_returnees_plotted() -> pd.DataFrame:
    """The rows of "iran-returnees": the returnee figures of the Iran table that have a value and are
    not flagged "do not use" (by unit, year, value and id), each with the years without an
    Iran-specific total (``no_series_band``, :func:`no_series_band`).

    ``attrs["drawn"]`` holds what the drawing needs besides: ``returnees``, those rows' ``id``,
    ``geography``, ``period``, years, ``value``, ``unit``, ``kind``, ``status`` and ``source_key``;
    ``excluded``, the rows left out (``id``, ``as_printed``, ``source_key``: named in a note on the
    chart); ``band``, the start and end of that band as decimal years; ``lumped``, the name of the
    repatriation table's origin group that Iran is counted in (after the band starts)."""
    ret, excluded = iran_returnee_data()
    rep = data.load("repatriation")
    b0, b1 = no_series_band(ret, rep)
    oth = rep[(rep["origin_iso3"] == "OTH") & rep["origin"].fillna("").str.contains("Iran")]
    lumped = oth["origin"].iloc[0].split(" (")[0] if len(oth) else "other countries"
    out = ret[["id", "series", "geography", "period", "year_start", "year_end", "value", "as_printed", "unit",
               "kind", "source_key", "locator"]].copy()
    out["no_series_band"] = f"{int(b0)}-{int(b1)}"
    out.attrs["drawn"] = {
        "returnees": ret[["id", "geography", "period", "year_start", "year_end", "value", "unit", "kind",
                          "status", "source_key"]],
        "excluded": excluded[["id", "as_printed", "source_key"]],
        "band": [b0, b1],
        "lumped": lumped,
    }
    return out


@register("iran-returnees", chapter=CHAPTER,
          title="Returnees from Iran to Kazakhstan: totals, groups and the gap after 2000",
          caption=_iran_ret_caption, alt=_iran_ret_alt, data=iran_returnees_plotted)
def iran_returnees(d: pd.DataFrame):
    """Draw the rows of :func:`iran_returnees_plotted` (returnee figures, exclusions and band in ``attrs``)."""
    drawn = d.attrs["drawn"]
    ret, excluded = drawn["returnees"].copy(), drawn["excluded"]
    b0, b1 = drawn["band"]
    lumped = drawn["lumped"]
    # each figure's label names its source by number; the numbers are listed under the legend
    keys = sorted(ret["source_key"].unique(), key=lambda k: (source_label(k).lower(), k))
    src_no = {k: i + 1 for i, k in enumerate(keys)}
    ret["x0"] = ret["year_start"].astype(float)
    ret["x1"] = ret["year_end"].astype(float) + 1
    ret["span"] = ret["year_start"] < ret["year_end"]
    ret["x"] = np.where(ret["span"], ret["x1"], ret["x0"] + 0.5)
    ret["x"] = ret["x"] + dodge(list(zip(ret["x"], ret["value"], ret["unit"], ret["span"])), 0.9)

    narrow = narrow_column()  # one journal column: labels, notes and the key wrapped shorter
    wide_chars = 64 if narrow else 110
    key_items: list[str] = []  # one column: the labels in full, under the legend
    fig, (ax_p, ax_f, ax_l) = style.new_figure(7.6 if narrow else 6.3, nrows=3, layout="constrained",
                                               gridspec_kw=dict(height_ratios=[1.25, 1, 1.6 if narrow else 0.86]))
    ax_f.sharex(ax_p)
    ax_p.tick_params(labelbottom=False)
    ax_l.axis("off")
    for ax, unit, title in ((ax_p, "persons", "A. Persons"), (ax_f, "families", "B. Families (not converted)")):
        sub = ret[ret["unit"] == unit]
        ax.axvspan(b0, b1, color=style.LIGHT_GREY, alpha=0.55, lw=0, zorder=0)
        for r in sub.itertuples():
            hotspots.row(ax, r.id)
            col, _ = evidence.KIND_STYLE[r.kind]
            if r.span:
                ax.plot([r.x0, r.x1], [r.value, r.value], color=col, lw=2)
            ax.plot(r.x, r.value, zorder=3, **evidence.mark(r.kind, evidence.grade_of(r.source_key), r.status, 7))
        hotspots.done(ax)
        ax.set_yscale("log")
        lo, hi = float(sub["value"].min()), float(sub["value"].max())
        ax.set_ylim(10 ** (np.floor(np.log10(lo)) - 0.25), 10 ** (np.ceil(np.log10(hi)) + 0.7))  # room for the note
        ax.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
        ax.set_ylabel(f"Returnees from Iran ({unit})")
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", which="major")
        # labels: right of each marker, spread in log space within a year
        xmid = (float(ret["x0"].min()) + b1) / 2
        for _, g in sub.groupby((sub["x"] // 4).astype(int)):
            ly = spread_1d(np.log10(g["value"]).tolist(), 0.27)
            # the labels of a group start beyond all its markers, so that none lies on a neighbour's
            gx0, gx1 = float(g["x"].min()), float(g["x"].max())
            for r, l in zip(g.itertuples(), ly):
                dest = _destination(r.geography)
                txt = (f"{fmt_num(r.value)} \u00b7 {r.period}" + (f" \u00b7 {dest}" if dest else "")
                       + f" [{src_no[r.source_key]}]")
                left = r.x > xmid
                if narrow:  # one column: the value and a letter; the rest of the label in the key below
                    letter = _letter(len(key_items))
                    key_items.append(f"({letter}) {txt}")
                    txt, chars = f"{fmt_num(r.value)} ({letter})", 40
                else:  # a label alone in its years has room to break onto two lines (and keeps clear of the far side)
                    chars = 52 if len(g) > 1 else 30
                hotspots.tag(ax.annotate(textwrap.fill(txt, chars), xy=(r.x, r.value), xytext=(gx0 - 1.1 if left else gx1 + 1.1, 10 ** l),
                            fontsize=7.5, va="center", ha="right" if left else "left",
                            arrowprops=dict(arrowstyle="-", color=style.GREY, lw=0.4, shrinkA=0, shrinkB=3)
                            ), r.id).set_in_layout(False)
        ytxt = ax.get_ylim()[1] / 1.25
        ax.text(b0 + 0.4, ytxt, textwrap.fill(
            f"No Iran-specific total after {int(b0) - 1}: Iran is counted within \u2018{lumped}\u2019", 30 if narrow else 46),
            fontsize=7.5, va="top", ha="left", color="black", style="italic")
    ax_f.set_xlim(float(ret["x0"].min()) - 1, b1 + 1)
    ax_f.set_xlabel("Year")
    if len(excluded):
        ax_p.text(0.0, -0.08, textwrap.fill(_excluded_note(excluded, "implausible, flagged in the data"), wide_chars),
                  transform=ax_p.transAxes, fontsize=7.5, va="top", color=style.GREY)
    handles, ncol = evidence.legend_columns(  # two columns, each heading with its entries
        evidence.kind_handles(sorted(ret["kind"].unique(), key=list(evidence.KIND_STYLE).index))
        + evidence.status_handles(_present(evidence.STATUS_LABEL, ret["status"])),
        evidence.grade_handles(_present(evidence.GRADES, [evidence.grade_of(k) for k in ret["source_key"]]))
        + [evidence.heading(evidence.OTHER_HEADING),
           Line2D([], [], color=style.GREY, lw=2, label="line: total over the period since 1991"),
           Patch(color=style.LIGHT_GREY, alpha=0.55, label="no Iran-specific total published")])
    if narrow:
        wrap_legend_labels(handles, 24)
    ax_l.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=7.5, frameon=False, borderaxespad=0)
    notes = ([textwrap.fill("Labels: " + "; ".join(key_items), wide_chars)] if key_items else [])
    notes.append(textwrap.fill("Sources: " + "; ".join(f"[{n}] {source_label(k, 60)}" for k, n in src_no.items()), wide_chars))
    ax_l.text(0.0, 0.0, "\n".join(notes), transform=ax_l.transAxes, fontsize=7.5, va="bottom", ha="left")
    fig.suptitle("Returnees from Iran to Kazakhstan, as printed by each source", x=0.01, ha="left",
                 fontweight="bold", fontsize=10)
    return fig


# ------------------------------------------------------------- 3. origins of the 1990s returnees

def origins_1990s_data() -> pd.DataFrame:
    rep = data.load("repatriation")
    d = rep[(rep["series"] == "cumulative") & (rep["unit"] == "persons") & (rep["date_start"] == "1991")]
    last = d[d["origin_iso3"] == "IRN"]["date_end"].max()
    d = d[(d["date_end"] == last)]
    return d.sort_values(["value", "id"], ascending=[True, True]).reset_index(drop=True)


def _orig_caption(d: pd.DataFrame) -> str:
    o = d[d["origin_iso3"] != "ALL"]
    tot = d[d["origin_iso3"] == "ALL"]
    irn = o[o["origin_iso3"] == "IRN"].iloc[0]
    rank = int((o["value"] > irn["value"]).sum()) + 1
    t = (f"Returnees to Kazakhstan from each country of origin, {irn['period']}, in persons, as printed "
         f"by one source (agency data quoted in a journal article). Iran ({fmt_num(irn['value'])}) ranks "
         f"{rank} of {len(o)} origins listed.")
    if len(tot):
        t += (f" The same article gives {fmt_num(tot['value'].iloc[0])} returnees from all origins; the "
              f"origins listed add up to {fmt_num(o['value'].sum())}.")
    return t


def _orig_alt(d: pd.DataFrame) -> str:
    o = d[d["origin_iso3"] != "ALL"].sort_values("value", ascending=False)
    irn = o[o["origin_iso3"] == "IRN"].iloc[0]
    return (f"Horizontal bar chart of returnees by origin country, {irn['period']}: "
            f"{o['origin'].iloc[0]} ({fmt_num(o['value'].iloc[0])}) and {o['origin'].iloc[1]} "
            f"({fmt_num(o['value'].iloc[1])}) lead; Iran, highlighted, has {fmt_num(irn['value'])}.")


def origins_1990s_plotted() -> pd.DataFrame:
    """The rows of "return-origins-1990s": :func:`origins_1990s_data`, the returnees since 1991 by
    origin (and the total for all origins) in the latest release that gives Iran, in persons.

    The drawing needs nothing besides these rows: ``attrs["drawn"]`` is empty."""
    d = origins_1990s_data()
    out = d[["id", "series", "origin", "origin_iso3", "period", "date_start", "date_end", "value",
             "as_printed", "unit", "kind", "source_key", "locator"]]
    out.attrs["drawn"] = {}
    return out


@register("return-origins-1990s", chapter=CHAPTER,
          title="Where the returnees of the 1990s came from",
          caption=_orig_caption, alt=_orig_alt, data=origins_1990s_plotted)
def return_origins_1990s(d: pd.DataFrame):
    """Draw the rows of :func:`origins_1990s_plotted`: a bar per origin (the total is not drawn)."""
    o = d[d["origin_iso3"] != "ALL"].reset_index(drop=True)
    fig, ax = style.new_figure(3.4, layout="constrained")
    colors = [style.OKABE_ITO["vermillion"] if c == "IRN" else style.OKABE_ITO["sky_blue"] for c in o["origin_iso3"]]
    hatches = ["xx" if c == "IRN" else "" for c in o["origin_iso3"]]
    bars = hotspots.tag(ax.barh(range(len(o)), o["value"], color=colors, edgecolor="black", lw=0.5), list(o["id"]))
    for b, h in zip(bars, hatches):
        b.set_hatch(h)
    ax.set_yticks(range(len(o)), [f"{n} ({c})" for n, c in zip(o["origin"], o["origin_iso3"])])
    for i, r in enumerate(o.itertuples()):
        hotspots.tag(ax.text(r.value, i, f"  {fmt_num(r.value)}", va="center", fontsize=7.5,
                             fontweight="bold" if r.origin_iso3 == "IRN" else "normal"), r.id)
    ax.set_xlim(0, float(o["value"].max()) * 1.15)
    ax.xaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax.set_xlabel(f"Returnees to Kazakhstan, {o['period'].iloc[0]} (persons)")
    ax.set_title(f"Returnees by country of origin, {o['period'].iloc[0]} (Iran highlighted)")
    ax.grid(axis="x")
    return fig


# ----------------------------------------------------------------- 4. origin shares since 1991

def is_misreported(note) -> bool:
    """The data's note says the figure is probably mislabelled (period shares given as cumulative)."""
    return "misreport" in str(note or "").lower()


def share_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(plotted period/cumulative share rows, excluded rows, rows of origins not drawn)."""
    rep = data.load("repatriation")
    d = rep[rep["series"].isin(["origin_share_period", "origin_share_cumulative"]) & rep["value"].notna()].copy()
    excluded = d[[is_excluded(n) for n in d["note"]]]
    d = d[[not is_excluded(n) for n in d["note"]]]
    other = d[~d["origin_iso3"].isin(ORIGINS)]
    d = d[d["origin_iso3"].isin(ORIGINS)].copy()
    d["x"] = [date_end_x(v) for v in d["date_end"]]
    d = d.sort_values(["series", "origin_iso3", "x", "id"]).reset_index(drop=True)
    return d, excluded, other


def _share_caption(d: pd.DataFrame) -> str:
    on_lines = d[~d["misreported"]]  # the probable errors are crosses, on no line
    p = on_lines[on_lines["series"] == "origin_share_period"]
    c = on_lines[on_lines["series"] == "origin_share_cumulative"]
    return (f"Origin of returnees as a percentage, in two different senses that must not be confused, "
            f"one small panel per country of origin (each with its own scale). Solid line: share of the "
            f"people granted returnee status within one year up to the release date "
            f"({p['source_key'].nunique()} releases, {p['date_end'].min()[:4]}\u2013{p['date_end'].max()[:4]}). "
            f"Dashed line: share of all returnees since 1991 ({c['source_key'].nunique()} sources). Iran is not "
            f"published separately: it is part of \u2018other countries\u2019. Crosses are "
            f"figures presented as shares since 1991 that are period shares (probable errors, "
            f"shown as such). Lines only connect releases in time order. {MARKS_SENTENCE}")


def _share_alt(d: pd.DataFrame) -> str:
    p = d[d["series"] == "origin_share_period"]
    c = d[(d["series"] == "origin_share_cumulative") & ~d["misreported"]]
    uzb = c[c["origin_iso3"] == "UZB"]["value"]
    chn_p = p[p["origin_iso3"] == "CHN"]["value"]
    return (f"Six small dot-and-line charts of origin shares, one per country of origin. Shares of arrivals "
            f"within a year (solid lines): China ranges from {fmt_num(chn_p.min())}% to {fmt_num(chn_p.max())}%, "
            f"leading in 2020 and 2024 while Uzbekistan leads in other years. Shares of all returnees since "
            f"1991 (dashed lines): Uzbekistan stays between {fmt_num(uzb.min())}% and {fmt_num(uzb.max())}%.")


def origin_shares_plotted() -> pd.DataFrame:
    """The rows of "return-origin-shares": the origin shares (within a year, and since 1991) of the
    origins in :data:`ORIGINS` that are not flagged "do not use", by series, origin, date and id;
    probable errors (period shares presented as shares since 1991) are kept, flagged
    ``misreported`` and ``shown_as`` "error" (drawn as crosses).

    ``attrs["drawn"]`` holds what the drawing needs besides: ``shares``, those rows' ``id``,
    ``series``, ``origin_iso3``, ``x`` (date of the release as a decimal year), ``value``, ``kind``,
    ``status``, ``source_key`` and ``misreported``; ``excluded``, the rows left out as typos, and
    ``other``, the shares of origins not drawn (both named in a note under the chart)."""
    d, excluded, other = share_data()
    # probable errors (period shares presented as shares since 1991) are shown as such, crossed
    d["misreported"] = d["status"].eq("probable_error")
    d["shown_as"] = np.where(d["misreported"], "error", "data")
    out = d[["id", "series", "origin", "origin_iso3", "period", "date_start", "date_end", "value", "as_printed",
             "unit", "kind", "misreported", "shown_as", "source_key", "locator"]]
    out.attrs["drawn"] = {
        "shares": d[["id", "series", "origin_iso3", "x", "value", "kind", "status", "source_key", "misreported"]],
        "excluded": excluded[["id", "origin", "as_printed", "source_key"]],
        "other": other[["id", "origin", "period", "value"]],
    }
    return out


@register("return-origin-shares", chapter=CHAPTER,
          title="Origins of returnees: shares within a year versus shares since 1991",
          caption=_share_caption, alt=_share_alt, data=origin_shares_plotted)
def return_origin_shares(plotted: pd.DataFrame):
    """Draw the rows of :func:`origin_shares_plotted` (shares, exclusions and other origins in ``attrs``)."""
    drawn = plotted.attrs["drawn"]
    d, excluded, other = drawn["shares"], drawn["excluded"], drawn["other"]
    import matplotlib.pyplot as plt

    # one small panel per country of origin, both kinds of share in it: the figures drawn with the
    # book's marks (kind, status, grade), the kind of share told by the line (solid or dashed)
    # one journal column: two panels a row (three rows), the key's labels and the notes wrapped
    narrow = narrow_column()
    ncol = 2 if narrow else 3
    nrow = -(-len(ORIGINS) // ncol)
    fig = plt.figure(figsize=style.figsize(9.6 if narrow else 7.6), layout="constrained")
    gs = fig.add_gridspec(nrow + 1, ncol, height_ratios=[1] * nrow + [1.45 if narrow else 0.95])
    axes = []
    for i, o in enumerate(ORIGINS):
        axes.append(fig.add_subplot(gs[i // ncol, i % ncol], sharex=axes[0] if axes else None))
    ax_l = fig.add_subplot(gs[nrow, :])
    ax_l.axis("off")
    series_style = {"origin_share_period": ("-", "share of the year\u2019s arrivals (year to date), NOT since 1991"),
                    "origin_share_cumulative": ("--", "share of ALL returnees since 1991 (cumulative)")}
    for i, (ax, o) in enumerate(zip(axes, ORIGINS)):
        g = d[d["origin_iso3"] == o]
        for series, (ls, _) in series_style.items():
            sub = g[g["series"] == series]
            ok = sub[~sub["misreported"]]
            # shares within a year: a line only between releases less than 1.5 years apart; shares
            # since 1991 change slowly, so all their releases are joined
            gap = 1.5 if series == "origin_share_period" else 99.0
            lx, ly = break_gaps(ok["x"].tolist(), ok["value"].tolist(), gap)
            ax.plot(lx, ly, color=style.GREY, lw=1.0, ls=ls, zorder=2)
            if len(ok):
                evidence.plot_marks(ax, ok, size=5.0, zorder=3)
            for bx_, by_, bid_ in zip(sub.loc[sub["misreported"], "x"], sub.loc[sub["misreported"], "value"],
                                      sub.loc[sub["misreported"], "id"]):
                hotspots.tag(evidence.error_mark(ax, bx_, by_, size=6.5), bid_)
        top = float(g["value"].max()) if len(g) else 10.0
        ax.set_ylim(0, max(10.0, np.ceil(top * 1.25 / 10) * 10))
        ax.set_title(ORIGIN_LABEL[o], fontsize=9)
        ax.grid(axis="y")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:g}%")
        if i % ncol == 0:
            ax.set_ylabel("% of returnees")
        if i < len(ORIGINS) - ncol:
            ax.tick_params(labelbottom=False)
        bad = g[g["misreported"]]
        if len(bad):
            bx, by = float(bad["x"].max()), float(bad["value"].max())
            ax.annotate(textwrap.fill(f"as reported by {source_label(bad['source_key'].iloc[0])}: "
                                      f"probably period shares", 22),
                        xy=(bx, by), xytext=(bx - 2.0, ax.get_ylim()[1] * 0.97), ha="right", va="top", fontsize=7.5,
                        arrowprops=dict(arrowstyle="-", color=style.GREY, lw=0.6))
    x0, x1 = float(d["x"].min()), float(d["x"].max())
    axes[0].set_xlim(np.floor(x0) - 0.5, np.ceil(x1) + 0.5)
    for ax in axes[len(ORIGINS) - ncol:]:
        ax.set_xlabel("Date of the release")
    notes = []
    if len(excluded):
        notes.append(_excluded_note(excluded.assign(as_printed=[f"{o} {a}" for o, a in zip(excluded["origin"], excluded["as_printed"])]),
                                    "evident typo, flagged in the data"))
    if len(other):
        notes.append("Listed by one source only, not drawn: " + ", ".join(
            f"{r.origin} {fmt_num(r.value)}% ({r.period})" for r in other.sort_values("id").itertuples()))
    if notes:
        ax_l.text(0.0, 0.0, "\n".join(textwrap.fill(n, 64 if narrow else 105) for n in notes), transform=ax_l.transAxes,
                  fontsize=7.5, va="bottom", ha="left", color=style.GREY)
    shown = d[~d["misreported"]]
    handles, ncol = evidence.legend_columns(  # two columns, each heading with its entries
        evidence.kind_handles(sorted(shown["kind"].unique(), key=list(evidence.KIND_STYLE).index))
        + evidence.status_handles(_present(evidence.STATUS_LABEL, shown["status"])),
        evidence.grade_handles(_present(evidence.GRADES, [evidence.grade_of(k) for k in shown["source_key"]]))
        + [evidence.heading(evidence.OTHER_HEADING)]
        + [Line2D([], [], color=style.GREY, lw=0.9, ls=ls, label=lab) for ls, lab in series_style.values()]
        + [Line2D([], [], color=style.GREY, marker="x", ls="none",
                  label="cross: probable error (a period share given as since 1991)")])
    # wrapped in the book too: at full length the key was wider than the panels and squeezed them
    wrap_legend_labels(handles, 24 if narrow else 40)
    ax_l.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=7.5, frameon=False, borderaxespad=0,
                labelspacing=0.3, handletextpad=0.4)
    fig.suptitle("Where returnees came from: two kinds of share", x=0.01, ha="left", fontweight="bold", fontsize=10)
    return fig


# ------------------------------------------------------- 5. the national return, 1991 to today

def cumulative_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(cumulative rows for all origins in persons, excluded ones, reported period arrivals)."""
    rep = data.load("repatriation")
    cum = rep[(rep["series"] == "cumulative") & (rep["origin_iso3"] == "ALL") & (rep["unit"] == "persons")
              & rep["value"].notna()].copy()
    excluded = cum[[is_excluded(n) for n in cum["note"]]]
    cum = cum[[not is_excluded(n) for n in cum["note"]]].copy()
    cum["x"] = [date_end_x(v) for v in cum["date_end"]]
    cum["bound"] = [bound(r) for _, r in cum.iterrows()]
    cum = cum.sort_values(["x", "id"]).reset_index(drop=True)
    arr = rep[(rep["series"] == "period_arrivals") & (rep["origin_iso3"] == "ALL") & (rep["unit"] == "persons")
              & rep["value"].notna() & rep["date_start"].notna()].copy()
    arr = arr[[not is_excluded(n) for n in arr["note"]]]
    arr["x0"] = [date_start_x(v) for v in arr["date_start"]]
    arr["x1"] = [date_end_x(v) for v in arr["date_end"]]
    return cum, excluded, arr.sort_values(["x1", "id"]).reset_index(drop=True)


def derived_arrivals(cum: pd.DataFrame) -> pd.DataFrame:
    """Differences between consecutive official cumulative figures (official statistics, point
    figures only: no lower bounds)."""
    base = cum[(cum["kind"] == "official_statistics") & cum["bound"].isna()]
    return derive_differences(base)


def _cum_caption(d: pd.DataFrame) -> str:
    c = d[d["layer"] == "cumulative"]
    der = d[d["layer"] == "derived"]
    return (f"A: returnees to Kazakhstan since 1991, all origins, in persons: each marker is one "
            f"figure as printed ({len(c)} figures from {c['source_key'].nunique()} sources), marker by "
            f"kind of source; the thin line joins the official statistics in date order; arrows mark "
            f"lower bounds. B: arrivals within a period, log scale. Solid lines are periods reported "
            f"by a source (most are year-to-date releases); hatched outlined boxes are {len(der)} "
            f"differences between two consecutive official cumulative figures, computed for this book "
            f"and not published as such (the CSV names the two rows each comes from).")


def _cum_alt(d: pd.DataFrame) -> str:
    c = d[d["layer"] == "cumulative"]
    first, last = c.sort_values("x").iloc[0], c.sort_values("x").iloc[-1]
    return (f"Two-panel chart. A: cumulative returnees rise from {fmt_num(first['value'])} "
            f"({first['period']}) to {fmt_num(last['value'])} ({last['period']}), with scattered "
            f"disagreeing estimates in the early 2000s. B: reported arrivals per period, mostly "
            f"10,000 to 45,000 a year, against hatched derived differences between cumulative totals.")


def cumulative_plotted() -> pd.DataFrame:
    """The rows of "return-cumulative": the cumulative returnees since 1991 for all origins in
    persons (layer ``cumulative``, by date), the arrivals reported for a period (layer
    ``reported_period``) and the arrivals derived here from two consecutive official cumulative
    figures (layer ``derived``, :func:`derived_arrivals`, with the ids of the two rows).

    ``attrs["drawn"]`` holds what the drawing needs besides: ``cumulative`` (``id``, ``x``,
    ``value``, ``kind``, ``status``, ``bound``, ``source_key``), ``arrivals`` (``id``, start and end
    ``x0``, ``x1``, ``value``, ``kind``, ``status``, ``source_key``) and ``derived`` (``id``, ``x0``,
    ``x1``, ``value``) with unrounded dates as decimal years, and ``excluded``, the cumulative rows
    flagged as errors (``id``, ``as_printed``, ``source_key``: named in a note on the chart)."""
    cum, excluded, arr = cumulative_data()
    der = derived_arrivals(cum)
    cols = ["layer", "id", "period", "date_start", "date_end", "value", "as_printed", "unit", "kind",
            "derived", "from_id", "to_id", "x", "source_key", "locator"]
    c = cum.assign(layer="cumulative", derived=False, from_id=None, to_id=None)
    a = arr.assign(layer="reported_period", derived=False, from_id=None, to_id=None, x=arr["x1"])
    dd = der.assign(layer="derived", date_start=None, date_end=None, as_printed=None, unit="persons",
                    kind="derived (computed for this book)", x=der["x1"])
    out = pd.concat([c[cols], a[cols], dd[cols]], ignore_index=True)
    out["x"] = out["x"].round(4)
    out.attrs["drawn"] = {
        "cumulative": cum[["id", "x", "value", "kind", "status", "bound", "source_key"]],
        "arrivals": arr[["id", "x0", "x1", "value", "kind", "status", "source_key"]],
        "derived": der[["id", "x0", "x1", "value"]],
        "excluded": excluded[["id", "as_printed", "source_key"]],
    }
    return out


@register("return-cumulative", chapter=CHAPTER,
          title="The national return since 1991: cumulative totals and arrivals per period",
          caption=_cum_caption, alt=_cum_alt, data=cumulative_plotted)
def return_cumulative(d: pd.DataFrame):
    """Draw the rows of :func:`cumulative_plotted` (cumulative, reported and derived figures in ``attrs``)."""
    drawn = d.attrs["drawn"]
    cum, excluded, arr, der = drawn["cumulative"], drawn["excluded"], drawn["arrivals"], drawn["derived"]
    narrow = narrow_column()  # one journal column: legend labels wrapped, the note under the legend
    fig, (ax_a, ax_b, ax_l) = style.new_figure(7.0, nrows=3, layout="constrained",
                                               gridspec_kw=dict(height_ratios=[1.3, 1, 0.75 if narrow else 0.42]))
    ax_b.sharex(ax_a)
    ax_l.axis("off")
    off = cum[cum["kind"] == "official_statistics"]
    ax_a.plot(off["x"], off["value"], color=style.GREY, lw=0.8, zorder=1)
    kinds = sorted(cum["kind"].unique())
    for k in kinds:
        g = cum[cum["kind"] == k]
        col, _ = evidence.KIND_STYLE[k]
        evidence.plot_marks(ax_a, g, size=5.5, zorder=3)
        for r in g[g["bound"] == "lower"].itertuples():
            lower_arrow(ax_a, r.x, r.value, col)
    # name the sources that stand apart from the official line
    off_x, off_y = off["x"].to_numpy(), off["value"].to_numpy()
    for r in cum[cum["kind"] != "official_statistics"].itertuples():
        ref = float(np.interp(r.x, off_x, off_y))
        if abs(r.value - ref) > 0.15 * ref:
            hotspots.tag(ax_a.annotate(f"{source_label(r.source_key, 24)}: {fmt_num(r.value)}", xy=(r.x, r.value),
                                       xytext=(6, 0), textcoords="offset points", fontsize=7.5, va="center"), r.id)
    ax_a.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax_a.set_ylim(0, float(cum["value"].max()) * 1.12)
    ax_a.set_ylabel("Returnees since 1991 (persons)")
    ax_a.set_title("A. Cumulative returnees since 1991, all origins, each figure as printed", fontsize=9)
    ax_a.grid(axis="y")
    if len(excluded) and narrow:
        ax_l.text(0.0, 0.0, textwrap.fill(_excluded_note(excluded, "flagged as an error in the data"), 56),
                  transform=ax_l.transAxes, fontsize=7.5, ha="left", va="bottom", color=style.GREY)
    elif len(excluded):
        ax_a.text(0.99, 0.03, textwrap.fill(_excluded_note(excluded, "flagged as an error in the data"), 50),
                  transform=ax_a.transAxes, fontsize=7.5, ha="right", va="bottom", color=style.GREY)

    # B: reported periods and derived differences
    for r in der.itertuples():
        if r.value <= 0:
            continue
        hotspots.tag(ax_b.add_patch(Rectangle((r.x0, r.value / DERIVED_BAND), r.x1 - r.x0, r.value * (DERIVED_BAND - 1 / DERIVED_BAND),
                                 fill=False, hatch=DERIVED_HATCH, edgecolor=style.OKABE_ITO["vermillion"],
                                 lw=0.8, zorder=1)), r.id)
    for r in arr.itertuples():
        hotspots.row(ax_b, r.id)
        col, _ = evidence.KIND_STYLE[r.kind]
        ax_b.plot([r.x0, r.x1], [r.value, r.value], color=col, lw=2.2, solid_capstyle="butt", zorder=3)
        ax_b.plot(r.x1, r.value, zorder=3, **evidence.mark(r.kind, evidence.grade_of(r.source_key), r.status, 4.5))
    hotspots.done(ax_b)
    ax_b.set_yscale("log")
    vals = pd.concat([der["value"], arr["value"]])
    ax_b.set_ylim(10 ** np.floor(np.log10(vals[vals > 0].min())), 10 ** np.ceil(np.log10(vals.max())))
    ax_b.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax_b.set_ylabel("Arrivals in the period (persons)")
    ax_b.set_title("B. Arrivals per period: reported (solid) or derived (hatched)", fontsize=9)
    ax_b.set_xlabel("Year")
    ax_b.grid(axis="y")
    ax_a.set_xlim(np.floor(float(cum["x"].min())) - 1, np.ceil(float(cum["x"].max())) + 1)
    ax_a.tick_params(labelbottom=False)
    shown = pd.concat([cum, arr])
    marks = evidence.kind_handles(sorted(shown["kind"].unique(), key=list(evidence.KIND_STYLE).index))
    marks += [evidence.heading(evidence.OTHER_HEADING),
              Line2D([], [], color=style.GREY, lw=0.8, label="line: official statistics in date order"),
              Line2D([], [], ls="none", marker="$\u2191$", color=style.GREY, ms=7, label="lower bound"),
              Line2D([], [], color=evidence.KIND_STYLE["official_statistics"][0], lw=2.2,
                     label="B: reported period (start to end)"),
              Patch(fill=False, hatch=DERIVED_HATCH, edgecolor=style.OKABE_ITO["vermillion"],
                    label="B: DERIVED difference (computed here)")]
    grammar = evidence.legend_handles(statuses=_present(evidence.STATUS_LABEL, shown["status"]),
                                      grades=_present(evidence.GRADES, [evidence.grade_of(k) for k in shown["source_key"]]))
    # one group a column: the headings of the status and the reliability stay with their entries
    handles, ncol = evidence.legend_columns(marks, grammar)
    if narrow:
        wrap_legend_labels(handles, 24)
    ax_l.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=7.5, frameon=False, borderaxespad=0)
    fig.suptitle("The return of ethnic Kazakhs to Kazakhstan, 1991 to today", x=0.01, ha="left",
                 fontweight="bold", fontsize=10)
    return fig


# ------------------------------------------------------- 6. quotas, arrivals and settlement

def is_full_year(row) -> bool:
    """A period_arrivals row covers a whole calendar year: start and end are the same bare year
    and the period text does not say it is partial."""
    ds, de, per = str(row.get("date_start") or ""), str(row.get("date_end") or ""), str(row.get("period") or "").lower()
    return bool(re.fullmatch(r"\d{4}", ds)) and ds == de and "partial" not in per and "since the start" not in per


def is_regional_quota(row) -> bool:
    return "regional" in str(row.get("measure") or "").lower()


def quota_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(national quotas and arrivals for all origins within one calendar year, settlement rows for
    the resettlement regions, settlement rows for the oblasts)."""
    rep = data.load("repatriation")
    q = rep[(rep["series"] == "quota") & (rep["destination"] == "Kazakhstan") & rep["unit"].isin(["persons", "families"])
            & rep["value"].notna() & (rep["date_start"] == rep["date_end"])].copy()
    q["role"] = ["regional quota" if is_regional_quota(r) else "immigration quota" for _, r in q.iterrows()]
    a = rep[(rep["series"] == "period_arrivals") & (rep["origin_iso3"] == "ALL") & rep["unit"].isin(["persons", "families"])
            & rep["value"].notna() & rep["date_start"].notna()].copy()
    a = a[[str(s)[:4] == str(e)[:4] for s, e in zip(a["date_start"], a["date_end"])]]
    a["role"] = ["arrivals, full year" if is_full_year(r) else "arrivals, part of the year" for _, r in a.iterrows()]
    st = rep[(rep["series"] == "settlement") & rep["destination"].str.startswith("resettlement")].copy()
    st["role"] = "settled in the resettlement regions (part of the year)"
    qa = pd.concat([q, a, st], ignore_index=True)
    qa["year"] = [int(str(v)[:4]) for v in qa["date_end"]]
    settle = rep[(rep["series"] == "settlement") & ~rep["destination"].str.startswith("resettlement")].copy()
    return qa.sort_values(["unit", "year", "role", "id"]).reset_index(drop=True), settle


QUOTA_STYLE = {
    "immigration quota": ("black", 14),
    "regional quota": (style.OKABE_ITO["orange"], 14),
}
"""Quotas are drawn as horizontal dashes (a ceiling for the year); the figures (arrivals, settled)
with the book's marks, large for a whole year and small for part of a year."""
SETTLED = "settled in the resettlement regions (part of the year)"


def _quota_caption(d: pd.DataFrame) -> str:
    q = d[d["layer"] == "quota_arrivals"]
    s = d[d["layer"] == "settlement"]
    mg = s[(s["destination"] == "Mangystau oblast") & (s["unit"] == "percent")]
    t = (f"A and B: quotas set by decree, resolution or ministry order (horizontal dashes; orange = "
         f"regional quota for resettlement regions only) against arrivals reported for the same year "
         f"(large mark = whole year, small mark = part of the year; the few counts of returnees settled in "
         f"the resettlement regions are labelled), in families (A) and persons (B); the "
         f"units are never converted. {MARKS_SENTENCE} C: where returnees settled, as shares of all returnees since 1991 "
         f"in one release")
    if len(mg):
        t += f" (Mangystau: {fmt_num(mg['value'].iloc[0])}%)"
    t += "; D: returnees settled in Mangystau oblast, as printed by two sources."
    return t


def _quota_alt(d: pd.DataFrame) -> str:
    q = d[(d["layer"] == "quota_arrivals") & (d["role"] == "immigration quota") & (d["unit"] == "families")]
    return (f"Four-panel chart. Quotas in families ranged from {fmt_num(q['value'].min())} to "
            f"{fmt_num(q['value'].max())} a year; after 2015 the regional quotas of a few thousand persons "
            f"are far below the number of arrivals. Bar charts show the regions where returnees settled, "
            f"with Mangystau highlighted.")


def quotas_settlement_plotted() -> pd.DataFrame:
    """The rows of "return-quotas-settlement": the national quotas, the arrivals within one calendar
    year and the counts settled in the resettlement regions (layer ``quota_arrivals``, with their
    ``role``; :func:`quota_data`), then the shares of all returnees settled by region in one release
    (layer ``settlement``, role "share by region", largest first) and the returnees settled in
    Mangystau oblast in persons (role "Mangystau persons", by date).

    ``attrs["drawn"]`` holds what the drawing needs besides: ``quota_arrivals`` (``id``, ``unit``,
    ``year``, ``role``, ``value``, ``kind``, ``status``, ``source_key``), ``shares`` (``id``,
    ``destination``, ``period``, ``value``) and ``mangystau`` (``id``, ``period``, ``value``,
    ``kind``, ``source_key``), in the order of the plotted rows."""
    qa, settle = quota_data()
    sh = settle[settle["unit"] == "percent"].sort_values(["value", "id"], ascending=[False, True]).reset_index(drop=True)
    mg = settle[(settle["destination"] == "Mangystau oblast") & (settle["unit"] == "persons")].copy()
    mg["x"] = [date_end_x(v) for v in mg["date_end"]]
    mg = mg.sort_values(["x", "date_start", "id"], na_position="last").reset_index(drop=True)
    cols_out = ["layer", "id", "series", "role", "destination", "period", "date_start", "date_end", "value",
                "as_printed", "unit", "kind", "source_key", "locator"]
    out = pd.concat([qa.assign(layer="quota_arrivals"),
                     sh.assign(layer="settlement", role="share by region"),
                     mg.assign(layer="settlement", role="Mangystau persons")], ignore_index=True)[cols_out]
    out.attrs["drawn"] = {
        "quota_arrivals": qa[["id", "unit", "year", "role", "value", "kind", "status", "source_key"]],
        "shares": sh[["id", "destination", "period", "value"]],
        "mangystau": mg[["id", "period", "value", "kind", "source_key"]],
    }
    return out


@register("return-quotas-settlement", chapter=CHAPTER,
          title="Quotas against arrivals, and where returnees settled",
          caption=_quota_caption, alt=_quota_alt, data=quotas_settlement_plotted)
def return_quotas_settlement(plotted: pd.DataFrame):
    """Draw the rows of :func:`quotas_settlement_plotted` (quotas and arrivals, shares by region and the
    Mangystau counts in ``attrs``)."""
    drawn = plotted.attrs["drawn"]
    qa, sh, mg = drawn["quota_arrivals"], drawn["shares"], drawn["mangystau"]
    fig = __import__("matplotlib.pyplot", fromlist=["figure"]).figure(figsize=style.figsize(8.4), layout="constrained")
    gs = fig.add_gridspec(4, 2, height_ratios=[1, 1, 0.8, 1.05])
    ax_f = fig.add_subplot(gs[0, :])
    ax_p = fig.add_subplot(gs[1, :], sharex=ax_f)
    ax_l = fig.add_subplot(gs[2, :])
    ax_l.axis("off")
    ax_s = fig.add_subplot(gs[3, 0])
    ax_m = fig.add_subplot(gs[3, 1])
    for ax, unit, title in ((ax_f, "families", "A. Families"), (ax_p, "persons", "B. Persons")):
        sub = qa[qa["unit"] == unit].copy()
        sub["x"] = sub["year"] + dodge(list(zip(sub["year"], sub["role"])), 0.35)
        for role, (col, ms) in QUOTA_STYLE.items():
            g = sub[sub["role"] == role]
            if len(g):
                hotspots.tag(ax.plot(g["x"], g["value"], marker="_", ms=ms, mew=2.5, color=col, ls="none", zorder=3),
                             list(g["id"]))
        figs = sub[~sub["role"].isin(list(QUOTA_STYLE))]
        evidence.plot_marks(ax, figs[figs["role"] != "arrivals, part of the year"], size=6.5, zorder=3)
        evidence.plot_marks(ax, figs[figs["role"] == "arrivals, part of the year"], size=4.5, zorder=3)
        st = figs[figs["role"] == SETTLED].sort_values("x")
        if len(st):
            r = st.iloc[-1]
            ax.annotate(textwrap.fill("settled in the resettlement regions", 22), xy=(r["x"], r["value"]),
                        xytext=(r["x"] - 4.0, r["value"] + float(sub["value"].max()) * 0.35),
                        fontsize=7.5, ha="right", va="bottom",
                        arrowprops=dict(arrowstyle="-", color=style.GREY, lw=0.5, shrinkA=0, shrinkB=3))
        ax.set_ylabel(f"{unit} per year")
        ax.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
        ax.set_ylim(0, float(sub["value"].max()) * 1.12)
        ax.set_title(title + ": quotas and arrivals", fontsize=9)
        ax.grid(axis="y")
    ax_f.tick_params(labelbottom=False)
    ax_p.set_xlabel("Year")
    shown = qa[~qa["role"].isin(list(QUOTA_STYLE))]
    marks = evidence.kind_handles(sorted(shown["kind"].unique(), key=list(evidence.KIND_STYLE).index))
    marks += [evidence.heading(evidence.OTHER_HEADING)]
    marks += [Line2D([], [], color=c, marker="_", ms=ms, mew=2.5, ls="none", label=r) for r, (c, ms) in QUOTA_STYLE.items()]
    marks += [Line2D([], [], ls="none", marker="o", ms=6.5, mfc=style.GREY, mec=style.GREY, label="large mark: a whole year"),
              Line2D([], [], ls="none", marker="o", ms=4.5, mfc=style.GREY, mec=style.GREY, label="small mark: part of the year")]
    grammar = evidence.legend_handles(statuses=_present(evidence.STATUS_LABEL, shown["status"]),
                                      grades=_present(evidence.GRADES, [evidence.grade_of(k) for k in shown["source_key"]]))
    handles, ncol = evidence.legend_columns(marks, grammar)  # one group a column, headings with their entries
    ax_l.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=7.5, frameon=False, borderaxespad=0,
                handletextpad=0.4, columnspacing=1.2, labelspacing=0.3)

    # C: shares by region in one release
    cols = [style.OKABE_ITO["vermillion"] if "Mangystau" in d else style.OKABE_ITO["sky_blue"] for d in sh["destination"]]
    bars = hotspots.tag(ax_s.barh(range(len(sh)), sh["value"], color=cols, edgecolor="black", lw=0.5), list(sh["id"]))
    for b, d in zip(bars, sh["destination"]):
        b.set_hatch("xx" if "Mangystau" in d else "")
    ax_s.set_yticks(range(len(sh)), [d.replace(" oblast", "") for d in sh["destination"]])
    for i, v in enumerate(sh["value"]):
        ax_s.text(v, i, f" {fmt_num(v)}%", va="center", fontsize=7.5)
    ax_s.set_xlim(0, float(sh["value"].max()) * 1.3)
    ax_s.invert_yaxis()
    per = sh["period"].iloc[0] if len(sh) else ""
    ax_s.set_xlabel("% of all returnees since 1991")
    ax_s.set_title(textwrap.fill(f"C. Share settled by region, {per}", 34), fontsize=9)

    # D: Mangystau counts, persons
    labels = [f"{r.period.split(' (')[0]}\n{source_label(r.source_key, 20)}" for r in mg.itertuples()]
    hotspots.tag(ax_m.barh(range(len(mg)), mg["value"], color=[evidence.KIND_STYLE[k][0] for k in mg["kind"]],
                           edgecolor="black", lw=0.5), list(mg["id"]))
    ax_m.set_yticks(range(len(mg)), [textwrap.fill(l, 24) for l in labels], fontsize=7.5)
    for i, v in enumerate(mg["value"]):
        ax_m.text(v, i, f" {fmt_num(v)}", va="center", fontsize=7.5)
    ax_m.set_xlim(0, float(mg["value"].max()) * 1.45)
    ax_m.invert_yaxis()
    ax_m.xaxis.set_major_formatter(lambda v, _: style.fmt_people(v))
    ax_m.set_xlabel("Returnees settled in Mangystau (persons)")
    ax_m.set_title("D. Mangystau oblast, persons", fontsize=9)
    fig.suptitle("Quotas, arrivals and settlement of returnees", x=0.01, ha="left", fontweight="bold", fontsize=10)
    return fig
