"""Figures of the chapter *The Kazakhs of Iran and the return to Kazakhstan*.

Every figure reads its tables through :func:`kazdiaspora.data.load` (``iran``,
``repatriation``, ``events``, ``gazetteer``) and returns exactly the rows it draws, with their
``source_key`` and ``locator``. No number or date is typed here: labels, captions, alt texts
and the "no series" annotations are computed from the tables.

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
from matplotlib.patches import Patch

from .. import bib, data, style
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
ORIGIN_STYLE = {
    "UZB": (style.OKABE_ITO["blue"], "o"),
    "CHN": (style.OKABE_ITO["vermillion"], "s"),
    "MNG": (style.OKABE_ITO["bluish_green"], "^"),
    "TKM": (style.OKABE_ITO["orange"], "D"),
    "RUS": (style.OKABE_ITO["reddish_purple"], "v"),
    "OTH": (style.GREY, "P"),
}
SOURCE_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h", "p", "*", "<", ">")
DERIVED_HATCH = "////"

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
            f"of Gorgan, Golestan province, all Iran). Hollow markers ({len(unc)}) are the seed "
            f"article's figures that the research pack could not corroborate; undated statements are "
            f"in the right-hand column. The bottom strip shows dated events from the events table.")


def _community_alt(d: pd.DataFrame) -> str:
    p = d[(d["layer"] == "population") & (d["unit"] == "persons")]
    dated = p[p["year_end"].notna()]
    return (f"Scatter chart of {len(p)} population figures in persons for the Kazakhs of Iran between "
            f"{int(dated['year_end'].min())} and {int(dated['year_end'].max())}, one marker per source, "
            f"with a timeline of {int((d['layer'] == 'event').sum())} events below. Most dated figures "
            f"are between {fmt_num(dated['value'].min())} and {fmt_num(dated['value'].max())}; the "
            f"seed's uncorroborated {fmt_num(p[p['uncorroborated']]['value'].max())} and an undated "
            f"blog range stand apart.")


@register("iran-community", chapter=CHAPTER,
          title="The Kazakhs of Iran: every published figure, by source",
          caption=_community_caption, alt=_community_alt)
def iran_community():
    pop, ev = community_data()
    places = _place_names()
    pop = pop.sort_values(["unit", "year_end", "id"], na_position="last").reset_index(drop=True)
    pop["uncorroborated"] = [is_uncorroborated(n) for n in pop["note"]]
    pop["bound"] = [bound(r) for _, r in pop.iterrows()]
    pop["scope"] = [scope_label(r, places) for _, r in pop.iterrows()]
    keys = sorted(pop["source_key"].unique(), key=lambda k: (source_label(k).lower(), k))
    smark = {k: SOURCE_MARKERS[i % len(SOURCE_MARKERS)] for i, k in enumerate(keys)}

    fig, axes = style.new_figure(7.6, nrows=3, ncols=2, layout="constrained",
                                 gridspec_kw=dict(height_ratios=[3.2, 0.75, 2.2], width_ratios=[5.0, 1.35]))
    ax_p, ax_u = axes[0]
    ax_f, ax_fu = axes[1]
    ax_e, ax_eu = axes[2]
    for a in (ax_fu, ax_eu):
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
        col, _ = style.KIND_STYLE[r.kind]
        mk = smark[r.source_key]
        face = "white" if r.uncorroborated else col
        if pd.notna(r.value_low) and pd.notna(r.value_high) and pd.isna(r.value):
            hi = min(r.value_high, top) if top else r.value_high
            ax.plot([x, x], [r.value_low, hi], color=col, lw=2.2, solid_capstyle="butt")
            ax.plot(x, r.value_low, marker=mk, ms=6, mfc=face, mec=col, mew=1.2, ls="none")
            if top and r.value_high > top:  # the range runs off the chart: arrow at the top edge
                ax.annotate("", xy=(x, top), xytext=(x, top * 0.9),
                            arrowprops=dict(arrowstyle="-|>", color=col, lw=2.2, mutation_scale=10))
            else:
                ax.plot(x, r.value_high, marker=mk, ms=6, mfc=face, mec=col, mew=1.2, ls="none")
            return
        if getattr(r, "x0", x) != getattr(r, "x1", x):
            ax.plot([r.x0, r.x1 + 1], [r.value, r.value], color=col, lw=1.4, alpha=0.7)
        ax.plot(x, r.value, marker=mk, ms=7, mfc=face, mec=col, mew=1.3, ls="none", zorder=3)
        if r.bound == "lower":
            lower_arrow(ax, x, r.value, col)

    # persons, dated; the y axis is scaled to the point figures, a longer range runs off the top
    pers = dated[dated["unit"] == "persons"]
    point_max = float(pop.loc[pop["unit"] == "persons", "value"].max())
    top = point_max * 1.45
    for r in pers.itertuples():
        draw(ax_p, r, r.x)
    x_last = float(dated["x1"].max()) + 1
    cut = float(dated["x0"].min()) + (x_last - float(dated["x0"].min())) / 2
    right = pers[pers["x"] >= cut]
    left = pers[pers["x"] < cut]
    label_x = x_last + 2
    ys = spread_1d(right["value"].tolist(), top * 0.118, lo=top * 0.05, hi=top * 0.95)

    def text_of(r):
        t = f"{fmt_num(r.value)}{'+' if r.bound == 'lower' else ''}"
        if pd.isna(r.year_start):
            t += f" \u00b7 {r.period}"
        elif r.year_start != r.year_end:
            t += f" \u00b7 {int(r.year_start)}\u2013{int(r.year_end)}"
        else:
            t += f" \u00b7 {int(r.year_end)}"
        t += f"\n{r.scope}"
        if r.uncorroborated:
            t += " \u00b7 uncorroborated"
        return t

    for r, ly in zip(right.itertuples(), ys):
        an = ax_p.annotate(text_of(r), xy=(r.x, r.value), xytext=(label_x, ly), fontsize=7.5, va="center",
                           ha="left", arrowprops=dict(arrowstyle="-", color=style.GREY, lw=0.5,
                                                      shrinkA=0, shrinkB=4))
        an.set_in_layout(False)
    for r in left.itertuples():
        an = ax_p.annotate(text_of(r), xy=(r.x, r.value), xytext=(7, 0), textcoords="offset points",
                           fontsize=7.5, va="center", ha="left")
        an.set_in_layout(False)
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
            txt = f"{fmt_num(r.value_low)}\u2013\n{fmt_num(r.value_high)}"
            ax_u.text(i, r.value_low - top * 0.04, txt, ha="center", va="top", fontsize=7.5)
        else:
            txt = fmt_num(r.value) + ("\nuncorro-\nborated" if r.uncorroborated else "")
            ax_u.text(i, r.value - top * 0.04, txt, ha="center", va="top", fontsize=7.5)
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
        ax_f.annotate(f"{fmt_num(r.value)} families · {r.scope} · {r.period}", xy=(r.x, r.value),
                      xytext=(8, 0), textcoords="offset points", va="center", fontsize=7.5)
    fmax = float(fam["value"].max()) if len(fam) else 1.0
    ax_f.set_ylim(0, fmax * 1.8)
    ax_f.set_yticks([0, fmax])
    ax_f.yaxis.set_major_formatter(lambda v, _: fmt_num(v))
    ax_f.set_ylabel("families")
    ax_f.set_title("B. Population figures in families (not converted to persons)", fontsize=9)

    # events: one row each, label beside the bar
    ev = ev.copy()
    ev["x0"] = [date_start_x(d) for d in ev["date"]]
    ev["x1"] = [date_end_x(e) if isinstance(e, str) else date_end_x(d) for d, e in zip(ev["date"], ev["date_end"])]
    ev = ev.sort_values(["x0", "id"]).reset_index(drop=True)
    n = len(ev)
    mid = (float(ev["x0"].min()) + float(ev["x1"].max())) / 2
    for i, r in enumerate(ev.itertuples()):
        y = n - 1 - i
        ax_e.barh(y, max(r.x1 - r.x0, 0.6), left=r.x0, height=0.55, color=style.OKABE_ITO["blue"])
        yr = r.date[:4] + (f"–{r.date_end[:4]}" if isinstance(r.date_end, str) and r.date_end[:4] != r.date[:4] else "")
        if r.x0 < mid:
            ax_e.text(r.x1 + 1, y, f"{yr}  {r.label}", fontsize=7.5, va="center", ha="left")
        else:
            ax_e.text(r.x0 - 1, y, f"{r.label}  {yr}", fontsize=7.5, va="center", ha="right")
    ax_e.set_ylim(-0.7, n - 0.3)
    ax_e.set_yticks([])
    ax_e.spines["left"].set_visible(False)
    ax_e.set_title("C. Events (from the events table)", fontsize=9)
    ax_p.set_xlim(float(min(ev["x0"].min(), dated["x0"].min())) - 3, label_x + 27)
    ax_e.set_xlabel("Year")
    ax_e.set_xticks([t for t in ax_e.get_xticks() if t <= x_last])
    for a in (ax_p, ax_f):
        a.tick_params(labelbottom=False)

    def kind_of(k):
        return pop[pop.source_key == k].kind.iloc[0]

    handles = [Line2D([], [], ls="none", marker=smark[k], ms=6, mec=style.KIND_STYLE[kind_of(k)][0],
                      mfc=style.KIND_STYLE[kind_of(k)][0],
                      label=f"{source_label(k, 30)} ({style.KIND_LABEL[kind_of(k)].lower()})") for k in keys]
    handles.append(Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec=style.GREY,
                          label="hollow: uncorroborated figure"))
    handles.append(Line2D([], [], color=style.GREY, lw=1.4, alpha=0.7, label="line: period the figure covers"))
    handles.append(Line2D([], [], ls="none", marker="$↑$", ms=7, color=style.GREY, label="↑: lower bound (‘more than’)"))
    ax_p.legend(handles=handles, loc="upper left", fontsize=7, ncol=1, frameon=False, handletextpad=0.3,
                borderaxespad=0.2, labelspacing=0.3)
    fig.suptitle("The Kazakhs of Iran: how many, according to whom", x=0.01, ha="left",
                 fontweight="bold", fontsize=10)

    out_pop = pop.assign(layer="population")[[
        "layer", "id", "series", "geography", "period", "year_start", "year_end", "value", "value_low",
        "value_high", "as_printed", "unit", "kind", "uncorroborated", "source_key", "locator"]]
    out_ev = ev.assign(layer="event", series="event", period=[r.date + (f" to {r.date_end}" if isinstance(r.date_end, str) else "")
                                                          for r in ev.itertuples()])
    out_ev = out_ev.rename(columns={"label": "as_printed"})[["layer", "id", "series", "period", "as_printed",
                                                             "source_key", "locator"]]
    out = pd.concat([out_pop, out_ev], ignore_index=True)
    out["uncorroborated"] = out["uncorroborated"].fillna(False).astype(bool)
    return fig, out
