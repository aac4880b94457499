"""The book's general index: people, places, institutions and key terms, found in the running text.

``book/index_entries.csv`` lists the entries (``entry``: the index text, with ``;`` for a sub-entry as
in Sphinx's ``{index}``; ``pattern``: a regular expression of the words by which the text names it,
matched as whole words, case-sensitive). When a page is read, :func:`add_entries` puts an index
target at the first paragraph of the page that names each entry, so the Index links to that
place; chapters need no ``{index}`` markup (prose rewritten or merged from elsewhere is indexed the
same way). The glossary's terms and the place-name table add their own entries.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache

from . import paths

ENTRIES = paths.ROOT / "book" / "index_entries.csv"
#: pages whose running text is indexed (the chapters and the front matter)
PAGES = re.compile(r"^(notebooks/|book/(intro|methods)$)")


@lru_cache(maxsize=4)
def load(path=None) -> tuple[tuple[str, re.Pattern], ...]:
    path = path or ENTRIES
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        r = csv.DictReader(fh)
        for col in ("entry", "pattern"):
            if col not in (r.fieldnames or []):
                raise ValueError(f"{path}: column {col!r} missing")
        for i, row in enumerate(r, 2):
            entry, pat = (row["entry"] or "").strip(), (row["pattern"] or "").strip()
            if not entry or not pat:
                raise ValueError(f"{path}, row {i}: empty {'entry' if not entry else 'pattern'}")
            try:
                rx = re.compile(rf"(?<![\w-])(?:{pat})(?![\w-])")
            except re.error as e:
                raise ValueError(f"{path}, row {i}, column pattern: {e}") from None
            out.append((entry, rx))
    return tuple(out)


def prose_paragraphs(document):
    """The paragraphs of running text: not in titles, captions, figures, tables, admonitions or code."""
    from docutils import nodes
    from sphinx import addnodes

    skip = (nodes.title, nodes.caption, nodes.figure, nodes.table, nodes.literal_block, nodes.raw,
            nodes.citation, nodes.footnote, nodes.Admonition, addnodes.glossary)
    for para in document.findall(nodes.paragraph):
        p, ok = para.parent, True
        while p is not None:
            if isinstance(p, skip):
                ok = False
                break
            p = p.parent
        if ok:
            yield para


def _text(para) -> str:
    """The paragraph's words, without code, references and citations (which name other things)."""
    from docutils import nodes
    from sphinx import addnodes

    parts = []
    for t in para.findall(nodes.Text):
        p, ok = t.parent, True
        while p is not None and p is not para:
            if isinstance(p, (nodes.literal, addnodes.pending_xref, nodes.reference, nodes.citation_reference)):
                ok = False
                break
            p = p.parent
        if ok:
            parts.append(t.astext())
    return " ".join(parts)


def add_entries(document, docname: str, entries=None) -> list[str]:
    """Put an index entry at the first paragraph of ``document`` naming each entry; return the entries."""
    from docutils import nodes
    from sphinx import addnodes

    if not PAGES.match(docname):
        return []
    entries = load() if entries is None else entries
    paras = [(p, _text(p)) for p in prose_paragraphs(document)]
    added = []
    for n, (entry, rx) in enumerate(entries):
        for para, text in paras:
            if rx.search(text):
                tid = f"kaz-index-{n}"
                target = nodes.target("", "", ids=[tid])
                index = addnodes.index(entries=[("single", entry, tid, "", None)], inline=False)
                para.parent.insert(para.parent.index(para), [index, target])
                added.append(entry)
                break
    return added
