"""Chapter 1 figures: how many Kazakhs live abroad, by host country, and how the estimates disagree.

Every number comes from the table ``population_estimates`` (``data/population/estimates.csv``).
The selection rules are functions of this module so that the notebook, the captions and the
tests use the same rules:

* :func:`person_counts` — figures that count Kazakhs (unit ``persons``; the three denominator
  rows, total populations of all ethnic groups, are left out);
* :func:`host_rows` — figures for one whole host country (no subregion; not Kazakhstan, not the
  group codes ``XDI``/``WLD``/``XCI``/``XOT``);
* :func:`current_rows` — "current" figures: dated ``CURRENT_SINCE`` or later, or undated;
* :func:`pick_official` — the map's figure per country: the latest census or official count;
* :func:`seed_tiers` — the seed paper's size classes, read from its rows.

Numbers we compute (sums, shares, medians) are *derived*: they are labelled so in the figures and
in the plotted data (column ``derived``), and they are never written back into ``data/``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import basemap, bib, data, evidence, hotspots, paths, style, trace
from . import narrow_column, wrap_legend_labels
from ..figures import register
from ..labels import place_labels, place_labels_with_leaders  # noqa: F401  (used here and by the tests)
from ..routemap import map_look

CHAPTER = "01_where_kazakhs_live"
TABLE = "population_estimates"

CURRENT_SINCE = 2000
"""First reference year counted as a 'current' estimate (undated figures are current too)."""

GROUP_CODES = ("KAZ", "WLD", "XDI", "XCI", "XOT")
"""iso3 values that are not host countries: Kazakhstan itself and the groupings of the table."""

OFFICIAL_KINDS = ("census", "official_statistics", "official_estimate")
"""Kinds of figure treated as a census or official count (statements of politicians are not)."""

SERIES_HOSTS = ("KAZ", "CHN", "UZB", "RUS", "MNG", "TKM", "KGZ")
"""Countries of the census small multiples (Kazakhstan first, then the main host countries)."""

TOP3 = ("CHN", "UZB", "RUS")
"""The seed's first tier: China, Uzbekistan and Russia."""

NOT_ETHNIC = ("born in Kazakhstan", "citizens", "nationals")
"""Words in ``measure`` marking figures that do not count ethnic Kazakhs (birthplace, citizenship)."""

DERIVED_STYLE = (style.OKABE_ITO["black"], "d")


# ----------------------------------------------------------------------------- selection rules
COLUMNS = ("id", "geography", "iso3", "subregion", "period", "year", "value", "value_low", "value_high",
           "as_printed", "unit", "kind", "measure", "table_ref", "source_key", "locator", "source_year", "status")
"""The columns of the estimates table that the chapter's computations read (the evidence of each
row, its status note and correction, comes through :func:`kazdiaspora.evidence.rows`). Only these
are recorded as the chapter's inputs: an edit to a note does not execute it again."""


def table() -> pd.DataFrame:
    """The estimates table with the columns the chapter reads (:data:`COLUMNS`)."""
    return data.load(TABLE, columns=COLUMNS)


def load() -> pd.DataFrame:
    """The estimates that may be drawn as data (probable errors and excluded rows left out)."""
    return evidence.drawable(table())


def is_denominator(df: pd.DataFrame) -> pd.Series:
    return df["measure"].fillna("").str.contains("denominator, not a Kazakh count", regex=False)


def has_figure(df: pd.DataFrame) -> pd.Series:
    return df[["value", "value_low", "value_high"]].notna().any(axis=1)


def person_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that count Kazakhs (persons), without denominators and without rows lacking a figure."""
    keep = (df["unit"] == "persons") & ~is_denominator(df) & has_figure(df)
    return df[keep]


def is_ethnic(df: pd.DataFrame) -> pd.Series:
    m = df["measure"].fillna("").str.lower()
    out = pd.Series(True, index=df.index)
    for w in NOT_ETHNIC:
        out &= ~m.str.contains(w.lower(), regex=False)
    return out


def host_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Person counts for a whole host country (no subregion), Kazakhstan and groups excluded."""
    p = person_counts(df)
    return p[~p["iso3"].isin(GROUP_CODES) & p["subregion"].isna()]


def current_rows(df: pd.DataFrame, since: int = CURRENT_SINCE) -> pd.DataFrame:
    """Rows whose figure refers to ``since`` or later, plus undated figures from sources published
    or read from ``since`` on whose period names no earlier year (a '1960s' figure is not current)."""
    y = df["year"]
    period = df["period"] if "period" in df.columns else pd.Series("", index=df.index)
    named = period.fillna("").str.findall(r"(1[6-9]\d\d|20\d\d)")
    names_past = named.map(lambda ys: bool(ys) and max(int(v) for v in ys) < since)
    src = df["source_year"] if "source_year" in df.columns else pd.Series(pd.NA, index=df.index)
    undated_current = y.isna() & ~names_past & (src.isna() | (src >= since)).fillna(True)
    return df[(y >= since).fillna(False) | undated_current]


def lo_hi(df: pd.DataFrame) -> pd.DataFrame:
    """The low and high end of each figure: the range if printed, else the point value."""
    lo = df["value_low"].fillna(df["value"])
    hi = df["value_high"].fillna(df["value"])
    # upper bounds only ('less than 10,000'): the low end stays unknown
    return pd.DataFrame({"lo": lo, "hi": hi}, index=df.index)


def country_names(df: pd.DataFrame) -> dict[str, str]:
    """iso3 -> the name the sources use most often for the whole country (ties: alphabetical)."""
    whole = df[df["subregion"].isna()]
    out = {}
    for iso, g in whole.groupby("iso3", sort=True):
        counts = g["geography"].value_counts()
        best = sorted(counts.index, key=lambda n: (-counts[n], n))[0]
        out[iso] = best
    return out


def precision(v: float) -> int:
    """How many trailing zeros a whole number has (fewer = more precise): 1250458 -> 0, 1500000 -> 5."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == 0:
        return 99
    n, k = int(round(v)), 0
    while n % 10 == 0:
        n //= 10
        k += 1
    return k


def pick_official(rows: pd.DataFrame) -> pd.Series | None:
    """The latest census/official count among ``rows`` (dated, with a point value, ethnic Kazakhs).

    In the latest year, the most precise figure wins (fewest trailing zeros: a full census count
    over a rounded relay of it), then the one reported most often, then the larger, then the id.
    Returns the chosen row or None.
    """
    c = rows[rows["kind"].isin(OFFICIAL_KINDS) & rows["year"].notna() & rows["value"].notna() & is_ethnic(rows)]
    if c.empty:
        return None
    c = c[c["year"] == c["year"].max()]
    freq = c["value"].map(c["value"].value_counts())
    key = pd.DataFrame({"p": c["value"].map(precision), "f": -freq, "v": -c["value"], "id": c["id"]})
    return c.loc[key.sort_values(["p", "f", "v", "id"]).index[0]]


def seed_tiers(df: pd.DataFrame) -> list[tuple[str, float, float]]:
    """The seed's size classes as ``(label, low, high)`` bands, read from its rows.

    The middle class is ``askhat_groups_second_category`` (10,000-100,000), the lowest class
    ``askhat_groups_third_category`` (less than 10,000); the first tier is everything above.
    """
    r = df.set_index("id")
    mid_lo, mid_hi = r.at["askhat_groups_second_category", "value_low"], r.at["askhat_groups_second_category", "value_high"]
    low_hi = r.at["askhat_groups_third_category", "value_high"]
    return [(f"under {low_hi:,.0f}", 0.0, float(low_hi)),
            (f"{mid_lo:,.0f}\u2013{mid_hi:,.0f}", float(mid_lo), float(mid_hi)),
            (f"over {mid_hi:,.0f}", float(mid_hi), math.inf)]


def in_tier(lo: float, hi: float, i: int, tiers: list[tuple[str, float, float]]) -> bool:
    """Whether the range ``lo``–``hi`` reaches band ``i``. The paper's classes are "less than"
    the lower edge, "between" the edges (both included: 100,000 is in the middle class) and
    "more than" the upper edge."""
    _, a, b = tiers[i]
    if i == 0:
        return lo < b
    if i == len(tiers) - 1:
        return hi > a
    return lo <= b and hi >= a


def tier_of(v: float, tiers: list[tuple[str, float, float]]) -> str:
    """The label of the band holding ``v`` (see :func:`in_tier` for the edges)."""
    for i, (label, _, _) in enumerate(tiers):
        if in_tier(v, v, i, tiers):
            return label
    return tiers[-1][0]


def tier_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per host country: current figures (persons), lowest and highest, and the band(s) they fall in."""
    df = load() if df is None else df
    tiers = seed_tiers(df)
    cur = current_rows(host_rows(df))
    cur = evidence.drawable(cur[is_ethnic(cur)])  # a probable misprint is no country's lowest or highest
    names = country_names(df)
    b = lo_hi(cur)
    rows = []
    for iso, g in cur.groupby("iso3", sort=True):
        lo = b.loc[g.index, "lo"].min()
        hi = b.loc[g.index, "hi"].max()
        if math.isnan(lo):
            lo = hi
        bands = [t[0] for i, t in enumerate(tiers) if in_tier(lo, hi, i, tiers)]
        rows.append({"iso3": iso, "country": names[iso], "figures": len(g), "lowest": lo, "highest": hi,
                     "bands": " to ".join([bands[0], bands[-1]]) if len(bands) > 1 else bands[0],
                     "n_bands": len(bands)})
    out = pd.DataFrame(rows)
    return out.sort_values(["highest", "iso3"], ascending=[False, True]).reset_index(drop=True)


