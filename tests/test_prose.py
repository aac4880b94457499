"""Prose against its sources: every number a chapter states is tied to the data rows it comes from.

The chapters never type a figure (tests/test_notebooks.py); they glue it from a code cell with
``kazdiaspora.facts.glue``, which records the rows the number was read from. These tests read the
executed notebooks and check, for every glued number shown in the text:

* that the rows it names exist and that the number shown is the value those rows hold (a changed
  data value or a glue pointed at the wrong row fails);
* that the sentence stating it cites the source of those rows (a number quoted next to another
  source's citation fails);
* that a comparison word ("matches", "agrees", "close to", ...) between two glued numbers comes
  with a computed difference, glued as ``diff_*``;
* that the front page, the conclusion and every "Key points" section glue only numbers with
  provenance;
* that no working vocabulary ("seed", "research pack", "tier", "stored copy") reaches readers.

Each checker is also run on a small broken example, so that it is known to catch the mistake.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from kazdiaspora import bib, data, execute, facts, paths

GLUE_ROLE = re.compile(r"\{glue:text\}`([^`]+)`")
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
COMPARISON = re.compile(r"\b(match(?:es|ed)?|agree(?:s|d)?|close to|consistent with|in line with|"
                        r"similar to|the same as)\b", re.I)
BOOK_METADATA = {"version", "date_released", "version_label"}  # read from CITATION.cff and book.yml, not from data/
WORKING_WORDS = re.compile(r"\bseeds?\b|research pack|\bthe pack\b|\btiers?\b|stored cop(?:y|ies)", re.I)


@dataclass
class Glued:
    name: str
    text: str
    rows: list
    derived: bool
    provenance: bool


def glued_values(nb: dict) -> dict[str, Glued]:
    out = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {})
            sb = meta.get("scrapbook")
            if not sb:
                continue
            bundle = o.get("data", {})
            plain = next((v for k, v in bundle.items() if k.endswith("text/plain")), "")
            plain = "".join(plain) if isinstance(plain, list) else plain
            try:
                import ast
                text = str(ast.literal_eval(plain))
            except (ValueError, SyntaxError):
                text = plain
            prov = meta.get(facts.PROVENANCE_KEY)
            out[sb["name"]] = Glued(sb["name"], text, (prov or {}).get("rows", []), bool((prov or {}).get("derived")),
                                    prov is not None)
    return out


def markdown(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "markdown"]


def sentences(md: str) -> list[str]:
    md = re.sub(r"```.*?```", " ", md, flags=re.S)
    md = re.sub(r"\s+", " ", md)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*\[(\"])|\n- |\s-\s(?=[A-Z*])", md) if s.strip()]


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def _row(table: str, rid: str) -> pd.Series:
    df = data.load(table)
    idx = df.set_index(df.columns[0])
    if rid not in idx.index:
        raise KeyError(f"{table}: no row {rid!r}")
    return idx.loc[rid]


def check_values(glued: dict[str, Glued]) -> list[str]:
    """A glued number equals a value of the rows it names (printed numbers only)."""
    bad = []
    for g in glued.values():
        missing = []
        for table, rid, col in g.rows:
            try:
                _row(table, rid)
            except KeyError as e:
                missing.append(f"{g.name}: {e}")
        bad += missing
        if g.derived or not g.rows or missing:
            continue
        allowed_num, allowed_text = [], set()
        for table, rid, col in g.rows:
            r = _row(table, rid)
            cols = ["value", "value_low", "value_high"] if col == "value" else [col]
            for c in cols:
                v = r.get(c)
                if v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                if isinstance(v, str):
                    allowed_text.add(v)
                else:
                    allowed_num.append(float(v))
        if g.text in allowed_text:
            continue
        for x in _numbers(g.text):
            if not any(abs(x - a) < 1e-9 or abs(x - a) <= 0.5 * 10 ** -_decimals(g.text, x) for a in allowed_num):
                bad.append(f"{g.name}: shows {x:g} but its rows {[(t, i) for t, i, _ in g.rows]} hold "
                           f"{sorted(allowed_num) or sorted(allowed_text)}")
    return bad


def _decimals(text: str, x: float) -> int:
    m = re.search(r"\d+\.(\d+)", text)
    return len(m.group(1)) if m else 0


def _row_sources(g: Glued) -> set[str]:
    keys = set()
    for table, rid, col in g.rows:
        r = _row(table, rid)
        key = r.get(col.split("_")[0] + "_source_key") if col.startswith("toll") else r.get("source_key")
        if isinstance(key, str):
            keys.update(k for k in key.split(";") if k)
    return keys


def _ids(table: str) -> set:
    df = data.load(table)
    return set(df[df.columns[0]])


def check_citations(mds: list[str], glued: dict[str, Glued]) -> list[str]:
    """A sentence that states a number read from a source cites that source."""
    bad = []
    for md in mds:
        for s in sentences(md):
            if any(n in glued and any(r[1] not in _ids(r[0]) for r in glued[n].rows) for n in GLUE_ROLE.findall(s)):
                continue  # a missing row is reported by check_values
            cited = {k.strip() for m in CITE_ROLE.finditer(s) for k in m.group(1).split(",")}
            for name in GLUE_ROLE.findall(s):
                g = glued.get(name)
                if g is None or g.derived or not g.rows:
                    continue
                need = _row_sources(g)
                if need and not (need & cited):
                    bad.append(f"{name} ({g.text}) is stated without citing its source {sorted(need)}: "
                               f"{s[:160]!r}")
    return bad


def check_comparisons(mds: list[str], glued: dict[str, Glued]) -> list[str]:
    """Comparison words between two glued numbers need a computed difference (``diff_*``)."""
    bad = []
    for md in mds:
        for s in sentences(md):
            names = GLUE_ROLE.findall(s)
            plain = CITE_ROLE.sub("", GLUE_ROLE.sub("", s))
            if len(names) >= 2 and COMPARISON.search(plain):
                diffs = [n for n in names if n.startswith("diff_") and glued.get(n) and glued[n].derived]
                if not diffs:
                    bad.append(f"comparison without a computed difference: {s[:160]!r}")
    return bad


def key_sections(path: Path, mds: list[str]) -> list[str]:
    """Markdown that must glue only numbers with provenance: the front page, the conclusion and
    every chapter's Key points."""
    if path.name in {"intro.ipynb", "05_conclusion.ipynb"}:
        return mds
    return [m for m in mds if m.lstrip().startswith("## Key points")]


