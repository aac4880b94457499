"""The book's identity, read from ``book.yml`` (the one place for it), and what is derived from it.

``book.yml`` holds the title, version, date, editors, repository and site address, licences,
abstract and keywords. From it:

* :data:`BOOK` (an :class:`Identity`) is what the package uses (the figures' citations,
  ``kazdiaspora.figures.BOOK_*``);
* :func:`citation_cff` and :func:`zenodo_json` render ``CITATION.cff`` and ``.zenodo.json``;
* ``kazdiaspora.sphinxext`` sets the site's title, author, buttons and footer from it at build time.

``python -m kazdiaspora.identity`` rewrites ``CITATION.cff`` and ``.zenodo.json``;
``python -m kazdiaspora.identity --check`` fails if either differs from what ``book.yml`` gives.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import paths, trace

SOURCE = paths.ROOT / "book.yml"
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
STATUSES = ("draft", "released")
REQUIRED = ("title", "short_title", "version", "status", "date", "editors", "repository_url", "site_url",
            "licence", "licence_spdx", "licence_url", "code_licence", "abstract", "keywords")


class IdentityError(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    title: str
    short_title: str
    version: str
    status: str
    date: dt.date
    editors: tuple[str, ...]
    repository_url: str
    branch: str
    site_url: str
    licence: str
    licence_spdx: str
    licence_url: str
    code_licence: str
    abstract: str
    keywords: tuple[str, ...]

    @property
    def year(self) -> str:
        return str(self.date.year)

    @property
    def author(self) -> str:
        """The editors as one credit line ("A; B; C")."""
        return "; ".join(self.editors)

    @property
    def url(self) -> str:
        """Where a reader finds the book: the hosted site, or the repository until it is hosted."""
        return self.site_url or self.repository_url

    @property
    def hosted(self) -> bool:
        return bool(self.site_url)

    @property
    def version_label(self) -> str:
        """'Version 0.2.0 (2026-12-06)' or, for a draft, 'Version 0.2.0 (draft, 2026-12-06)'."""
        state = "" if self.status == "released" else "draft, "
        return f"Version {self.version} ({state}{self.date.isoformat()})"


def load(path: Path = SOURCE) -> Identity:
    """Read and check ``book.yml``; an error names the file and the key."""
    trace.record(path)  # a notebook that cites the book is re-executed when book.yml changes
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IdentityError(f"{path}: missing (the book's identity lives there)") from None
    if not isinstance(raw, dict):
        raise IdentityError(f"{path}: expected a mapping of keys")

    def bad(key, what):
        raise IdentityError(f"{path}: key {key!r}: {what}")

    for key in REQUIRED:
        if key not in raw:
            bad(key, "missing")
    for key in ("title", "short_title", "licence", "licence_spdx", "code_licence", "abstract"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            bad(key, "expected non-empty text")
    version = str(raw["version"])
    if not SEMVER.fullmatch(version):
        bad("version", f"{version!r} is not a semantic version MAJOR.MINOR.PATCH")
    if raw["status"] not in STATUSES:
        bad("status", f"{raw['status']!r}: expected one of {', '.join(STATUSES)}")
    date = raw["date"]
    if not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError:
            bad("date", f"{date!r} is not a date YYYY-MM-DD")
    editors = raw["editors"]
    if not isinstance(editors, list) or not editors or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"].strip() for e in editors):
        bad("editors", "expected a list of {name: ...}")
    for key in ("repository_url", "licence_url"):
        if not isinstance(raw[key], str) or not re.fullmatch(r"https://\S+", raw[key]):
            bad(key, f"{raw[key]!r} is not an https:// address")
    site = raw["site_url"] or ""
    if site and not re.fullmatch(r"https://\S+/", site):
        bad("site_url", f"{site!r}: expected empty (not hosted) or an https:// address ending in /")
    kw = raw["keywords"]
    if not isinstance(kw, list) or not kw or not all(isinstance(k, str) and k.strip() for k in kw):
        bad("keywords", "expected a list of words")
    return Identity(
        title=raw["title"], short_title=raw["short_title"], version=version, status=raw["status"], date=date,
        editors=tuple(e["name"] for e in editors), repository_url=raw["repository_url"],
        branch=str(raw.get("branch") or "main"), site_url=site, licence=raw["licence"],
        licence_spdx=raw["licence_spdx"], licence_url=raw["licence_url"], code_licence=raw["code_licence"],
        abstract=" ".join(raw["abstract"].split()), keywords=tuple(kw))


BOOK = load()

_CFF_HEADER = """\
# How to cite this work (Citation File Format 1.2.0, https://citation-file-format.github.io/).
# GENERATED from book.yml by `python -m kazdiaspora.identity`: edit book.yml, not this file
# (tests/test_identity.py fails if they disagree).
# Licences: the book's text, figures and data compilation are CC BY 4.0 (LICENSE-CONTENT.md);
# the code (kazdiaspora/, scripts/, tests/) is MIT (LICENSE).
"""


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def citation_cff(b: Identity = BOOK) -> str:
    authors = [{"name": e} for e in b.editors]
    doc = {
        "cff-version": "1.2.0",
        "message": ("If you use this book, its figures or its data compilation, please cite it as below. "
                    "Cite the sources named under each figure and in data/datapackage.json as well. "
                    f"Text, figures and data compilation: {b.licence}. Code: {b.code_licence}."),
        "title": b.title,
        "type": "dataset",
        "authors": authors,
        "version": b.version,
        "date-released": b.date.isoformat(),
        "license": b.licence_spdx,
        "repository-code": b.repository_url,
        "url": b.url,
        "abstract": b.abstract,
        "keywords": list(b.keywords),
        "preferred-citation": {
            "type": "book",
            "title": b.title,
            "authors": authors,
            "year": int(b.year),
            "version": b.version,
            "url": b.url,
            "repository-code": b.repository_url,
            "license": b.licence_spdx,
        },
    }
    return _CFF_HEADER + yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)


def zenodo_json(b: Identity = BOOK) -> str:
    """Zenodo's deposit metadata, read when a GitHub release is archived (DOI minting)."""
    related = [{"identifier": b.repository_url, "relation": "isSupplementedBy", "scheme": "url",
                "resource_type": "software"}]
    if b.site_url:
        related.append({"identifier": b.site_url, "relation": "isIdenticalTo", "scheme": "url",
                        "resource_type": "publication-book"})
    doc = {
        "title": b.title,
        "upload_type": "publication",
        "publication_type": "book",
        "description": b.abstract,
        "creators": [{"name": e} for e in b.editors],
        "version": b.version,
        "publication_date": b.date.isoformat(),
        "license": b.licence_spdx.lower(),
        "access_right": "open",
        "keywords": list(b.keywords),
        "language": "eng",
        "related_identifiers": related,
        "notes": f"Text, figures and data compilation: {b.licence}. Code: {b.code_licence}. "
                 "Each number in the data remains attributed to its source.",
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


GENERATED = {"CITATION.cff": citation_cff, ".zenodo.json": zenodo_json}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if a generated file differs from book.yml")
    args = ap.parse_args(argv)
    stale = []
    for name, fn in GENERATED.items():
        path = paths.ROOT / name
        text = fn(BOOK)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}", file=sys.stderr)
    if stale:
        print(f"out of date with book.yml: {', '.join(stale)} (run python -m kazdiaspora.identity)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
