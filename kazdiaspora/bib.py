"""The keys of ``references.bib``.

The book cites with sphinxcontrib-bibtex; the data layer checks that every ``source_key`` in
``data/`` is a key of the same file. Keys are read with a small scanner so that a duplicate or a
malformed entry is reported with its line number; the full parse (``pybtex``) is used by the tests.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import paths, trace

_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s]*)\s*,", re.MULTILINE)


class BibError(ValueError):
    """A problem in references.bib, naming the file and line."""


def bib_keys(path: Path | None = None) -> dict[str, int]:
    """Return ``{key: line_number}`` for every entry of the .bib file.

    Raises BibError for a missing file, an entry without a key, or a duplicate key.
    """
    path = Path(path or paths.BIBFILE)
    if not path.exists():
        raise BibError(f"{path}: bibliography file not found")
    trace.record(path)
    text = path.read_text(encoding="utf-8")
    keys: dict[str, int] = {}
    for m in _ENTRY.finditer(text):
        kind, key = m.group(1).lower(), m.group(2)
        if kind in {"comment", "preamble", "string"}:
            continue
        line = text.count("\n", 0, m.start()) + 1
        if not key:
            raise BibError(f"{path}, line {line}: @{kind} entry has no key")
        if key in keys:
            raise BibError(f"{path}, line {line}: duplicate key '{key}' (first defined on line {keys[key]})")
        keys[key] = line
    return keys


_ENTRIES: dict | None = None


def _latex_to_text(s: str) -> str:
    """Drop the braces and the few LaTeX commands used in references.bib."""
    s = s.replace("\\&", "&").replace("--", "\u2013").replace("`", "\u2018").replace("'", "\u2019")
    return re.sub(r"[{}]", "", s).strip()


def entries(path: Path | None = None) -> dict:
    """Parsed entries (pybtex), cached per file."""
    global _ENTRIES
    from pybtex.database import parse_file

    path = Path(path or paths.BIBFILE)
    if _ENTRIES is None or _ENTRIES[0] != (path, path.stat().st_mtime_ns):
        trace.record(path)
        _ENTRIES = ((path, path.stat().st_mtime_ns), parse_file(str(path), bib_format="bibtex").entries)
    return _ENTRIES[1]


def short_cite(key: str) -> str:
    """Author-year label for source lines: 'Askhat (n.d.)', 'Smith & Jones (2001)', 'Barcus et al. (2012)'."""
    e = entries()[key]
    if e.fields.get("shortauthor"):
        return f"{_latex_to_text(e.fields['shortauthor'])} ({_latex_to_text(e.fields.get('year', 'n.d.'))})"
    people = e.persons.get("author") or e.persons.get("editor") or []
    if people and _latex_to_text(str(people[0])) == "Wikipedia contributors":
        first = _latex_to_text(e.fields.get("howpublished", "")).split(" ")[0].strip(",")
        lang = first if first in {"English", "Russian", "Chinese", "Kazakh", "Turkish", "German", "French",
                                  "Uzbek", "Mongolian", "Persian", "Kyrgyz"} else ""
        title = _latex_to_text(e.fields.get("title", key))
        if len(title) > 38:
            title = title[:36].rstrip() + "\u2026"
        who = f"Wikipedia ({lang}): {title}" if lang and lang != "Wikipedia" else f"Wikipedia: {title}"
        return f"{who} ({_latex_to_text(e.fields.get('year', 'n.d.'))})"
    if people:
        last = [_latex_to_text(" ".join(p.prelast_names + p.last_names)) for p in people]
        who = last[0] if len(last) == 1 else (f"{last[0]} & {last[1]}" if len(last) == 2 else f"{last[0]} et al.")
    else:
        f = e.fields
        who = _latex_to_text(f.get("shortauthor") or f.get("organization") or f.get("institution")
                             or f.get("publisher") or f.get("journal") or f.get("title", key))
        if len(who) > 48:
            who = who[:45].rstrip() + "\u2026"
    return f"{who} ({_latex_to_text(e.fields.get('year', 'n.d.'))})"


def full_reference(key: str) -> str:
    """One-line full reference for data files: 'Author. Title. Published where. Year. URL'."""
    e = entries()[key]
    f = e.fields
    people = e.persons.get("author") or e.persons.get("editor") or []
    who = "; ".join(_latex_to_text(str(p)) for p in people) or _latex_to_text(
        f.get("shortauthor") or f.get("organization") or f.get("institution") or "")
    parts = [who, _latex_to_text(f.get("title", ""))]
    where = f.get("journal") or f.get("booktitle") or f.get("howpublished") or f.get("publisher") or ""
    parts.append(_latex_to_text(where))
    if f.get("year") and _latex_to_text(f["year"]) not in parts[-1]:
        parts.append(_latex_to_text(f["year"]))
    if f.get("url"):
        parts.append(f["url"])
    return ". ".join(p.rstrip(".") for p in parts if p) + "."