PAGES = execute.toc_notebooks()


def _load(p: Path) -> dict:
    return json.loads(p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("nb_path", PAGES, ids=lambda p: p.name)
def test_glued_numbers_equal_their_rows(nb_path):
    nb = _load(nb_path)
    bad = check_values(glued_values(nb))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("nb_path", PAGES, ids=lambda p: p.name)
def test_stated_numbers_cite_their_source(nb_path):
    nb = _load(nb_path)
    bad = check_citations(markdown(nb), glued_values(nb))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("nb_path", PAGES, ids=lambda p: p.name)
def test_comparisons_state_a_computed_difference(nb_path):
    nb = _load(nb_path)
    bad = check_comparisons(markdown(nb), glued_values(nb))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("nb_path", PAGES, ids=lambda p: p.name)
def test_key_numbers_have_provenance(nb_path):
    nb = _load(nb_path)
    glued = glued_values(nb)
    sections = key_sections(nb_path, markdown(nb))
    missing = sorted({n for m in sections for n in GLUE_ROLE.findall(m)
                      if n not in BOOK_METADATA and (not glued.get(n) or not glued[n].provenance)})
    assert not missing, f"glued without provenance (rows or derived) in key sections: {missing}"


def test_every_chapter_opens_with_questions_and_ends_with_key_points():
    for p in PAGES:
        if p.parent.name != "notebooks" or p.name.startswith("05_"):
            continue
        mds = markdown(_load(p))
        assert "Questions this chapter answers" in mds[0], p.name
        assert mds[-1].lstrip().startswith("## Key points"), p.name


def test_the_uzbekistan_share_range_covers_every_release():
    """The range stated for Uzbekistan's cumulative share spans every official release that prints it."""
    from kazdiaspora import findings

    n = findings.key_numbers()
    rep = data.load("repatriation")
    uz = rep[(rep["series"] == "origin_share_cumulative") & (rep["origin_iso3"] == "UZB")
             & (rep["kind"] == "official_statistics")]
    assert float(n["uzb_share_low"].text) == uz["value"].min()
    assert float(n["uzb_share_high"].text) == uz["value"].max()
    assert "shc_uzb_2016-01-01_kaztag_2016_02" in set(uz["id"])  # the 61.6 % release


def test_key_numbers_on_demand_equal_the_full_set():
    """A chapter computes only the key numbers its Key points state (so that it reads only their
    tables); each, computed alone, is the number the front page states."""
    from kazdiaspora import findings

    full = findings.key_numbers()
    assert list(full) == [n for group in findings.GROUPS for n in group]
    for group in findings.GROUPS:
        part = findings.key_numbers(list(reversed(group)))
        assert list(part) == list(group) and all(part[n] == full[n] for n in group), group
    with pytest.raises(KeyError, match="no key number 'nope'"):
        findings.key_numbers(["census_sum", "nope"])


# --- the checkers catch the mistakes they are for -------------------------------------------------

def test_checkers_catch_broken_prose():
    rid = "fam_deaths_cameron"  # 1,500,000 by Cameron (2016)
    good = Glued("x", "1,500,000", [["wave_figures", rid, "value"]], False, True)
    wrong_value = Glued("x", "1,600,000", [["wave_figures", rid, "value"]], False, True)
    assert not check_values({"x": good})
    assert check_values({"x": wrong_value})
    assert check_values({"x": Glued("x", "1", [["wave_figures", "no_such_row", "value"]], False, True)})
    # cited with the wrong source, or not at all
    assert not check_citations(["Cameron gives {glue:text}`x` deaths {cite:p}`cameron_2016`."], {"x": good})
    assert check_citations(["Cameron gives {glue:text}`x` deaths {cite:p}`volkan_2021`."], {"x": good})
    assert check_citations(["Cameron gives {glue:text}`x` deaths. Later {cite:p}`cameron_2016`."], {"x": good})
    # comparison words between two numbers need a computed difference
    y = Glued("y", "1,500,000", [["wave_figures", "fam_deaths_volkan", "value"]], False, True)
    d = Glued("diff_xy", "0", [], True, True)
    glued = {"x": good, "y": y, "diff_xy": d}
    assert check_comparisons(["{glue:text}`x` matches {glue:text}`y` {cite:p}`cameron_2016,volkan_2021`."], glued)
    assert check_comparisons(["{glue:text}`x` is close to {glue:text}`y`."], glued)
    assert not check_comparisons(["{glue:text}`x` and {glue:text}`y` differ by {glue:text}`diff_xy`, so they agree."], glued)


# --- reader-facing words --------------------------------------------------------------------------

def _reader_texts() -> dict[str, str]:
    texts = {}
    for p in PAGES:
        nb = _load(p)
        body = "\n".join(markdown(nb))
        body = CITE_ROLE.sub("", GLUE_ROLE.sub("", body))
        texts[str(p.relative_to(paths.ROOT))] = body
        texts[str(p.relative_to(paths.ROOT)) + " (glued)"] = "\n".join(g.text for g in glued_values(nb).values())
        for c in nb["cells"]:
            for o in c.get("outputs", []):
                for k, v in o.get("data", {}).items():
                    if k in ("text/markdown", "text/html"):
                        texts[f"{p.relative_to(paths.ROOT)} (output)"] = texts.get(f"{p.relative_to(paths.ROOT)} (output)", "") + (
                            "".join(v) if isinstance(v, list) else v)
    for p in sorted((paths.ROOT / "book").glob("*.md")):
        texts[str(p.relative_to(paths.ROOT))] = CITE_ROLE.sub("", p.read_text(encoding="utf-8"))
    for key, e in bib.entries().items():
        shown = " ".join(str(e.fields.get(f, "")) for f in ("title", "howpublished", "note", "journal"))
        texts[f"references.bib: {key}"] = shown
    return texts


def _without_keys(text: str) -> str:
    """Source keys (``seed_like_key``) are identifiers, not words shown as prose."""
    return re.sub(r"\b\w*_\w+\b", " ", text)


def test_no_working_vocabulary_reaches_readers():
    bad = []
    for where, text in _reader_texts().items():
        for m in WORKING_WORDS.finditer(_without_keys(text)):
            s = _without_keys(text)
            bad.append(f"{where}: {s[max(0, m.start() - 50):m.end() + 30]!r}")
    assert not bad, f"{len(bad)} working word(s) shown to readers:\n" + "\n".join(bad[:40])


def test_no_working_vocabulary_in_the_built_book(built_book):
    html = built_book.html
    bad = []
    for p in sorted(html.rglob("*.html")):
        if "_static" in p.parts or "_sources" in p.parts:
            continue
        text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", p.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        s = _without_keys(text)  # positions are in this text, not in the raw one
        for m in WORKING_WORDS.finditer(s):
            bad.append(f"{p.relative_to(html)}: {s[max(0, m.start() - 50):m.end() + 30]!r}")
    assert not bad, f"{len(bad)} working word(s) in the built HTML:\n" + "\n".join(bad[:40])


def _svg_texts(svg: str) -> list[str]:
    """The texts drawn on a figure: matplotlib writes each one, as drawn, in a comment beside its glyphs."""
    return [t.strip() for t in re.findall(r"<!--(.*?)-->", svg, flags=re.S)]


def test_no_working_vocabulary_drawn_on_a_figure():
    bad = []
    for p in sorted(paths.FIGURES_DIR.glob("*.svg")):
        for t in _svg_texts(p.read_text(encoding="utf-8")):
            if WORKING_WORDS.search(_without_keys(t)):
                bad.append(f"{p.name}: {t!r}")
    assert not bad, f"{len(bad)} working word(s) drawn on figures:\n" + "\n".join(bad[:40])
    assert _svg_texts("<g><!-- Moves begin (seed) --><path/></g>") == ["Moves begin (seed)"]


READER_COLUMNS = ("locator", "status_note", "measure", "period", "label", "description", "name", "geography",
                  "origin", "destination", "note")
"""Data columns shown to readers (the marks' popovers, the explorer and its notes, tables, chart labels)."""
TOOL_WORDS = re.compile(r"find_string|read_file|\bfetch\b", re.I)


def test_no_working_vocabulary_in_reader_facing_data():
    import pandas as pd

    bad = []
    for f in sorted((paths.ROOT / "data").rglob("*.csv")):
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in READER_COLUMNS:
            if col not in t.columns:
                continue
            for i, v in t[col].items():
                if WORKING_WORDS.search(_without_keys(v)) or TOOL_WORDS.search(v):
                    bad.append(f"{f.relative_to(paths.ROOT)}, line {i + 2}, column {col}: {v[:100]!r}")
    assert not bad, f"{len(bad)} working word(s) in data shown to readers:\n" + "\n".join(bad[:40])
    assert TOOL_WORDS.search("repository not identified (find_string/read_file id 4567)")


def test_no_working_vocabulary_in_downloads():
    """What a reader downloads: every cell of every figure's data file and the data package's READMEs."""
    import pandas as pd

    bad = []
    for f in sorted(paths.FIGURES_DIR.glob("*.csv")):
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in t.columns:
            for i, v in t[col].items():
                if WORKING_WORDS.search(_without_keys(v)):
                    bad.append(f"{f.name}, line {i + 2}, column {col}: {v[:100]!r}")
    for f in sorted((paths.ROOT / "data").rglob("README.md")) + [paths.ROOT / "data" / "datapackage.json"]:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if WORKING_WORDS.search(_without_keys(line)):
                bad.append(f"{f.relative_to(paths.ROOT)}, line {n}: {line[:100]!r}")
    assert not bad, f"{len(bad)} working word(s) in downloads:\n" + "\n".join(bad[:40])


def test_vocabulary_checker_catches_working_words():
    assert WORKING_WORDS.search(_without_keys("as the seed paper says"))
    assert WORKING_WORDS.search(_without_keys("Research pack tier D"))
    assert not WORKING_WORDS.search(_without_keys("{cite:p}`seed_like_key` the seeded bread"))


def test_famine_table_holds_every_estimate_the_prose_counts():
    """The chapter's table of famine estimates is called 'every estimate': it holds each row the
    prose counts among the deaths and the flight, and no population count."""
    from kazdiaspora import findings

    table = findings.famine_estimates()
    ids = set(table["id"])
    for part in (findings.famine_deaths(), findings.famine_flight()):
        missing = sorted(set(part["id"]) - ids)
        assert not missing, f"counted in the prose but missing from the table: {missing}"
    assert not table["measure"].str.lower().str.startswith("population of").any()


def test_famine_table_does_not_call_a_summary_as_printed():
    """A figure the passage we could read does not contain is not shown as printed in the famine table."""
    from kazdiaspora import evidence, findings

    d = findings.famine_estimates()
    unread = d["status_note"].fillna("").str.contains(evidence.NOT_IN_PASSAGE, regex=False)
    assert unread.any()
    assert d.loc[unread, "printed"].str.startswith("\u2014 (not in the passage we could read").all()
    assert (d.loc[~unread, "printed"] == d.loc[~unread, "as_printed"]).all()


def test_no_heading_holds_a_citation():
    """A citation in a heading breaks the PDF edition (LaTeX cannot put the citation's link in a
    section title: 'TeX capacity exceeded'); the citation goes in the first sentence below it."""
    import re

    from kazdiaspora import profiles

    texts = {str(p.relative_to(paths.ROOT)): p.read_text(encoding="utf-8")
             for p in sorted((paths.ROOT / "book").rglob("*.md"))}
    for p in PAGES:
        texts[str(p.relative_to(paths.ROOT))] = "\n".join(markdown(_load(p)))
    ev = None
    for iso in profiles.countries():
        texts[f"country page {iso}"] = profiles.markdown(iso, ev)
    bad = [f"{name}: {line.strip()}" for name, text in texts.items() for line in text.splitlines()
           if re.match(r"\s*#{1,6}\s", line) and "{cite" in line]
    assert not bad, "\n".join(bad)
