"""Links from the chapters to the Glossary: the first use of each term on a page.

``book/glossary.md`` defines the terms; :data:`FORMS` gives, for each term, the pattern of the
words by which the prose uses it (plural, British or American spelling). When the book is built, the
Sphinx extension (:func:`link_first_uses`) links the first use of each term in the running text of a
page to its definition, unless the page already links that term (an explicit ``{term}`` role).
Headings, captions, links, code and literal text are left alone. A test checks that every term of
the Glossary has its pattern here and the other way round.
"""
from __future__ import annotations

import re

from . import paths

GLOSSARY = paths.ROOT / "book" / "glossary.md"

#: glossary term -> regular expression of its forms in the prose (matched as whole words)
FORMS: dict[str, str] = {
    "Aktaban shubyryndy": r"Aktaban shubyryndy",
    "Collectivization": r"collectivi[sz]ation",
    "Diaspora": r"diasporas?",
    "Dzungars": r"Dzungars?",
    "Irredenta": r"irredenta",
    "Kandas": r"kandas",
    "Kurultay": r"Kurultays?",
    "Oralman": r"oralman(?:s|y)?",
    "Quota (immigration quota)": r"quotas?",
    "Sedentarization": r"sedentari[sz]ation",
    "Semirechye": r"Semirechye",
    "Stolypin reform": r"Stolypin(?: reform| resettlement)?",
    "World Association of Kazakhs": r"World Association of Kazakhs",
    "Yi–Ta incident": r"Yi[–-]Ta(?: incident| exodus)?",
    "Zheltoqsan": r"Zheltoqsan",
    "Zhuz": r"zhuz(?:es)?",
}
#: pages whose running text is linked (the chapters and the front matter)
PAGES = re.compile(r"^(notebooks/|book/(intro|methods)$)")


def terms() -> list[str]:
    """The terms defined in the Glossary page, in its order."""
    text = GLOSSARY.read_text(encoding="utf-8")
    m = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.S)
    if not m:
        raise ValueError(f"{GLOSSARY}: no {{glossary}} directive")
    return [line for line in m.group(1).splitlines() if line and not line.startswith((" ", "\t"))]


def pattern(term: str) -> re.Pattern:
    if term not in FORMS:
        raise KeyError(f"glossary term {term!r} has no pattern in kazdiaspora.glossary.FORMS")
    return re.compile(rf"(?<![\w-])({FORMS[term]})(?![\w-])", re.IGNORECASE)


def link_first_uses(app, doctree, docname) -> None:
    """Link the first use of each glossary term in the running text of ``docname``."""
    from docutils import nodes
    from sphinx import addnodes

    if not PAGES.match(docname):
        return
    std = app.env.get_domain("std")
    targets = {}
    for term in FORMS:
        found = std.objects.get(("term", term.lower())) or std.objects.get(("term", term))
        if found:
            targets[term] = found  # (docname, labelid)
    linked = set()
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        for term, (_, labelid) in targets.items():
            if uri.endswith("#" + labelid):
                linked.add(term)
    skip = (nodes.title, nodes.caption, nodes.reference, nodes.literal, nodes.literal_block,
            nodes.raw, nodes.FixedTextElement, nodes.term, nodes.rubric, addnodes.pending_xref,
            nodes.citation_reference, nodes.figure, nodes.table, nodes.target)

    def prose_texts():
        for t in list(doctree.findall(nodes.Text)):
            p, ok = t.parent, True
            while p is not None:
                if isinstance(p, skip) or "cell_output" in p.get("classes", []) and isinstance(p, nodes.container):
                    ok = False
                    break
                p = p.parent
            if ok and isinstance(t.parent, (nodes.paragraph, nodes.emphasis, nodes.strong, nodes.inline)):
                yield t

    for term in FORMS:
        if term in linked or term not in targets:
            continue
        rx = pattern(term)
        for t in prose_texts():
            m = rx.search(t.astext())
            if not m:
                continue
            doc, labelid = targets[term][0], targets[term][1]
            text = t.astext()
            ref = nodes.reference("", m.group(1), internal=True, classes=["kaz-term"],
                                  refuri=app.builder.get_relative_uri(docname, doc) + "#" + labelid,
                                  reftitle=f"Glossary: {term}")
            parent = t.parent
            i = parent.index(t)
            new = [nodes.Text(text[:m.start()]), ref, nodes.Text(text[m.end():])]
            parent.remove(t)
            for k, n in enumerate(x for x in new if not (isinstance(x, nodes.Text) and not x.astext())):
                parent.insert(i + k, n)
            linked.add(term)
            break
