"""The citation metadata agrees everywhere: CITATION.cff, the How to cite page, the licences and the
constants the figures' citations are built from (kazdiaspora.figures)."""
from __future__ import annotations

import datetime as dt
import re
import tomllib

import pytest
import yaml

from kazdiaspora import figures, paths

ROOT = paths.ROOT
#: Top-level keys of Citation File Format 1.2.0 (its schema allows no others).
CFF_KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
            "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
            "references", "repository", "repository-artifact", "repository-code", "title", "type",
            "url", "version"}
CFF_REQUIRED = {"authors", "cff-version", "message", "title"}


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _date(v) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def test_cff_is_valid_citation_file_format(cff):
    assert cff["cff-version"] == "1.2.0"
    assert CFF_REQUIRED <= set(cff), f"missing: {CFF_REQUIRED - set(cff)}"
    assert set(cff) <= CFF_KEYS, f"not CFF 1.2.0 keys: {set(cff) - CFF_KEYS}"
    assert cff["type"] in ("software", "dataset")
    assert isinstance(cff["message"], str) and len(cff["message"].split()) >= 8
    assert cff["authors"] and all(isinstance(a, dict) and (a.get("name") or a.get("family-names"))
                                  for a in cff["authors"])
    assert re.fullmatch(r"\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])", _date(cff["date-released"]))
    assert cff["license"] == "CC-BY-4.0"
    assert isinstance(cff["keywords"], list) and len(cff["keywords"]) >= 3
    assert all(isinstance(k, str) and k.strip() for k in cff["keywords"])
    for key in ("repository-code", "url"):
        assert re.fullmatch(r"https://\S+", cff[key])
    pc = cff["preferred-citation"]
    assert {"type", "title", "authors"} <= set(pc)
    assert pc["type"] == "book"


def test_cff_agrees_with_the_figures_constants(cff, version):
    assert cff["title"] == figures.BOOK_TITLE
    assert [a["name"] for a in cff["authors"]] == [figures.BOOK_AUTHOR]
    assert cff["repository-code"] == figures.BOOK_URL
    assert cff["url"] == figures.BOOK_URL
    assert _date(cff["date-released"])[:4] == figures.BOOK_YEAR
    assert str(cff["version"]) == version
    assert figures.LICENCE == "CC BY 4.0" and cff["license"] == "CC-BY-4.0"
    pc = cff["preferred-citation"]
    assert pc["title"] == figures.BOOK_TITLE
    assert [a["name"] for a in pc["authors"]] == [figures.BOOK_AUTHOR]
    assert str(pc["year"]) == figures.BOOK_YEAR
    assert pc["url"] == figures.BOOK_URL
    assert str(pc["version"]) == version
    assert pc["license"] == "CC-BY-4.0"


def test_how_to_cite_page_agrees(version):
    text = (ROOT / "book" / "how_to_cite.md").read_text(encoding="utf-8")
    flat = " ".join(text.replace(">", " ").split())
    for needle in (figures.BOOK_TITLE, figures.BOOK_AUTHOR, figures.BOOK_URL, f"({figures.BOOK_YEAR})",
                   f"year = {{{figures.BOOK_YEAR}}}", f"Version {version}", "CC BY 4.0", "MIT"):
        assert needle in flat, f"how_to_cite.md should contain {needle!r}"
    # a figure's citation is on the figures page; the data's sources on the references page
    assert "{doc}`figures`" in text and "{doc}`references`" in text
    assert "datapackage.json" in text and "CITATION.cff" in text
    # every BibTeX block is balanced and has a key
    blocks = re.findall(r"```bibtex\n(.*?)```", text, re.S)
    assert blocks
    for b in blocks:
        assert re.match(r"@\w+\{\w+,", b.strip()), b
        assert b.count("{") == b.count("}"), b


def test_licences_state_code_and_content():
    mit = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert mit.startswith("MIT License") and "Permission is hereby granted" in mit
    content = (ROOT / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    for needle in ("CC BY 4.0", "creativecommons.org/licenses/by/4.0", "GeoNames", "Natural Earth",
                   "public domain", "MIT", "source_key"):
        assert needle in content, needle
    pkg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "CC BY 4.0" in pkg["html"]["extra_footer"] and "MIT" in pkg["html"]["extra_footer"]
    assert pkg["author"] == figures.BOOK_AUTHOR
    assert pkg["repository"]["url"] == figures.BOOK_URL


def test_no_two_sources_are_cited_alike():
    """Every source's author-year citation is its own: where two would read alike ('Kara (n.d.)'),
    the year takes a letter in the order of their titles; a source cited alike by no other keeps its
    plain year. The same labels end the figures' source lines and label the References entries."""
    from kazdiaspora import bib

    keys = list(bib.entries())
    cites = [bib.short_cite(k) for k in keys]
    assert len(set(cites)) == len(cites), sorted(c for c in cites if cites.count(c) > 1)[:5]
    assert len({bib.cite_label(k) for k in keys}) == len(keys)
    groups: dict = {}
    for k in keys:
        groups.setdefault(bib.cite_parts(k), []).append(k)
    for (who, year), ks in groups.items():
        if len(ks) == 1:
            assert bib.cite_year(ks[0]) == year
        else:
            by_title = sorted(ks, key=lambda k: (bib._latex_to_text(bib.entries()[k].fields.get("title", "")).lower(), k))
            assert [bib.cite_year(k) for k in by_title] == [year + c for c in "abcdefghijklmnopqrstuvwxyz"[:len(ks)]]
    assert bib._letters(25) == "z" and bib._letters(26) == "aa"