def top3_shares(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """DERIVED: share of China+Uzbekistan+Russia in each seed table column (countries abroad only).

    Table 1 columns have printed totals (``XDI`` rows); Table 2's 'Official data' column has none,
    so its share is of the sum of the countries it names abroad. Only point values are used.
    """
    df = load() if df is None else df
    t = df[df["table_ref"].fillna("").str.startswith(("askhat_t1:", "askhat_t2:official"))]
    t = t[(t["unit"] == "persons")]
    out = []
    for ref, g in t.groupby("table_ref", sort=True):
        top = g[g["iso3"].isin(TOP3)]
        total_row = g[g["iso3"] == "XDI"]
        if len(total_row):
            denom, basis = float(total_row["value"].iloc[0]), "printed column total"
            used = pd.concat([top, total_row])
        else:
            abroad = g[~g["iso3"].isin(GROUP_CODES)]
            denom, basis = float(abroad["value"].sum()), "sum of the countries named abroad"
            used = abroad
        out.append({"table_ref": ref, "top3": float(top["value"].sum()), "denominator": denom,
                    "share_pct": 100 * float(top["value"].sum()) / denom, "basis": basis,
                    "ids": ";".join(sorted(used["id"])),
                    "source_key": ";".join(sorted(set(used["source_key"])))})
    return pd.DataFrame(out)


def official_by_country(df: pd.DataFrame | None = None, since: int = CURRENT_SINCE) -> pd.DataFrame:
    """Per host country: the map's figure and the range of all current figures.

    The figure is the latest census/official count dated ``since`` or later (:func:`pick_official`);
    a country without one gets the median of its current figures (DERIVED, ``basis='median'``).
    Computed once per content of ``df`` (the map, the totals, the shares and the key numbers all
    need it); each call returns its own copy.
    """
    df = load() if df is None else df
    return _official_by_country(df, since).copy()


def _frame_key(df: pd.DataFrame, *rest) -> tuple:
    """A key for a DataFrame's content (columns, dtypes, index and values) and further arguments."""
    import hashlib

    h = hashlib.sha256(repr([(c, str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return (h.hexdigest(), *rest)


@trace.memo(key=_frame_key)
def _official_by_country(df: pd.DataFrame, since: int) -> pd.DataFrame:
    cur = current_rows(host_rows(df), since)
    cur = cur[is_ethnic(cur)]
    names = country_names(df)
    b = lo_hi(cur)
    rows = []
    for iso, g in cur.groupby("iso3", sort=True):
        pick = pick_official(g)
        pts = g["value"].dropna()
        rng_lo, rng_hi = b.loc[g.index, "lo"].min(), b.loc[g.index, "hi"].max()
        base = {"iso3": iso, "country": names[iso], "n_figures": len(g), "range_low": rng_lo, "range_high": rng_hi}
        if pick is not None:
            rows.append({**base, "value": float(pick["value"]), "basis": "official", "year": int(pick["year"]),
                         "kind": pick["kind"], "id": pick["id"], "source_key": pick["source_key"],
                         "locator": pick["locator"], "derived": False})
        elif len(pts):
            used = g[g["value"].notna()]
            rows.append({**base, "value": float(np.median(pts)), "basis": "median", "year": pd.NA,
                         "kind": "median of current figures", "id": ";".join(sorted(used["id"])),
                         "source_key": ";".join(sorted(set(used["source_key"]))),
                         "locator": "derived: median of rows " + ", ".join(sorted(used["id"])), "derived": True})
    out = pd.DataFrame(rows)
    out["year"] = out["year"].astype("Int64")
    return out.sort_values(["value", "iso3"], ascending=[False, True]).reset_index(drop=True)


def kazakhstan_latest_census(df: pd.DataFrame | None = None) -> pd.Series:
    """Kazakhstan's latest census count (same rule as the host countries)."""
    df = load() if df is None else df
    k = person_counts(df)
    k = k[(k["iso3"] == "KAZ") & k["subregion"].isna() & (k["kind"] == "census")]
    return pick_official(k)


# ----------------------------------------------------------------------------- drawing helpers
def _evidence_of(r) -> tuple[str, str | None]:
    """(status, grade) of a plotted row: from its data row, or 'derived' for computed values."""
    ev = evidence.rows()
    rid = r.get("id") if hasattr(r, "get") else None
    status = ev.loc[rid, "status"] if isinstance(rid, str) and rid in ev.index else "derived"
    keys = [k for k in str(r.get("source_key") or "").split(";") if k]
    grade = max((evidence.grade_of(k) for k in keys), default=None)
    return status, grade


def _marker(ax, x, y, r, size=34, z=3):
    """One figure, drawn with the book's evidence grammar (shape = kind, fill = status, shade = grade)."""
    status, grade = _evidence_of(r)
    m = evidence.KIND_STYLE.get(r["kind"], (style.GREY, "o"))[1]
    ms = math.sqrt(size) * (1.35 if m == "*" else 1.0)
    evidence.scatter_mark(ax, x, y, r["kind"], grade, status, size=ms, zorder=z)


def _people_axis(ax, axis="x"):
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(LogLocator(base=10, numticks=12))
    a.set_major_formatter(FuncFormatter(lambda v, _: style.fmt_people(v)))
    a.set_minor_formatter(NullFormatter())


def kind_offsets(kinds: list[str]) -> dict[str, float]:
    """Vertical offset of each kind's sub-lane within a country row (deterministic, centred, ±0.32)."""
    ks = sorted(set(kinds), key=lambda k: list(evidence.KIND_STYLE).index(k))
    if len(ks) == 1:
        return {ks[0]: 0.0}
    step = 0.64 / (len(ks) - 1)
    return {k: -0.32 + i * step for i, k in enumerate(ks)}


def _plotted(rows: pd.DataFrame, extra: dict | None = None) -> pd.DataFrame:
    cols = ["id", "iso3", "geography", "subregion", "year", "value", "value_low", "value_high", "as_printed",
            "unit", "kind", "measure", "source_key", "locator"]
    out = rows[cols].copy()
    for k, v in (extra or {}).items():
        out[k] = v
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- figure 1: dot plot
def sources_by_country_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    df = load() if df is None else df
    cur = current_rows(host_rows(df))
    order = _country_order(cur)
    out = _plotted(cur)
    out["row"] = out["iso3"].map({iso: i for i, iso in enumerate(order)})
    out["undated"] = out["year"].isna()
    out["ethnic"] = is_ethnic(cur).to_numpy()
    return out.sort_values(["row", "kind", "id"]).reset_index(drop=True)


def _country_order(cur: pd.DataFrame) -> list[str]:
    """Host countries ordered by the median of their point figures (largest first); sort key only."""
    b = lo_hi(cur)
    mid = (b["lo"].fillna(b["hi"]) * b["hi"]) ** 0.5
    med = mid.groupby(cur["iso3"]).median()
    return sorted(med.index, key=lambda i: (-med[i], i))


def _years(d: pd.DataFrame) -> tuple[int, int]:
    y = d["year"].dropna()
    return int(y.min()), int(y.max())


def spread_by_country(d: pd.DataFrame) -> pd.Series:
    """Highest over lowest point figure per country (a factor), largest first; ethnic counts only."""
    p = d[d["value"].notna() & d["ethnic"]]
    f = p.groupby("iso3")["value"].agg(lambda v: v.max() / v.min())
    return f.loc[sorted(f.index, key=lambda i: (-f[i], i))]


def _dotplot_alt(d: pd.DataFrame) -> str:
    names = country_names(load())
    sp = spread_by_country(d)
    top = ", ".join(f"{names[i]} (x{sp[i]:.0f})" for i in sp.index[:3])
    return (f"Dot plot with one row per host country ({d['iso3'].nunique()} countries), persons on a log scale, one "
            f"marker per published figure coloured and shaped by the kind of source. In {int((sp >= 2).sum())} "
            f"countries the highest figure is at least twice the lowest; the widest spreads are {top}.")


@register("population-sources-by-country", chapter=CHAPTER,
          title="Kazakhs by host country: every source's figure",
          caption=lambda d: (
              f"Each marker is one published figure for the number of Kazakhs in a host country "
              f"({len(d)} figures for {d['iso3'].nunique()} countries), on a logarithmic axis. "
              f"'Current' means a reference year from {CURRENT_SINCE} on ({_years(d)[0]}\u2013{_years(d)[1]} in the data) "
              f"or no date at all ({int(d['undated'].sum())} figures). Fill shows whether other sources bear a figure out, "
              f"shade how reliable its source is (see Methods). "
              f"Horizontal lines are printed ranges. Markers with a black cross count people born in Kazakhstan "
              f"or its citizens, not ethnic Kazakhs. Shaded bands are the size classes of Askhat's paper. "
              f"Nothing is averaged; rows are ordered by the median figure."),
          alt=_dotplot_alt, data=lambda: _with_drawn(sources_by_country_data, tiers=True))
def population_sources_by_country(d: pd.DataFrame):
    tiers, names = d.attrs["drawn"]["tiers"], d.attrs["drawn"]["names"]
    order = list(d.drop_duplicates("iso3").sort_values("row")["iso3"])
    n = len(order)
    fig, ax = style.new_figure(0.29 * n + 2.3, layout="constrained")
    xmin = 10 ** math.floor(math.log10(lo_hi(d)["lo"].min()))
    xmax = 10 ** math.ceil(math.log10(lo_hi(d)["hi"].max()))
    shades = ["#f2f2f2", "#e4e4e4", "#ffffff"]
    for (label, lo, hi), sh in zip(tiers, shades):
        ax.axvspan(max(lo, xmin), min(hi, xmax), color=sh, zorder=0, lw=0)
        ax.text((max(lo, xmin) * min(hi, xmax)) ** 0.5, -0.6, f"Size class:\n{label}", ha="center",
                va="bottom", fontsize=7.5, color="#444444", linespacing=1.0)
    for t in tiers[1:]:
        ax.axvline(t[1], color=style.GREY, lw=0.6, ls=":", zorder=1)
    for i in range(n):
        ax.axhline(i, color=style.LIGHT_GREY, lw=0.5, zorder=1)
    offs = {iso: kind_offsets(list(g["kind"])) for iso, g in d.groupby("iso3")}
    for _, r in d.iterrows():
        hotspots.row(ax, hotspots.key(r))
        y = r["row"] + offs[r["iso3"]][r["kind"]]
        c, _m = evidence.KIND_STYLE[r["kind"]]
        if not math.isnan(r["value_low"]) or not math.isnan(r["value_high"]):
            lo = r["value_low"] if not math.isnan(r["value_low"]) else xmin
            ax.plot([lo, r["value_high"]], [y, y], color=c, lw=2, solid_capstyle="butt", zorder=2)
            ax.plot([r["value_high"]], [y], marker="|", color=c, ms=7, zorder=2)
            if not math.isnan(r["value_low"]):
                ax.plot([lo], [y], marker="|", color=c, ms=7, zorder=2)
            else:
                ax.annotate("", xy=(lo * 1.0, y), xytext=(r["value_high"], y),
                            arrowprops=dict(arrowstyle="->", color=c, lw=1.2))
        if not math.isnan(r["value"]):
            _marker(ax, r["value"], y, r)
            if not r["ethnic"]:
                ax.scatter([r["value"]], [y], s=30, marker="x", color="black", lw=0.9, zorder=4)
    hotspots.done(ax)
    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    _people_axis(ax)
    ax.set_ylim(n - 0.5, -1.45)
    ax.set_yticks(range(n), [names[i] for i in order])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("Kazakhs in the country (persons, log scale)")
    ax.set_title("How many Kazakhs? Current figures by host country and kind of source")
    from matplotlib.lines import Line2D
    kinds = sorted(d["kind"].unique(), key=lambda k: list(evidence.KIND_STYLE).index(k))
    marks = [Line2D([], [], color=style.GREY, lw=2, label="Printed range"),
             Line2D([], [], ls="", marker="x", ms=6, color="black", label="Not ethnic Kazakhs (birthplace/citizenship)")]
    # one group a column: a heading never stands at the foot of one column and its entries in the next
    hs, ncol = evidence.legend_columns(evidence.kind_handles(kinds),
                                       evidence.status_handles() + [evidence.heading(evidence.OTHER_HEADING), *marks],
                                       evidence.grade_handles())
    ax.legend(handles=hs, loc="upper center", bbox_to_anchor=(0.42, -0.1), ncol=ncol, fontsize=7.5,
              borderaxespad=0, columnspacing=1.0, handletextpad=0.4)
    return fig


# ----------------------------------------------------------------------------- figure 2: census series
def _census_candidates(df: pd.DataFrame) -> pd.DataFrame:
    """Dated whole-country census and official counts of ethnic Kazakhs in the series' countries."""
    p = person_counts(df)
    s = p[p["iso3"].isin(SERIES_HOSTS) & p["subregion"].isna() & p["kind"].isin(OFFICIAL_KINDS)
          & p["year"].notna() & p["value"].notna()]
    return s[is_ethnic(s)]


def census_approximate_years(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts left off the census chart because their source gives the year only approximately."""
    s = _census_candidates(load() if df is None else df)
    return s[s["period"].map(data.year_is_approximate)].sort_values(["iso3", "year", "id"])


def census_series_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    df = load() if df is None else df
    s = _census_candidates(df)
    # a count whose year is only approximate ('c. 1990') cannot be placed on a time axis of census years
    s = s[~s["period"].map(data.year_is_approximate)]
    # the best source available for each census: where a better-graded source gives the count of a
    # year, a low-reliability compilation's count of the same year is not drawn
    g = s["source_key"].map(evidence.grade_of)
    best = g.groupby([s["iso3"], s["year"]]).transform("min")
    s = s[g == best]
    out = _plotted(s)
    out["panel"] = out["iso3"].map({iso: i for i, iso in enumerate(SERIES_HOSTS)})
    return out.sort_values(["panel", "year", "value", "id"]).reset_index(drop=True)


def _census_alt(d: pd.DataFrame) -> str:
    names = country_names(load())
    parts = []
    for iso in SERIES_HOSTS:
        c = d[(d["iso3"] == iso) & (d["kind"] == "census")].sort_values(["year", "value"])
        if len(c) >= 3:
            first, last, peak = c.iloc[0], c.iloc[-1], c.loc[c["value"].idxmax()]
            s = (f"{names[iso]} {style.fmt_people(first['value'])} in {first['year']} to "
                 f"{style.fmt_people(last['value'])} in {last['year']}")
            if peak["year"] != last["year"]:
                s += f" (peak {style.fmt_people(peak['value'])} in {peak['year']})"
            parts.append(s)
    return (f"Small multiples of {d['iso3'].nunique()} charts, one per country, of Kazakhs counted by censuses and "
            f"statistical offices, {_years(d)[0]}\u2013{_years(d)[1]}. Census counts: " + "; ".join(parts) + ".")


def _approx_note() -> str:
    a = census_approximate_years()
    if a.empty:
        return ""
    names = country_names(load())
    items = "; ".join(f"{names[r['iso3']]}, {r['as_printed']}, c. {int(r['year'])}, {bib.short_cite(r['source_key'])}" for _, r in a.iterrows())
    return (f". Left out because the source gives its year only approximately: "
            f"{len(a)} count{'s' if len(a) > 1 else ''} ({items})")


@register("census-series", chapter=CHAPTER,
          title="Census and official counts of Kazakhs over time",
          caption=lambda d: (
              f"Kazakhs counted by censuses and statistical offices, {_years(d)[0]}\u2013{_years(d)[1]}, in Kazakhstan "
              f"and {d['iso3'].nunique() - 1} host countries ({len(d)} figures). Each panel has its own vertical scale "
              f"starting at zero; the line joins the census counts in time order. Where several sources relay the "
              f"count of one census, only the counts of the best-graded sources are drawn. "
              f"Estimates of scholars, associations and politicians are left out, "
              f"and so are counts of people born in Kazakhstan" + _approx_note() + "."),
          alt=lambda d: _census_alt(d), data=lambda: _with_drawn(census_series_data))
def census_series(d: pd.DataFrame):
    names = d.attrs["drawn"]["names"]
    isos = [i for i in SERIES_HOSTS if i in set(d["iso3"])]
    ncol = 2
    nrow = math.ceil((len(isos) + 0) / ncol)
    fig, axes = style.new_figure(1.45 * nrow + 0.9, nrows=nrow, ncols=ncol, sharex=True, layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    y0, y1 = _years(d)
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    for ax, iso in zip(axes, isos):
        g = d[d["iso3"] == iso]
        cen = g[g["kind"] == "census"].sort_values(["year", "value"])
        ax.plot(cen["year"].astype(float), cen["value"], color=style.GREY, lw=0.9, zorder=1)
        for _, r in g.iterrows():
            hotspots.row(ax, hotspots.key(r))
            _marker(ax, float(r["year"]), r["value"], r, size=26)
        hotspots.done(ax)
        ax.set_ylim(0, g["value"].max() * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: style.fmt_people(v) if v else "0"))
        ax.set_title(names[iso] + (" (home country)" if iso == "KAZ" else ""), fontsize=9)
        ax.grid(axis="y")
        ax.set_xlim(y0 - 5, y1 + 5)
    for ax in axes[len(isos):]:
        ax.axis("off")
    for ax in axes[:len(isos)][-ncol:]:
        ax.set_xlabel("Census or reference year")
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.supylabel("Kazakhs counted (persons)", fontsize=9)
    fig.suptitle("Census and official counts of Kazakhs, by country", fontsize=10, fontweight="bold", x=0.02, ha="left")
    kinds = sorted(d["kind"].unique(), key=lambda k: list(evidence.KIND_STYLE).index(k))
    from matplotlib.lines import Line2D
    hs = evidence.kind_handles(kinds) + evidence.legend_handles() \
        + [evidence.heading(evidence.OTHER_HEADING), Line2D([], [], color=style.GREY, lw=0.9, label="Census counts joined")]
    legend_ax = axes[len(isos)] if len(isos) < len(axes) else axes[0]
    legend_ax.legend(handles=hs, loc="center", fontsize=7.5)
    return fig


# ----------------------------------------------------------------------------- figure 3: map
def _with_drawn(fn, tiers: bool = False) -> pd.DataFrame:
    """The plotted rows ``fn(load())`` of a figure, with what its drawing shows besides them in
    ``attrs["drawn"]``: the countries' names, and the size classes of Askhat's paper when asked for
    (see ``data=`` in :func:`kazdiaspora.figures.register`)."""
    df = load()
    d = fn(df)
    d.attrs["drawn"] = {"names": country_names(df), **({"tiers": seed_tiers(df)} if tiers else {})}
    return d


def _load_layer(name: str):
    return basemap.load_layer(name)


def _map_crs():
    return basemap.CENTRAL_ASIA_LCC


ANCHOR_RADIUS_KM = 600
"""A host country's symbol sits in the part of it within this distance of Kazakhstan (if any)."""

MAP_RADIUS_KM = 2000
"""Host countries whose symbol lies farther than this from Kazakhstan are listed beside the map."""


def symbol_anchor(country_geom, home_geom, radius_m: float, near_home=None):
    """Point for a country's symbol: the centre of the part near ``home_geom``, else of the whole country.

    "Near" is within ``radius_m`` of ``home_geom`` (both in a metric projection). The centroid is
    used when it falls inside that part, else its representative point. ``near_home`` is
    ``home_geom.buffer(radius_m)`` when the caller has it already (buffering Kazakhstan's outline
    takes about 0.1 s; :func:`map_data` does it once for all countries).
    """
    near = country_geom.intersection(home_geom.buffer(radius_m) if near_home is None else near_home)
    g = near if (not near.is_empty and near.area > 0.02 * country_geom.area) else country_geom
    c = g.centroid
    return c if g.contains(c) else g.representative_point()


# label placement lives in kazdiaspora.labels (one module for every map and chart)


_WORLD_CACHE: dict = {}


def _world():
    """The countries layer in the map projection, sorted by iso3 (cached per process and file)."""
    path = paths.DATA_DIR / "maps" / "countries.geojson"
    key = (str(_map_crs()), path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _WORLD_CACHE:
        _WORLD_CACHE.clear()
        _WORLD_CACHE[key] = _load_layer("countries").to_crs(_map_crs()).sort_values("iso3").reset_index(drop=True)
    trace.record(path)
    return _WORLD_CACHE[key]


def map_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The map's figure per host country, where it is drawn (``on_map``) and the symbol's position."""
    df = load() if df is None else df
    d = official_by_country(df)
    world = _world()
    geo = dict(zip(world["iso3"], world.geometry))
    home = geo["KAZ"]
    xs, ys, on = [], [], []
    near_home = home.buffer(ANCHOR_RADIUS_KM * 1000)
    for iso in d["iso3"]:
        if iso in geo:
            p = symbol_anchor(geo[iso], home, ANCHOR_RADIUS_KM * 1000, near_home)
            xs.append(round(p.x, 0))
            ys.append(round(p.y, 0))
            on.append(bool(p.distance(home) <= MAP_RADIUS_KM * 1000))
        else:
            xs.append(np.nan)
            ys.append(np.nan)
            on.append(False)
    d["map_x"], d["map_y"], d["on_map"] = xs, ys, on
    return d


def _label_geometry(fig, ax, on_map, k, home_label, fs, pad):
    """What the map's label placement works with, in display units (the layout final): each host's
    symbol centre and radius, its label text and size (``pad`` px added), the name KAZAKHSTAN as an
    obstacle and the map frame less 2 px as bounds. Both layouts of the map use it."""
    renderer = fig.canvas.get_renderer()
    trans = ax.transData
    disp_pts, radii, texts = [], [], []
    for _, r in on_map.iterrows():
        disp_pts.append(tuple(trans.transform((r["map_x"], r["map_y"]))))
        radii.append(math.sqrt(k * r["value"] / math.pi) * fig.dpi / 72 + 1)
        texts.append(map_label(r))
    whs = []
    for t in texts:
        tt = ax.text(0, 0, t, fontsize=fs, linespacing=1.0)
        bb = tt.get_window_extent(renderer)
        whs.append((bb.width + pad, bb.height + pad))
        tt.remove()
    hb = home_label.get_window_extent(renderer)
    axb = ax.get_window_extent(renderer)
    return (disp_pts, radii, texts, whs, [(hb.x0, hb.y0, hb.x1, hb.y1)],
            (axb.x0 + 2, axb.y0 + 2, axb.x1 - 2, axb.y1 - 2))


def _beyond_text(r) -> str:
    when = f"{r['year']}" if r["basis"] == "official" else "median"
    return f"{r['country']}: {style.fmt_people(r['value'])} ({when})"


@register("diaspora-map", chapter=CHAPTER,
          title="Map of the Kazakh diaspora by host country",
          caption=lambda d: (
              f"Circle area is proportional to the number of Kazakhs. Filled circles: the latest census or official "
              f"count dated {CURRENT_SINCE} or later ({int((d['basis'] == 'official').sum())} countries; the year is in "
              f"the label). Hollow circles: countries without such a count, sized by the median of their current "
              f"point figures (ranges left out; derived, {int((d['basis'] == 'median').sum())} countries). Host countries more than "
              f"{MAP_RADIUS_KM:,} km from Kazakhstan are listed next to the key of circle sizes. The CSV gives, for every country, the "
              f"range of all current figures (range_low, range_high)."),
          alt=lambda d: (
              f"Map of Central Eurasia centred on Kazakhstan with proportional circles on {int(d['on_map'].sum())} "
              f"neighbouring host countries and a list of {int((~d['on_map']).sum())} distant ones. The largest "
              f"circles are {d['country'].iloc[0]}, {d['country'].iloc[1]} and {d['country'].iloc[2]}; the others are "
              f"one or two orders of magnitude smaller."),
          data=lambda: map_data(load()))
def diaspora_map(d: pd.DataFrame):
    from matplotlib.lines import Line2D

    world = _world()
    home = world.loc[world["iso3"] == "KAZ"].geometry.iloc[0]
    if map_look().narrow:  # a journal's single column: laid out again (the book's version below is unchanged)
        return _diaspora_map_narrow(d, world, home)
    fig, (ax, side) = style.new_figure(3.75, ncols=2, layout="constrained", gridspec_kw={"width_ratios": [3.1, 1]})
    on_map, off_map, xlim, ylim = _map_frame(d, home)
    vmax = d["value"].max()
    k = (0.5 * 72) ** 2 / vmax * math.pi / 4  # circle area ∝ persons: s (pt²) = k * value; the largest ~0.5 in across
    home_label = _draw_map(ax, world, home, d, on_map, xlim, ylim, k, lw=1.0, home_fs=8)
    fig.suptitle(MAP_TITLE, fontsize=10, fontweight="bold", x=0.02, ha="left")
    colour = style.OKABE_ITO["blue"]
    # side panel: size legend and the distant hosts
    side.axis("off")
    refs = _reference_sizes(vmax, d["value"].min())
    hs = [Line2D([], [], ls="", marker="o", ms=math.sqrt(k * v), mfc=colour, mec="black", mew=0.5, alpha=0.85,
                 label=style.fmt_people(v)) for v in refs]
    hs.append(Line2D([], [], ls="", marker="o", ms=7, mfc="white", mec=colour, mew=1.3,
                     label="no census or\nofficial count:\nmedian of current\npoint figures (derived)"))
    side.legend(handles=hs, loc="upper left", title="Kazakhs (persons)", labelspacing=1.2, borderpad=0.2,
                fontsize=7.5, handletextpad=1.0, bbox_to_anchor=(0, 1))
    if len(off_map):
        hotspots.tag(side.text(0.0, 0.02, f"More than {MAP_RADIUS_KM:,} km away:\n" + "\n".join(_beyond_text(r) for _, r in off_map.iterrows()),
                               transform=side.transAxes, ha="left", va="bottom", fontsize=7.5, linespacing=1.3),
                     [None] + [hotspots.key(r) for _, r in off_map.iterrows()])
    # labels: placed after the layout is final, in display units, kept out of the layout
    fig.canvas.draw()
    fs = 7.5
    disp_pts, radii, texts, whs, obstacles, bounds = _label_geometry(fig, ax, on_map, k, home_label, fs, pad=3)
    spots = place_labels(disp_pts, radii, whs, obstacles=obstacles, bounds=bounds)
    inv = ax.transData.inverted()
    for (x, y, ha, va), t, (px, py), rad, rid in zip(spots, texts, disp_pts, radii,
                                                     [hotspots.key(r) for _, r in on_map.iterrows()]):
        dx, dy = inv.transform((x, y))
        dist = math.hypot(x - px, y - py)
        if dist > rad + 6:  # far from its symbol: a leader line from the symbol's edge
            ex, ey = px + (x - px) * rad / dist, py + (y - py) * rad / dist
            (sx, sy), (tx, ty) = inv.transform((ex, ey)), inv.transform((x, y))
            ln = ax.plot([sx, tx], [sy, ty], color=style.GREY, lw=0.6, zorder=5)[0]
            ln.set_in_layout(False)
        txt = ax.text(dx, dy, t, fontsize=fs, ha=ha, va=va, zorder=6, linespacing=1.0,
                      bbox=dict(boxstyle="square,pad=0.08", fc="white", ec="none", alpha=0.75))
        txt.set_in_layout(False)
        hotspots.tag(txt, rid)
    return fig


# The diaspora map in a journal's single column (89 mm): the map across the column, the size key
# and the list of distant hosts under it, text at the narrow look's size of the route maps
# (routemap.NARROW_LOOK, 6.2 pt), every host's label placed again at that size.
NARROW_CIRCLE_IN = 0.36
"""Diameter (in) of the largest circle in the single-column map (0.5 in the book's, whose map is wider)."""
NARROW_LEADER_PX = 6.0
"""A label whose anchor is farther than this from its circle's edge (display units) gets a leader line."""


MAP_TITLE = "Kazakhs abroad: latest census or official count per host country"


def map_label(r) -> str:
    """A host's label on the diaspora map (both layouts): the country on one line, its figure and
    the year of the census or official count (or "median") on the next."""
    when = f"{r['year']}" if r["basis"] == "official" else "median"
    return f"{r['country']}\n{style.fmt_people(r['value'])}, {when}"


def _map_frame(d: pd.DataFrame, home):
    """The hosts on the map and beyond it (largest first), and the map's limits: every circle on
    the map and Kazakhstan, with a margin."""
    on_map = d[d["on_map"]].sort_values(["value", "iso3"], ascending=[False, True])
    off_map = d[~d["on_map"]].sort_values(["value", "iso3"], ascending=[False, True])
    xs = list(on_map["map_x"]) + [home.bounds[0], home.bounds[2]]
    ys = list(on_map["map_y"]) + [home.bounds[1], home.bounds[3]]
    padx, pady = 0.10 * (max(xs) - min(xs)), 0.14 * (max(ys) - min(ys))
    return on_map, off_map, (min(xs) - padx, max(xs) + padx), (min(ys) - pady, max(ys) + pady)


def _draw_map(ax, world, home, d, on_map, xlim, ylim, k: float, lw: float, home_fs: float):
    """Land, host countries and Kazakhstan, the frame, one circle per host on the map (area ∝
    persons: s = k × value; filled for a census or official count, hollow for a median) and the
    name KAZAKHSTAN, which it returns. ``lw`` scales every line (1 in the book's layout)."""
    ax.set_facecolor(style.WATER)
    basemap.plot_layer(ax, world, color=style.LAND, edgecolor="#b5b0a5", linewidth=0.3 * lw, zorder=1)
    basemap.plot_layer(ax, world[world["iso3"].isin(set(d["iso3"]))], color="#ebe4d3", edgecolor="#9a9488",
                       linewidth=0.4 * lw, zorder=1.5)
    basemap.plot_layer(ax, world[world["iso3"] == "KAZ"], color="#e2cfa5", edgecolor="#8a7f6a", linewidth=0.8 * lw,
                       zorder=2)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for sp in ax.spines.values():
        sp.set_visible(True)
        sp.set_color(style.GREY)
    colour = style.OKABE_ITO["blue"]
    for _, r in on_map.iterrows():
        filled = r["basis"] == "official"
        hotspots.tag(ax.scatter([r["map_x"]], [r["map_y"]], s=k * r["value"], facecolor=colour if filled else "white",
                                edgecolor="black" if filled else colour,
                                linewidths=(0.5 if filled else 1.3) * lw, alpha=0.85 if filled else 1, zorder=4),
                     hotspots.key(r))
    hp = home.representative_point()
    return ax.text(hp.x, hp.y, "KAZAKHSTAN", fontsize=home_fs, ha="center", va="center", color="#5e5035",
                   fontweight="bold", zorder=3)


def _diaspora_map_narrow(d: pd.DataFrame, world, home):
    """The diaspora map laid out for one journal column (:func:`kazdiaspora.routemap.map_look` narrow).

    The map keeps the book's frame and spans the column; the size key and the hosts more than
    :data:`MAP_RADIUS_KM` km away stand under it, side by side. Labels are placed by
    :func:`kazdiaspora.labels.place_labels_with_leaders` (the rules of
    :func:`~kazdiaspora.labels.place_labels`, with leader lines) once the layout is frozen, at their
    final size; a label that has to move away from its circle is joined to it by a leader line (an
    annotation, so that the overlap check of the paper edition sees the line). The figure carries
    what was placed in ``fig.map_labels`` (for the tests)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    look = map_look()
    fs = look.font
    wide = style.edition().width_in
    on_map, off_map, xlim, ylim = _map_frame(d, home)  # the book's frame
    map_h = (wide - 0.06) * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    key_h = 1.25
    fig = plt.figure(figsize=(wide, map_h + key_h), layout="constrained")
    gs = fig.add_gridspec(2, 2, height_ratios=[map_h, key_h], width_ratios=[1, 1])
    ax = fig.add_subplot(gs[0, :], label="map")
    key = fig.add_subplot(gs[1, 0], label="legend")
    far = fig.add_subplot(gs[1, 1], label="distant hosts")
    vmax = d["value"].max()
    k = (NARROW_CIRCLE_IN * 72) ** 2 / vmax * math.pi / 4
    home_label = _draw_map(ax, world, home, d, on_map, xlim, ylim, k, lw=0.77, home_fs=fs + 0.8)
    for sp in ax.spines.values():
        sp.set_linewidth(0.6)
    fig.suptitle(MAP_TITLE, fontsize=10, fontweight="bold", x=0.02, ha="left").set_in_layout(False)  # left out of the paper file
    colour = style.OKABE_ITO["blue"]
    # under the map: the size key (left) and the distant hosts (right)
    key.axis("off")
    far.axis("off")
    refs = _reference_sizes(vmax, d["value"].min())
    hs = [Line2D([], [], ls="", marker="o", ms=math.sqrt(k * v), mfc=colour, mec="black", mew=0.4, alpha=0.85,
                 label=style.fmt_people(v)) for v in refs]
    hs.append(Line2D([], [], ls="", marker="o", ms=5, mfc="white", mec=colour, mew=1.0,
                     label="no census or official count:\nmedian of current point\nfigures (derived)"))
    big = max(h.get_markersize() for h in hs)
    leg = key.legend(handles=hs, loc="upper left", title="Kazakhs (persons)", labelspacing=0.8, borderpad=0.2,
                     borderaxespad=0.0, fontsize=fs, title_fontsize=fs, handletextpad=0.6, bbox_to_anchor=(0, 1),
                     alignment="left", handlelength=big / fs, handleheight=0.55 * big / fs)
    leg._legend_box.sep = 0.5 * big  # the title clear of the largest circle
    if len(off_map):
        listed = "\n".join(_beyond_text(r) for _, r in off_map.iterrows())
        hotspots.tag(far.text(0.0, 1.0, f"More than {MAP_RADIUS_KM:,} km away:\n{listed}", transform=far.transAxes,
                              ha="left", va="top", fontsize=fs, linespacing=1.3),
                     [None] + [hotspots.key(r) for _, r in off_map.iterrows()])
    # the key row as high as what it holds; then the layout is fixed and the labels placed at final size
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    need = max(leg.get_window_extent(renderer).height, far.texts[0].get_window_extent(renderer).height
               if far.texts else 0) / fig.dpi + 0.04
    fig.set_size_inches(wide, map_h + need)
    gs.set_height_ratios([map_h, need])
    fig.canvas.draw()
    fig.set_layout_engine("none")
    disp_pts, radii, texts, whs, obstacles, bounds = _label_geometry(fig, ax, on_map, k, home_label, fs, pad=2)
    spots, unplaced = place_labels_with_leaders(disp_pts, radii, whs, obstacles=obstacles, bounds=bounds,
                                                leader_px=NARROW_LEADER_PX)
    inv = ax.transData.inverted()
    fig.map_labels = []
    for i, ((x, y, ha, va, leader), t, (px, py), rad, (_, r)) in enumerate(
            zip(spots, texts, disp_pts, radii, on_map.iterrows())):
        kw = {}
        if leader:  # far from its circle: a leader line from the text to the circle's edge
            kw["arrowprops"] = dict(arrowstyle="-", color=style.GREY, lw=0.5, shrinkA=0,
                                    shrinkB=(rad - 1) * 72 / fig.dpi,
                                    relpos=({"left": 0.0, "right": 1.0, "center": 0.5}[ha],
                                            {"bottom": 0.0, "top": 1.0, "center": 0.5}[va]))
        txt = ax.annotate(t, xy=(r["map_x"], r["map_y"]), xytext=tuple(inv.transform((x, y))), textcoords="data",
                          fontsize=fs, ha=ha, va=va, zorder=6, linespacing=1.0, annotation_clip=False,
                          bbox=dict(boxstyle="square,pad=0.06", fc="white", ec="none", alpha=0.75), **kw)
        txt.set_in_layout(False)
        hotspots.tag(txt, hotspots.key(r))
        fig.map_labels.append({"iso3": r["iso3"], "text": t, "artist": txt, "point": (px, py), "radius": rad,
                               "leader": leader, "placed": i not in unplaced})
    return fig


def _reference_sizes(vmax: float, vmin: float) -> list[float]:
    """Round reference sizes for the legend: powers of ten from the largest down (at most three)."""
    top = 10 ** math.floor(math.log10(vmax))
    return [top, top / 10, top / 100]


# ----------------------------------------------------------------------------- figure 4: totals
def _who(key: str, maxlen: int = 30) -> str:
    from .. import bib

    s = bib.short_cite(key)
    if len(s) > maxlen:
        year = s[s.rfind("("):]
        s = s[: maxlen - len(year) - 2].rstrip() + "\u2026 " + year
    return s


TABLE_COLUMN = {"askhat_t1:mendikulova_2001": "Table 1, Mendikulova col.",
                "askhat_t1:tatimov_2003": "Table 1, Tatimov col.",
                "askhat_t2:official": "Table 2, official col.",
                "askhat_t2:field_2007_2009": "Table 2, field-study col."}


def _label(r) -> str:
    who = _who(r["source_key"])
    if isinstance(r.get("table_ref"), str) and r["table_ref"] in TABLE_COLUMN:
        who += ", " + TABLE_COLUMN[r["table_ref"]]
    when = "undated" if pd.isna(r["year"]) else str(r["year"])
    return f"{who}, {when}"


def diaspora_totals_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every printed figure for all Kazakhs abroad, plus derived sums of the map's figures."""
    df = load() if df is None else df
    p = person_counts(df)
    x = p[p["iso3"] == "XDI"]
    out = _plotted(x, {"derived": False})
    out["table_ref"] = x["table_ref"].to_numpy()
    out["label"] = [_label(r) for _, r in out.iterrows()]
    off = official_by_country(df)
    offi = off[off["basis"] == "official"]
    derived = [
        {"id": "derived_sum_official", "iso3": "XDI", "value": float(offi["value"].sum()),
         "kind": "derived", "derived": True, "year": pd.NA,
         "label": f"Derived: sum of census/official counts ({len(offi)} countries)",
         "source_key": ";".join(sorted(set(offi["source_key"]))),
         "locator": "derived: sum of rows " + ", ".join(sorted(offi["id"]))},
        {"id": "derived_sum_all_map", "iso3": "XDI", "value": float(off["value"].sum()),
         "kind": "derived", "derived": True, "year": pd.NA,
         "label": f"Derived: the map's figures summed ({len(off)} countries)",
         "source_key": ";".join(sorted(set(";".join(off["source_key"]).split(";")))),
         "locator": f"derived: sum of the map's figures for {len(off)} host countries (official counts; medians for "
                    f"{len(off) - len(offi)})"},
    ]
    out = pd.concat([out, pd.DataFrame(derived)], ignore_index=True)
    out["year"] = out["year"].astype("Int64")
    mid = out["value"].fillna(out["value_low"])
    out = out.assign(_s=mid).sort_values(["_s", "id"], ascending=[False, True]).drop(columns="_s")
    return out.reset_index(drop=True)


def _claim_range(d: pd.DataFrame) -> tuple[float, float]:
    p = d[~d["derived"]]
    return float(p[["value", "value_low"]].min().min()), float(p[["value", "value_high"]].max().max())


@register("diaspora-totals", chapter=CHAPTER,
          title="How many Kazakhs abroad in all? Claims against counts",
          caption=lambda d: (
              f"Every figure in the data for all Kazakhs living outside Kazakhstan ({int((~d['derived']).sum())} "
              f"figures), coloured and shaped by kind of source, against two sums we computed from the host-country "
              f"figures (black diamonds; derived, not data): the latest census or official counts, and the map's "
              f"figure for every host country (official counts plus medians where there is none). Fill shows "
              f"whether other sources bear a figure out, shade how reliable its source is; the bar is a printed range."),
          alt=lambda d: (
              f"Horizontal dot chart of {int((~d['derived']).sum())} published totals of the Kazakh diaspora, from "
              f"{style.fmt_people(_claim_range(d)[0])} to {style.fmt_people(_claim_range(d)[1])}, most of them at "
              f"{style.fmt_people(d.loc[~d['derived'], 'value'].mode().iloc[0])}, against a derived sum of census "
              f"counts of {style.fmt_people(d.loc[d['id'] == 'derived_sum_official', 'value'].iloc[0])}."),
          data=lambda: diaspora_totals_data(load()))
def diaspora_totals(d: pd.DataFrame):
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    n = len(d)
    fig, ax = style.new_figure(0.24 * n + 1.3 + 1.3, layout="constrained")  # the second 1.3 in: the key under the plot
    for i, r in d.iterrows():
        ax.axhline(i, color=style.LIGHT_GREY, lw=0.5, zorder=0)
        hotspots.row(ax, hotspots.key(r))
        if r["derived"]:
            ax.scatter([r["value"]], [i], s=60, marker=DERIVED_STYLE[1], facecolor="white", edgecolor="black",
                       linewidths=1.4, zorder=4)
            continue
        c, _ = evidence.KIND_STYLE[r["kind"]]
        if not math.isnan(r["value_low"]):
            ax.plot([r["value_low"], r["value_high"]], [i, i], color=c, lw=2.5, zorder=2)
            for v in (r["value_low"], r["value_high"]):
                ax.plot([v], [i], marker="|", color=c, ms=8)
        if not math.isnan(r["value"]):
            _marker(ax, r["value"], i, r)
    hotspots.done(ax)
    ax.set_yticks(range(n), d["label"], fontsize=7.5)
    for t, der in zip(ax.get_yticklabels(), d["derived"]):
        if der:
            t.set_fontweight("bold")
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, _claim_range(d)[1] * 1.06)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: style.fmt_people(v) if v else "0"))
    ax.grid(axis="x")
    ax.set_xlabel("Kazakhs living outside Kazakhstan (persons)")
    fig.suptitle("All Kazakhs abroad: printed totals and derived sums", fontsize=10, fontweight="bold", x=0.02,
                 ha="left")
    kinds = sorted(d.loc[~d["derived"], "kind"].unique(), key=lambda k: list(evidence.KIND_STYLE).index(k))
    hs = evidence.kind_handles(kinds)
    hs.append(Line2D([], [], ls="", marker=DERIVED_STYLE[1], ms=8, mfc="white", mec="black", mew=1.4,
                     label="Derived sum (computed here)"))
    # under the axis: standing on the plot, the key hid half of its figures
    cols, ncol = evidence.legend_columns(hs,
                                         evidence.status_handles(), evidence.grade_handles())
    ax.legend(handles=wrap_legend_labels(cols, 28), loc="upper center", bbox_to_anchor=(0.3, -0.1), ncol=ncol,
              fontsize=7.5, frameon=False)
    return fig


# ----------------------------------------------------------------------------- figure 5: shares
def shares_data(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Printed shares (percent) against DERIVED shares computed from the data.

    Panel 'abroad' (share of all Kazakhs living outside Kazakhstan). Printed: every ``XDI`` percent
    row. Derived: the lowest and the highest printed diaspora total, the association claim and the
    derived sum of census counts, each divided by itself plus Kazakhstan's latest census count; and
    Tukumov's own abroad/world pair.
    Panel 'top3' (share of China, Uzbekistan and Russia in the diaspora). Printed: the seed's claim.
    Derived: each seed table column (:func:`top3_shares`) and the map's figures for all host countries.
    """
    df = load() if df is None else df
    rows = []
    nan = np.nan

    def add(panel, rid, value, kind, derived, year, label, key, loc, lo=nan, hi=nan):
        rows.append({"panel": panel, "id": rid, "value": value, "value_low": lo, "value_high": hi, "kind": kind,
                     "derived": derived, "year": year, "label": label, "source_key": key, "locator": loc})

    pct = df[(df["unit"] == "percent") & (df["iso3"] == "XDI") & has_figure(df)].sort_values("id")
    for _, r in pct.iterrows():
        add("abroad", r["id"], r["value"], r["kind"], False, r["year"], "Printed: " + _label(r), r["source_key"],
            r["locator"], r["value_low"], r["value_high"])
    kaz = kazakhstan_latest_census(df)
    tot = diaspora_totals_data(df)
    printed = tot[~tot["derived"] & tot["value"].notna()]
    claim_kind = printed[printed["kind"] == "association_claim"]
    picks = [printed.loc[printed["value"].idxmin()], printed.loc[printed["value"].idxmax()]]
    if len(claim_kind):
        picks.insert(1, claim_kind.sort_values("id").iloc[0])
    picks.append(tot[tot["id"] == "derived_sum_official"].iloc[0])
    for r in picks:
        v = r["value"]
        # the share of all Kazakhs: this total over itself plus Kazakhstan's census count, said as such
        what, short = (("census sum", "sum") if r["derived"] else
                       (f"{style.fmt_people(v)} ({_who(r['source_key'], 22).split(' (')[0]})", style.fmt_people(v)))
        add("abroad", f"derived_share_{r['id']}", 100 * v / (v + kaz["value"]), "derived", True, pd.NA,
            f"Derived: {what} / ({short} + Kazakhstan)",
            ";".join(sorted(set((r["source_key"] + ";" + kaz["source_key"]).split(";")))),
            f"derived: {r['id']} / ({r['id']} + {kaz['id']})")
    ids = df.set_index("id")
    tk_ab, tk_w = ids.loc["xdi_2000_tukumov_2000"], ids.loc["wld_2000_tukumov_2000"]
    add("abroad", "derived_share_tukumov_2000", 100 * tk_ab["value"] / tk_w["value"], "derived", True, pd.NA,
        f"Derived: {_who(tk_ab['source_key'])}, abroad / world", tk_ab["source_key"],
        "derived: xdi_2000_tukumov_2000 / wld_2000_tukumov_2000")
    claim = ids.loc["askhat_groups_top3_share"]
    add("top3", "askhat_groups_top3_share", claim["value"], claim["kind"], False, claim["year"],
        f"Printed: {_who(claim['source_key'])}, undated", claim["source_key"], claim["locator"])
    for _, t in top3_shares(df).iterrows():
        add("top3", f"derived_top3_{t['table_ref'].replace(':', '_')}", t["share_pct"], "derived", True, pd.NA,
            f"Derived: {TABLE_COLUMN.get(t['table_ref'], t['table_ref'])}", t["source_key"],
            f"derived ({t['basis']}): rows {t['ids'].replace(';', ', ')}")
    off = official_by_country(df)
    top = off[off["iso3"].isin(TOP3)]
    add("top3", "derived_top3_map", 100 * top["value"].sum() / off["value"].sum(), "derived", True, pd.NA,
        f"Derived: the map's figures ({len(off)} countries)",
        ";".join(sorted(set(";".join(off["source_key"]).split(";")))),
        f"derived: CHN+UZB+RUS over the sum of the map's figures for {len(off)} host countries")
    out = pd.DataFrame(rows)
    out["year"] = out["year"].astype("Int64")
    return out


def _derived_val(d: pd.DataFrame, rid: str) -> float:
    return float(d.loc[d["id"] == rid, "value"].iloc[0])


@register("diaspora-shares", chapter=CHAPTER,
          title="Share abroad and share in the three main host countries, printed and derived",
          caption=lambda d: (
              f"Top: share of all Kazakhs living outside Kazakhstan. Bottom: share of the diaspora living in China, "
              f"Uzbekistan and Russia. Coloured markers and bars are shares printed by the sources; black diamonds "
              f"are shares we derived from figures in the data (the calculation is in the locator column of the CSV; "
              f"'Kazakhstan' is its latest census count). Askhat's 'about one-third' has no number to plot."),
          alt=lambda d: (
              f"Two dot charts of percentages. Printed shares abroad lie between "
              f"{d.loc[(d['panel'] == 'abroad') & ~d['derived'], ['value', 'value_low']].min().min():.0f} and "
              f"{d.loc[(d['panel'] == 'abroad') & ~d['derived'], ['value', 'value_high']].max().max():.0f} per cent; "
              f"the census counts imply about {_derived_val(d, 'derived_share_derived_sum_official'):.0f} per cent. "
              f"China, Uzbekistan and Russia hold "
              f"{d.loc[(d['panel'] == 'top3') & d['derived'], 'value'].min():.0f} to "
              f"{d.loc[(d['panel'] == 'top3') & d['derived'], 'value'].max():.0f} per cent in the derived shares."),
          data=lambda: shares_data(load()))
def diaspora_shares(d: pd.DataFrame):
    from matplotlib.lines import Line2D

    panels = [("abroad", "Share of all Kazakhs living abroad"),
              ("top3", "Share of the diaspora in China, Uzbekistan and Russia")]
    sizes = [int((d["panel"] == p).sum()) for p, _ in panels]
    # the book's key goes under both panels, like the paper edition's: room for its rows
    key_rows = 0 if style.edition().paper else 1.5
    fig, axes = style.new_figure(0.27 * sum(sizes) + 1.9 + key_rows, nrows=2, ncols=1, layout="constrained",
                                 gridspec_kw={"height_ratios": [s + 0.8 for s in sizes]})
    for ax, (p, title) in zip(axes, panels):
        g = d[d["panel"] == p].reset_index(drop=True)
        for i, r in g.iterrows():
            ax.axhline(i, color=style.LIGHT_GREY, lw=0.5, zorder=0)
            hotspots.row(ax, hotspots.key(r))
            if r["derived"]:
                ax.scatter([r["value"]], [i], s=60, marker=DERIVED_STYLE[1], facecolor="white", edgecolor="black",
                           linewidths=1.4, zorder=4)
                ax.annotate(f"{r['value']:.0f}%", (r["value"], i), xytext=(7, 0), textcoords="offset points",
                            va="center", fontsize=7.5)
                continue
            c, _ = evidence.KIND_STYLE[r["kind"]]
            if not math.isnan(r["value_low"]):
                ax.plot([r["value_low"], r["value_high"]], [i, i], color=c, lw=3, zorder=2)
                for v in (r["value_low"], r["value_high"]):
                    ax.plot([v], [i], marker="|", color=c, ms=8)
                ax.annotate(f"{r['value_low']:.0f}\u2013{r['value_high']:.0f}%", (r["value_high"], i), xytext=(7, 0),
                            textcoords="offset points", va="center", fontsize=7.5)
            if not math.isnan(r["value"]):
                _marker(ax, r["value"], i, r)
                ax.annotate(f"{r['value']:.0f}%", (r["value"], i), xytext=(7, 0), textcoords="offset points",
                            va="center", fontsize=7.5)
        hotspots.done(ax)
        ax.set_yticks(range(len(g)), g["label"], fontsize=7.5)
        for t, der in zip(ax.get_yticklabels(), g["derived"]):
            if der:
                t.set_fontweight("bold")
        ax.set_ylim(len(g) - 0.5, -0.6)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, 100)
        ax.set_xlabel("Per cent")
        ax.grid(axis="x")
        ax.set_title(title, fontsize=9, loc="right")
    fig.suptitle("Shares: printed by sources and derived from the data", fontsize=10, fontweight="bold", x=0.02,
                 ha="left")
    kinds = sorted(d.loc[~d["derived"], "kind"].unique(), key=lambda k: list(evidence.KIND_STYLE).index(k))
    derived = Line2D([], [], ls="", marker=DERIVED_STYLE[1], ms=8, mfc="white", mec="black", mew=1.4,
                     label="Derived (computed here)")
    if style.edition().paper:  # a journal's figure: the key under both panels, none of the data covered
        hs = evidence.kind_handles(kinds) + [*evidence.legend_handles(), derived]
        if narrow_column():
            wrap_legend_labels(hs, 30)
        fig.legend(handles=hs, loc="outside lower center", ncols=2 if narrow_column() else 3, fontsize=7.5,
                   frameon=False)
    else:  # the key under the lower panel's axis (it used to stand on that panel, over its title and data)
        cols, ncol = evidence.legend_columns(evidence.kind_handles(kinds) + [derived], evidence.status_handles(),
                                             evidence.grade_handles())
        axes[1].legend(handles=wrap_legend_labels(cols, 28), loc="upper center", bbox_to_anchor=(0.3, -0.32),
                       ncol=ncol, fontsize=7.5, frameon=False)
    return fig
