"""The evidence explorer: every figure row of ``data/`` in one searchable, sortable, filterable table.

:func:`evidence_table` gathers the rows of every figure table (``evidence.FIGURE_TABLES``) with
their country, period, topic, kind, source, grade and status, and the figures of the book that
plot each row (read from the exported ``figures/<id>.csv``). :func:`explorer_html` renders it with
ITables (DataTables, bundled with the ``itables`` package and embedded in the page: it works offline
and from ``file://``; nothing is fetched). The output is deterministic: same data, same bytes.
"""
from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pandas as pd

from . import bib, data, paths

TOPICS = {
    "population_estimates": "Population by host country",
    "repatriation": "Return to Kazakhstan",
    "iran": "Kazakhs of Iran",
    "wave_figures": "Migration waves",
    "diasporas_in_kazakhstan": "Diasporas in Kazakhstan",
}
"""Reader-facing name of each figure table."""

COLUMNS = ["Value as printed", "Unit", "What is counted", "Country", "Period", "Decade", "Topic", "Kind",
           "Grade", "Status", "Source", "Locator", "Used in", "Row id"]
FILTER_COLUMNS = ["Country", "Decade", "Topic", "Kind", "Grade", "Status", "Source"]


def _s(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def figure_tables() -> list[str]:
    try:
        from . import evidence

        return list(evidence.FIGURE_TABLES)
    except (ImportError, AttributeError):
        return list(TOPICS)


def _grades() -> dict[str, str]:
    from .hotspots import grades

    return grades()


def country_name_map() -> dict[str, str]:
    """iso3 -> country name, as the population chapter names it (falls back to the gazetteer)."""
    from .charts.population import country_names

    names = dict(country_names(data.load("population_estimates")))
    rep = data.load("repatriation")
    for iso, name in zip(rep["origin_iso3"], rep["origin"]):
        if isinstance(iso, str) and iso not in names and isinstance(name, str):
            names[iso] = name.split(" (")[0]
    names.setdefault("IRN", "Iran")
    return names


def row_country(table: str, r: dict, names: dict[str, str]) -> tuple[str, str]:
    """(iso3, country name) a row is about; ('', '') when it is not about one country."""
    if table == "population_estimates":
        iso = _s(r.get("iso3"))
    elif table == "repatriation":
        iso = _s(r.get("origin_iso3"))
    elif table == "iran":
        iso = "IRN"
    elif table == "diasporas_in_kazakhstan":
        iso = "KAZ"
    else:
        iso = ""
        geo = _s(r.get("geography"))
        for i, n in names.items():
            if n and re.search(rf"\b{re.escape(n)}\b", geo):
                iso = i
                break
    if len(iso) != 3 or iso.startswith("X") or iso in {"WLD", "ALL", "OTH"}:
        return "", ""
    return iso, names.get(iso, iso)


def figure_files(figdir: Path | None = None) -> list[Path]:
    """The exported figures' metadata and data files (what :func:`figure_use` reads)."""
    figdir = Path(figdir or paths.FIGURES_DIR)
    return sorted(p for p in figdir.glob("*.*") if p.suffix in (".csv", ".json"))


def figure_use(figdir: Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """row id -> [(figure id, chapter)] of the exported figures that plot it."""
    import json

    figdir = Path(figdir or paths.FIGURES_DIR)
    out: dict[str, list[tuple[str, str]]] = {}
    for meta_p in sorted(figdir.glob("*.json")):
        if meta_p.name.endswith(".hotspots.json"):
            continue
        meta = json.loads(meta_p.read_text(encoding="utf-8"))
        csv = figdir / f"{meta['id']}.csv"
        if not csv.exists():
            continue
        d = pd.read_csv(csv, dtype=str, keep_default_na=False)
        ids = set()
        for col in ("id", "magnitude_id", "from_id", "to_id"):
            if col in d.columns:
                ids.update(x for x in d[col] if x)
        for i in sorted(ids):
            out.setdefault(i, []).append((meta["id"], meta["chapter"]))
    return out


_MEMO: dict = {}


def evidence_table(figdir: Path | None = None) -> pd.DataFrame:
    """One row per figure row of data/, with the fields the explorer and the country pages show.

    Computed once per data package and state of the exported figures (the book build asks for it
    on every country page); each call returns its own copy."""
    figdir = Path(figdir or paths.FIGURES_DIR)
    key = (data.package(), str(figdir),
           tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in figure_files(figdir)))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = _evidence_table(figdir)
    return _MEMO[key].copy()


def _evidence_table(figdir: Path) -> pd.DataFrame:
    names = country_name_map()
    grade_of = _grades()
    use = figure_use(figdir)
    recs = []
    for table in figure_tables():
        t = data.load(table)
        try:
            from .evidence import reference_years

            years = list(reference_years(t, table))
        except (ImportError, AttributeError):
            years = [None] * len(t)
        for r, y in zip(t.to_dict("records"), years):
            iso, country = row_country(table, r, names)
            keys = [k for k in _s(r.get("source_key")).split(";") if k]
            y = None if y is None or y is pd.NA or (isinstance(y, float) and math.isnan(y)) else int(y)
            printed = _s(r.get("as_printed"))
            if not printed:
                lo, hi, v = _s(r.get("value_low")), _s(r.get("value_high")), _s(r.get("value"))
                printed = v or (f"{lo}\u2013{hi}" if lo or hi else "")
            recs.append({
                "id": r["id"], "table": table, "topic": TOPICS.get(table, table),
                "iso3": iso, "country": country,
                "what": _s(r.get("measure")) or _s(r.get("series")),
                "geography": _s(r.get("geography")) or _s(r.get("origin")),
                "period": _s(r.get("period")), "year": y,
                "decade": f"{y // 10 * 10}s" if y else "undated",
                "printed": printed, "value": r.get("value"), "value_low": r.get("value_low"),
                "value_high": r.get("value_high"), "unit": _s(r.get("unit")),
                "kind": _s(r.get("kind")), "source_keys": keys,
                "grade": " / ".join(dict.fromkeys(grade_of[k] for k in keys if k in grade_of)),
                "status": _s(r.get("status")), "status_note": _s(r.get("status_note")),
                "locator": _s(r.get("locator")), "note": _s(r.get("note")),
                "figures": use.get(r["id"], []),
            })
    df = pd.DataFrame(recs)
    return df.sort_values(["table", "iso3", "id"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- HTML
def _a(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'


def _locator_html(loc: str) -> str:
    m = re.search(r"https?://\S+", loc)
    if not m:
        return html.escape(loc)
    url = m.group(0).rstrip(").,;")
    return html.escape(loc[:m.start()]) + _a(url, url) + html.escape(loc[m.start() + len(url):])


def explorer_frame(df: pd.DataFrame, ref_href, chapter_href, figure_href, profile_href) -> pd.DataFrame:
    """The table as shown: HTML cells with links (to References, chapters, figures, country pages)."""
    def source(keys):
        return "; ".join(_a(ref_href(k), bib.short_cite(k)) for k in keys) or "\u2014"

    def used(figs):
        seen, parts = set(), []
        for fid, ch in figs:
            parts.append(_a(figure_href(fid), fid))
            if ch not in seen:
                seen.add(ch)
                parts.append(_a(chapter_href(ch), "chapter"))
        return " · ".join(parts) or "\u2014"

    def country(iso, name):
        href = profile_href(iso) if iso else None
        return _a(href, name) if href else html.escape(name or "\u2014")

    out = pd.DataFrame({
        "Value as printed": [html.escape(x or "\u2014") for x in df["printed"]],
        "Unit": [html.escape(x) for x in df["unit"]],
        "What is counted": [html.escape(" \u00b7 ".join(x for x in (g, w) if x)) for g, w in zip(df["geography"], df["what"])],
        "Country": [country(i, n) for i, n in zip(df["iso3"], df["country"])],
        "Period": [html.escape(p or "") for p in df["period"]],
        "Decade": df["decade"],
        "Topic": df["topic"],
        "Kind": [k.replace("_", " ") for k in df["kind"]],
        "Grade": [g or "\u2014" for g in df["grade"]],
        "Status": [s.replace("_", " ") or "\u2014" for s in df["status"]],
        "Source": [source(k) for k in df["source_keys"]],
        "Locator": [_locator_html(x) for x in df["locator"]],
        "Used in": [used(f) for f in df["figures"]],
        "Row id": [f'<code id="row-{html.escape(i)}">{html.escape(i)}</code>' for i in df["id"]],
    })
    return out[COLUMNS]


_FALLBACK_NOISE = (
    re.compile(r"Loading ITables v[\d.]+ from the <code>init_notebook_mode</code> cell\.\.\.\s*"
               r"\(need <a href=https://itables\.org/troubleshooting\.html>help</a>\?\)"),
    re.compile(r"<sup><noscript>.*?</noscript><a href=https://itables\.org/fallbacks/static_preview\.html[^>]*>ⓘ</a></sup>",
               re.S),
)


def explorer_html(frame: pd.DataFrame, table_id: str = "evidence-table") -> str:
    """ITables HTML of ``frame`` with the DataTables bundle embedded (offline, file:// safe)."""
    from itables import javascript

    init = javascript.generate_init_offline_itables_html(_bundle())
    init = init.split('\n<div style="vertical-align:middle; text-align:left">\n<noscript>')[0]  # notebook-only hint
    filters = [COLUMNS.index(c) for c in FILTER_COLUMNS]
    table = javascript.to_html_datatable(
        frame, table_id=table_id, connected=False, allow_html=True, showIndex=False,
        display_logo_when_loading=False, classes="display compact", lengthMenu=[10, 25, 100, 1000],
        pageLength=25, order=[], maxBytes=0, maxColumns=0,
        layout={"top1": "searchPanes", "topStart": "pageLength", "topEnd": "search",
                "bottomStart": "info", "bottomEnd": "paging"},
        searchPanes={"columns": filters, "cascadePanes": False, "viewTotal": False, "initCollapsed": True,
                     "layout": "columns-4", "dtOpts": {"select": {"style": "multi"}}},
        columnDefs=[{"targets": [COLUMNS.index("Locator"), COLUMNS.index("Period")], "width": "14em"}],
        style={"table-layout": "auto", "width": "100%", "margin": "auto", "caption-side": "bottom"},
    )
    for pat in _FALLBACK_NOISE:
        table = pat.sub("", table)
    return init + "\n" + table


def _bundle() -> Path:
    from itables import options

    return Path(options.dt_bundle)
