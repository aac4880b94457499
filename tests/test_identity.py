"""The book's identity lives in book.yml; everything that repeats it agrees with it.

CITATION.cff and .zenodo.json are generated from it; _config.yml's copies, the figures' citation
constants, the How to cite page, the package version and the changelog are checked against it;
the Sphinx configuration derived from it (buttons, footer, substitutions) is checked directly.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib

import pytest
import yaml

from kazdiaspora import figpage, figures, identity, paths, sphinxext

ROOT = paths.ROOT
BOOK = identity.BOOK


def test_generated_release_files_are_up_to_date():
    for name, render in identity.GENERATED.items():
        assert (ROOT / name).read_text(encoding="utf-8") == render(BOOK), \
            f"{name} disagrees with book.yml: run `python -m kazdiaspora.identity`"


def test_citation_cff_and_zenodo_carry_the_identity():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    zen = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    assert cff["title"] == zen["title"] == BOOK.title
    assert str(cff["version"]) == zen["version"] == str(cff["preferred-citation"]["version"]) == BOOK.version
    assert str(cff["date-released"]) == zen["publication_date"] == BOOK.date.isoformat()
    assert [a["name"] for a in cff["authors"]] == [c["name"] for c in zen["creators"]] == list(BOOK.editors)
    assert cff["repository-code"] == BOOK.repository_url
    assert zen["license"] == "cc-by-4.0" and zen["upload_type"] == "publication"
    assert zen["related_identifiers"][0]["identifier"] == BOOK.repository_url


def test_config_yml_copies_agree():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cfg["title"] == BOOK.short_title
    assert cfg["author"] == BOOK.author
    assert str(cfg["copyright"]) == BOOK.year
    assert cfg["repository"]["url"] == BOOK.repository_url
    assert cfg["repository"]["branch"] == BOOK.branch
    assert "launch_buttons" not in cfg, "launch buttons come from book.yml (site_url), not _config.yml"
    assert "kazdiaspora.sphinxext" in cfg["sphinx"]["extra_extensions"]


def test_package_version_and_figure_constants_agree():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == BOOK.version
    assert (figures.BOOK_TITLE, figures.BOOK_AUTHOR, figures.BOOK_YEAR, figures.BOOK_URL, figures.BOOK_VERSION) == \
        (BOOK.title, BOOK.author, BOOK.year, BOOK.url, BOOK.version)


def test_figure_citation_names_the_version():
    meta = {"id": "demo", "title": "A demo", "licence": "CC BY 4.0", "sources": []}
    assert f"Version {BOOK.version}." in figpage.citation_text(meta)
    assert f"version {BOOK.version}" in figpage.citation_bibtex(meta)
    page = (ROOT / "book" / "figures.md").read_text(encoding="utf-8")
    cites = re.findall(r"\*\*Cite this figure:\*\*.*", page)
    assert cites and all(f"Version {BOOK.version}." in c for c in cites)


def test_how_to_cite_names_this_version_everywhere():
    text = (ROOT / "book" / "how_to_cite.md").read_text(encoding="utf-8")
    versions = set(re.findall(r"[Vv]ersion (\d+\.\d+\.\d+)", text))
    assert versions == {BOOK.version}, f"how_to_cite.md names versions {versions}, book.yml {BOOK.version}"
    years = set(re.findall(r"\((\d{4})\)|year\s*=\s*\{(\d{4})\}", text))
    assert {y for pair in years for y in pair if y} == {BOOK.year}
    assert text.count(BOOK.repository_url) >= 3


def test_changelog_newest_entry_is_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heads = re.findall(r"^## \[([^\]]+)\](?: — (\S+))?", text, re.M)
    assert heads, "CHANGELOG.md has no version entries"
    label, rest = heads[0]
    if BOOK.status == "draft":
        assert (label, rest) == ("Unreleased", BOOK.version), f"newest entry {heads[0]}; book.yml: draft {BOOK.version}"
    else:
        assert (label, rest) == (BOOK.version, BOOK.date.isoformat()), \
            f"newest entry {heads[0]}; book.yml: {BOOK.version} released {BOOK.date}"
    released = [h[0] for h in heads[1:]]
    assert all(identity.SEMVER.fullmatch(v) for v in released)
    key = [tuple(map(int, v.split("."))) for v in released]
    assert key == sorted(key, reverse=True), "changelog entries must be newest first"
    assert all(k < tuple(map(int, BOOK.version.split("."))) for k in key)


def test_versions_page_is_in_the_book():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: book/versions" in toc
    page = (ROOT / "book" / "versions.md").read_text(encoding="utf-8")
    assert "{{ book_version_label }}" in page and "Errata" in page and "CHANGELOG.md" in page


def _book(tmp_path, **changes):
    raw = yaml.safe_load(identity.SOURCE.read_text(encoding="utf-8"))
    raw.update(changes)
    p = tmp_path / "book.yml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return identity.load(p)


def test_launch_buttons_only_when_hosted(tmp_path):
    unhosted = sphinxext.identity_config(_book(tmp_path, site_url=""), {"extra_footer": "x"})
    assert unhosted["html_theme_options"]["launch_buttons"] == {}
    assert unhosted["html_theme_options"]["repository_url"] == BOOK.repository_url
    hosted_book = _book(tmp_path, site_url="https://example.org/book/")
    hosted = sphinxext.identity_config(hosted_book, {})
    assert hosted["html_theme_options"]["launch_buttons"]["binderhub_url"]
    assert hosted["html_baseurl"] == "https://example.org/book/" and hosted_book.url == "https://example.org/book/"
    # the citation files point readers to the site once it is hosted
    assert "url: https://example.org/book/" in identity.citation_cff(hosted_book)


def test_sphinx_config_carries_version_and_date():
    cfg = sphinxext.identity_config(BOOK, {"extra_footer": "Licences."})
    footer = cfg["html_theme_options"]["extra_footer"]
    assert footer.startswith("Licences.") and BOOK.version in footer and BOOK.date.isoformat() in footer
    assert cfg["myst_substitutions"]["book_version"] == BOOK.version
    assert (cfg["project"], cfg["author"], cfg["copyright"], cfg["release"]) == \
        (BOOK.short_title, BOOK.author, BOOK.year, BOOK.version)
    again = sphinxext.identity_config(BOOK, cfg["html_theme_options"])
    assert again["html_theme_options"]["extra_footer"] == footer, "applying twice must not repeat the footer"


@pytest.mark.parametrize("change, message", [
    ({"version": "0.2"}, "'version'"),
    ({"status": "final"}, "'status'"),
    ({"date": "6 Dec 2026"}, "'date'"),
    ({"editors": []}, "'editors'"),
    ({"repository_url": "github.com/x"}, "'repository_url'"),
    ({"site_url": "http://example.org"}, "'site_url'"),
])
def test_bad_identity_is_refused_with_the_key_named(tmp_path, change, message):
    with pytest.raises(identity.IdentityError, match=message):
        _book(tmp_path, **change)


def test_date_is_a_real_date():
    assert isinstance(BOOK.date, dt.date) and BOOK.date.year >= 2026
