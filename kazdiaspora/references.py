"""The References page as a reader uses it: grouped by kind of source, notes for readers only.

Groups come from ``data/sources/sources.csv`` (column ``source_type``) when that table exists;
otherwise each entry of ``references.bib`` is classed from its type and fields
(:func:`kind_of`). :func:`bibliography_markdown` writes one ``{bibliography}`` directive per group
(filtered by key), which the Sphinx extension puts where ``book/references.md`` holds the line
``<!-- kaz:references -->``. :func:`reader_entry` removes from an entry's note the sentences
meant for the book's maintainers (reliability grades, working-file numbers).
"""
from __future__ import annotations

import csv
import re

from . import bib, paths

#: (group id, heading) in the order of the page.
GROUPS = (
    ("official", "Official statistics and legal acts"),
    ("scholarly", "Scholarly works"),
    ("press", "Press and news agencies"),
    ("encyclopedia", "Encyclopedias"),
    ("web", "Other web pages and documents"),
)
#: source_type of data/sources/sources.csv -> group
SOURCE_TYPE_GROUP = {"official": "official", "legal": "official", "archival": "official",
                     "scholarly": "scholarly", "press": "press", "encyclopedia": "encyclopedia",
                     "web": "web", "source_document": "web"}

_MAINTAINER = re.compile(r"\b(tier|research pack|seed)\b", re.IGNORECASE)
_OFFICIAL_AUTHOR = re.compile(r"Президент|Правительств|Ministry|Bureau of|Statistics|Committee|Government|"
                              r"Foreign Affairs Office|UNHCR", re.IGNORECASE)
_PRESS = re.compile(r"news|Kazinform|Qazinform|KazTAG|Interfax|RFE/RL|Radio|Times|\bTV\b|newspaper|"
                    r"\bPost\b|Caravan|Tengri|NUR\.KZ|Total\.kz|Vlast|Orda|Aikyn|Aqshamy|Lada|Zhaik|"
                    r"Turkystan|Qandastar|Silkway|Kazlenta|Travelpress|Kazworld|IRIN|IWPR|Eurasia|CABAR|"
                    r"Analyst|oqu\.news|Monitor|Ult\.kz|Vkurse|Aqparat|Asia-Today|GlobalNews|QazMonitor|"
                    r"NewsTaraz|Mangystau Media|Anadolu|daz\.asia|Zeitung", re.IGNORECASE)


def _plain(s: str) -> str:
    return re.sub(r"[{}]", "", str(s))


def clean_note(note: str) -> str:
    """The note without the sentences meant for maintainers ("Tier B", "Seed document 002 ...")."""
    parts = re.split(r"(?<=[.;])\s+", note.strip())
    keep = [p for p in parts if p and not _MAINTAINER.search(p)]
    out = " ".join(keep).strip()
    return out.rstrip(";").strip()


_WORKING_PHRASE = re.compile(r"\s+(?:in|from) the research pack\b", re.IGNORECASE)


def typographic_quotes(text: str) -> str:
    """TeX quotes as typographic ones: ``x'' -> “x”, `x' -> ‘x’ (apostrophes stay); an
    opening quote without its closing one is dropped."""
    text = re.sub(r"``(.+?)''", "\u201c\\1\u201d", text)
    text = re.sub(r"(?<![\w`])`([^`']+)'(?!\w)", "\u2018\\1\u2019", text)
    return re.sub(r"``?", "", text)  # an opening quote never closed in the source: dropped


def reader_entry(entry):
    """A copy of a pybtex entry fit for readers: maintainers' notes dropped, 'n.d.' years kept once,
    TeX quotes made typographic, working phrases ("in the research pack") removed."""
    from pybtex.database import Entry

    fields = {k: (v if k.lower() == "url" else typographic_quotes(_WORKING_PHRASE.sub("", str(v))))
              for k, v in entry.fields.items()}
    if "note" in fields:
        note = clean_note(fields["note"])
        if note:
            fields["note"] = note
        else:
            del fields["note"]
    year, how = str(fields.get("year", "")), str(fields.get("howpublished", ""))
    if year and year != "n.d." and re.search(rf"\b{re.escape(year)}\b", how):
        del fields["year"]  # the date is already in howpublished: print it once
    e = Entry(entry.type, fields=fields, persons=entry.persons)
    e.key = entry.key
    return e


def kind_of(key: str, entry) -> str:
    """The group of an entry, from its bib type and fields (used until sources.csv says otherwise)."""
    f = {k.lower(): _plain(v) for k, v in entry.fields.items()}
    people = " ".join(_plain(str(p)) for p in entry.persons.get("author", []))
    who = " ".join([people, f.get("organization", ""), f.get("institution", "")])
    note, how = f.get("note", ""), f.get("howpublished", "")
    if "Wikipedia" in who or "encyclopedia" in (note + how).lower():
        return "encyclopedia"
    if re.search(r"\((legal act|ministry|primary|head-of-state[^)]*)\)|Archival, primary", note) or _OFFICIAL_AUTHOR.search(who) \
            or key.startswith(("decree_", "govres_", "nbs_")):
        return "official"
    if entry.type in ("article", "book", "incollection", "inbook", "phdthesis", "mastersthesis", "techreport") \
            or f.get("journal") or re.search(r"Journal|University|Monograph|Yearbook|Research Network", how + note):
        return "scholarly"
    if _PRESS.search(who + " " + how):
        return "press"
    return "web"


def source_types() -> dict[str, str]:
    """``{key: group}`` from data/sources/sources.csv, if that table exists."""
    path = paths.DATA_DIR / "sources" / "sources.csv"
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), 2):
            st = (row.get("source_type") or "").strip()
            if st not in SOURCE_TYPE_GROUP:
                raise ValueError(f"{path}, row {i}, column source_type: unknown type {st!r} "
                                 f"(one of {', '.join(sorted(SOURCE_TYPE_GROUP))})")
            out[row["source_key"]] = SOURCE_TYPE_GROUP[st]
    return out


def groups() -> dict[str, list[str]]:
    """``{group id: [keys]}`` for every entry of references.bib."""
    given = source_types()
    out: dict[str, list[str]] = {g: [] for g, _ in GROUPS}
    for key, entry in bib.entries().items():
        out[given.get(key) or kind_of(key, entry)].append(key)
    return out


def bibliography_markdown() -> str:
    parts = []
    for gid, heading in GROUPS:
        keys = groups()[gid]
        if not keys:
            continue
        rx = "^(" + "|".join(re.escape(k) for k in sorted(keys)) + ")$"
        parts.append(f"(refs-{gid})=\n## {heading}\n\n```{{bibliography}}\n:filter: key % \"{rx}\"\n```\n")
    return "\n".join(parts)


def anchor(key: str) -> str:
    """The stable anchor of a source's entry on the References page (``references.html#ref-<key>``).

    sphinxcontrib-bibtex gives every bibliography directive an id for every entry of the .bib file,
    so a template id ("ref-{key}") would repeat across the page's groups; the entry's own id is left
    to it and this anchor is added to the entry that is shown (:mod:`kazdiaspora.reading_sphinx`).
    """
    from docutils.nodes import make_id

    return make_id(f"ref-{key}")
