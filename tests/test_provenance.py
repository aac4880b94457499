"""Provenance: data/ agrees with the seed documents and the research pack it was compiled from.

The seeds and the research pack live outside the repository (`../shared/`, read-only, beside the
clone in CI). The book never reads them; these tests do, to prove that what was copied into
data/ is what the sources print. Without ../shared the tests are skipped with a reason.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from kazdiaspora import data, paths

SHARED = paths.ROOT.parent / "shared"
SEEDS = {
    "askhat_grfdt": "001_",
    "iran_kazakhs_article": "000_",
    "ehistory_azerbaijanis": "002_",
    "batayeva_oppression": "003_",
}
needs_shared = pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared (seeds, research pack) not beside the repository")

# Rows whose figure was read in the source itself (through the search tool), not in the pack's rows.
READ_DIRECTLY = {
    "aze_kz_1999_census_gh": "Azerbaijani column of the census data array (identity helper read the file)",
    "aze_kz_2009_census_gh": "idem",
    "aze_kz_2021_census_gh": "idem",
}

MAGNITUDE_TABLES = ["population_estimates", "repatriation", "iran", "wave_figures", "diasporas_in_kazakhstan"]


def _norm(s: str) -> str:
    s = s.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'").replace("\u2018", "'")
    s = s.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", s).strip().lower()


def _seed_text(key: str) -> str:
    f = next((SHARED / "seeds").glob(SEEDS[key] + "*.txt"))
    return _norm(f.read_text(encoding="utf-8"))


@needs_shared
@pytest.mark.parametrize("table", MAGNITUDE_TABLES)
def test_seed_figures_are_printed_in_the_seed(table):
    """Every figure taken from a seed shows its printed text, and that text is in the seed."""
    df = data.load(table)
    seeds = df[df["source_key"].isin(SEEDS)]
    missing = []
    for _, r in seeds.iterrows():
        printed = r["as_printed"]
        if pd.isna(printed) or not printed:
            if not (pd.isna(r["value"]) and pd.isna(r["value_low"])):
                missing.append(f"{r.iloc[0]}: a seed figure without as_printed")
            continue
        if _norm(printed) not in _seed_text(r["source_key"]):
            missing.append(f"{r.iloc[0]}: {printed!r} not found in the seed text")
    assert not missing, "\n".join(missing)


@needs_shared
def test_seed_tables_1_and_2_are_complete_and_exact():
    df = data.load("population_estimates")
    t1 = df[df["table_ref"].fillna("").str.startswith("askhat_t1:")]
    t2 = df[df["table_ref"].fillna("").str.startswith("askhat_t2:")]
    text = _seed_text("askhat_grfdt")
    # Table 1 prints 14 rows (Kazakhstan .. Sweden, Total) in two columns, Kazakhstan in one only.
    assert set(t1["table_ref"]) == {"askhat_t1:mendikulova_2001", "askhat_t1:tatimov_2003"}
    assert len(t1) == 29
    for printed in t1["as_printed"]:
        assert _norm(printed) in text
    assert set(t2["table_ref"]) >= {"askhat_t2:official", "askhat_t2:field_2007_2009"}
    for printed in t2["as_printed"].dropna():
        assert _norm(printed) in text


@needs_shared
def test_survey_table_3_is_copied_exactly():
    text = _seed_text("askhat_grfdt")
    survey = data.load("survey")
    assert set(survey["iso3"]) == {"RUS", "CHN", "UZB", "MNG"}
    for q in survey["question"].unique():
        assert _norm(q) in text, q
    assert set(survey["answer"]) <= {"Yes", "No"}


@needs_shared
def test_no_unverified_figure_is_presented_as_data():
    """A figure of 5_unverified_or_not_found.csv may appear only as a seed's own claim, flagged."""
    excluded = pd.read_csv(SHARED / "sources" / "5_unverified_or_not_found.csv")
    bad = []
    for table in MAGNITUDE_TABLES:
        df = data.load(table)
        year_col = next(c for c in ("year", "year_end", "date_end", "period") if c in df.columns)
        for _, ex in excluded.dropna(subset=["value"]).iterrows():
            hits = df[(df["value"] == float(ex["value"]))]
            for _, h in hits.iterrows():
                same_year = str(ex["year_or_period"])[:4] in str(h[year_col]) or str(ex["year_or_period"]) in str(h.get("period", ""))
                if not same_year:
                    continue
                flagged = str(h.get("note", "")).lower().startswith("uncorroborated") or "uncorroborated" in str(h.get("note", "")).lower()
                if h["source_key"] not in SEEDS or not flagged:
                    bad.append(f"{table}: {h.iloc[0]} = {ex['value']} ({ex['geography']}, {ex['year_or_period']}) is on the unverified list")
    assert not bad, "\n".join(bad)


@needs_shared
@pytest.mark.parametrize("table", MAGNITUDE_TABLES)
def test_research_pack_figures_match_the_pack(table):
    """A figure attributed to a research-pack source appears in that source's rows of the pack
    (as a value, a range end, or in the quoted sentence)."""
    pack = pd.concat([pd.read_csv(p, dtype=str) for p in sorted((SHARED / "sources").glob("[1-4]_*.csv"))])
    by_source = {k: g for k, g in pack.groupby("source_short")}
    df = data.load(table)
    unmatched = []
    for _, r in df[~df["source_key"].isin(SEEDS)].iterrows():
        rows = by_source.get(r["source_key"])
        if rows is None:
            continue
        if r.iloc[0] in READ_DIRECTLY:
            continue
        blob = " ".join(rows[["value", "value_low", "value_high", "measure", "note"]].fillna("").agg(" ".join, axis=1))
        blob = re.sub(r"(\d+) thousand (\d{3})", r"\1\2", blob)
        nums = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", blob.replace(",", "").replace("\u00a0", "").replace(" ", ""))}
        nums |= {float(x) for x in re.findall(r"\d+(?:\.\d+)?", blob.replace(",", "."))}
        nums |= {float(x) for x in re.findall(r"\d+(?:\.\d+)?", blob)}
        for col in ("value", "value_low", "value_high"):
            v = r[col]
            if pd.isna(v):
                continue
            scaled = {v, v / 1e3, v / 1e6, v / 1e4, round(v / 1e3, 1), round(v / 1e6, 2), round(v / 1e6, 1)}
            if not any(abs(s - n) < 1e-6 for s in scaled for n in nums):
                unmatched.append(f"{r.iloc[0]} ({r['source_key']}): {col}={v:g}")
    assert not unmatched, f"{len(unmatched)} figure(s) not found in the pack rows of their source:\n" + "\n".join(unmatched[:40])
