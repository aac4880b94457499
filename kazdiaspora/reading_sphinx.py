"""Sphinx side of the reading aids (issue 14); :mod:`kazdiaspora.sphinxext` calls :func:`setup`.

* References: one citation style in text, figures and bibliography ('Kara (n.d.a)', '[Kara,
  n.d.a]'): each entry is labelled as the text cites it and ends with the key the data tables use;
  the ``kazplain`` style shows the date a web page was read, and leaves out notes meant for the
  book's maintainers
  (:func:`kazdiaspora.references.reader_entry`); under each entry, back-links to the pages that
  cite it and the figures drawn from it.
* Screen images (:mod:`kazdiaspora.screen`): a figure of ``figures/`` (300-dpi PNG, meant for print
  and download) is served to the screen as a WebP at screen resolution, 1x and 2x in ``srcset`` (width descriptors),
  lazy-loaded, with its width and height; on the Figures and data page as a thumbnail. The files are
  written into the build (``_images/screen/``), never into the repository.
* Generated lists, filled in where a page holds a marker line (``<!-- kaz:NAME -->``):
  ``kaz:references`` the bibliography grouped by kind of source (:mod:`kazdiaspora.references`),
  ``kaz:places`` the place-name table from ``data/places/gazetteer.csv`` (:mod:`kazdiaspora.places`).
* In-text citations name a source as the figures' source lines do (a Wikipedia article by its
  title, not "Wikipedia contributors"): :func:`citation_entries`.
* The bibliography is formatted again only when something it is formatted from changed
  (:func:`_reuse_formatted_bibliography`).
* The general index: entries of ``book/index_entries.csv`` at their first use on each page
  (:mod:`kazdiaspora.indexing`).
* Glossary links: the first use of each term on a chapter page links to its definition
  (:mod:`kazdiaspora.glossary`).
"""
from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.labels import BaseLabelStyle

from . import references
from .sphinxext import KazPlainStyle

MARKER = re.compile(r"^<!--\s*kaz:([a-z-]+)\s*-->\s*$", re.MULTILINE)
FIGURE_URI = re.compile(r"(?:^|/)figures/([a-z0-9-]+)\.png$")


class KeyLabelStyle(BaseLabelStyle):
    """Each entry is labelled as the text cites it in parentheses: 'Kara, n.d.a'
    (:func:`kazdiaspora.bib.cite_label`); the key the data tables use ends the entry."""

    def format_labels(self, sorted_entries):
        from . import bib

        for entry in sorted_entries:
            yield bib.cite_label(entry.key)


class ReaderStyle(KazPlainStyle):
    """``kazplain`` as readers see it: labelled as cited, maintainers' notes left out, the entry's
    authors as the bibliography file gives them (the citations' names are the book's own:
    :func:`citation_entries`), its year lettered where two sources would be cited alike, and the
    key of the source in the data tables at the end."""

    default_label_style = "kazkey"

    def format_entry(self, label, entry, bib_data=None):
        from pybtex.database import Entry

        from . import bib
        from .references import reader_entry

        original = bib.entries().get(entry.key, entry)
        fields = dict(original.fields)
        fields["year"] = bib.cite_year(entry.key)
        e = Entry(original.type, fields=fields, persons=original.persons)
        e.key = entry.key
        from pybtex.richtext import Text
        from pybtex.style import FormattedEntry

        done = super().format_entry(label, reader_entry(e), bib_data=bib_data)
        # every kind of entry ends with the key (the plain style prints no note for some kinds)
        return FormattedEntry(done.key, Text(done.text, f" Key in the data tables: {entry.key}."), done.label)


def citation_entries(bibdata):
    """The entries as the text cites them: one author, the book's name for the source ('Kara',
    'Wikipedia (English): Kazakhs', an organisation), and the year lettered where two sources
    would be cited alike (:func:`kazdiaspora.bib.cite_parts`, :func:`~kazdiaspora.bib.cite_year`).
    sphinxcontrib-bibtex then writes 'Kara (n.d.a)' and '[Kara, n.d.a]', as the figures' source
    lines and the References labels do; :class:`ReaderStyle` prints the real authors. Applied to the parsed entries at the
    start of every build's formatting (:func:`_reuse_formatted_bibliography`); applied again, it
    changes nothing."""
    from pybtex.database import Person
    from pybtex.utils import OrderedCaseInsensitiveDict

    from . import bib

    known = bib.entries()
    for key, entry in bibdata.data.entries.items():
        if key not in known:
            continue
        who, _ = bib.cite_parts(key)
        person = Person()
        person.last_names = [who]
        entry.persons = OrderedCaseInsensitiveDict([("author", [person])])
        entry.fields["year"] = bib.cite_year(key)
    return bibdata


def _reference_style():
    """sphinxcontrib-bibtex's author-year citations, with sources in one citation parted by
    semicolons ('[Eurasian Education, 2017; Caravan.kz, 2011]'): a comma already parts each name
    from its year."""
    from dataclasses import dataclass, field

    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def brackets():
        return BracketStyle(sep="; ")

    @dataclass
    class KazAuthorYearReferenceStyle(AuthorYearReferenceStyle):
        bracket_textual: BracketStyle = field(default_factory=brackets)
        bracket_parenthetical: BracketStyle = field(default_factory=brackets)

    return KazAuthorYearReferenceStyle


REFERENCE_STYLE = "kaz_author_year"
"""The name of :func:`_reference_style` (``bibtex_reference_style`` in ``_config.yml``)."""


# ------------------------------------------------------------------------------------------
# generated page parts


def _fill_markers(app, docname, source):
    text = source[0]
    if "kaz:" not in text:
        return

    def repl(m):
        name = m.group(1)
        if name == "references":
            from .references import bibliography_markdown
            return bibliography_markdown()
        if name == "places":
            from .places import places_markdown
            return places_markdown()
        raise ValueError(f"{docname}: unknown marker kaz:{name}")

    source[0] = MARKER.sub(repl, text)


# ------------------------------------------------------------------------------------------
# screen images


def _patched_visit_image(orig):
    def visit_image(self, node):
        olduri = node["uri"]
        m = FIGURE_URI.search(olduri)
        start = len(self.body)
        orig(self, node)
        if not m or getattr(self.builder, "format", "") != "html":
            return
        from . import screen

        src = Path(self.builder.srcdir) / olduri
        kind = "thumb" if "kaz-thumb" in node.get("classes", []) else "screen"
        outdir = Path(self.builder.outdir) / self.builder.imagedir / "screen"
        one, two, size = screen.make(src, outdir, kind)
        rel = posixpath.join(self.builder.imgpath, "screen")
        full = posixpath.join(self.builder.imgpath, "screen", screen.make(src, outdir, "screen")[1].name)
        original = posixpath.join(self.builder.imgpath, self.builder.images.get(olduri, src.name))
        for i in range(start, len(self.body)):
            chunk = self.body[i]
            if "<img " not in chunk:
                continue
            chunk = re.sub(r'\ssrc="[^"]*"', f' src="{rel}/{one.name}"', chunk, count=1)
            # width descriptors: the browser takes the smallest file sharp enough for the width the
            # image is shown at on that screen (a phone of density 2 shows 1x, not 2x)
            attrs = (f' srcset="{rel}/{one.name} {size[0]}w, {rel}/{two.name} {screen.width(two)}w"'
                     f' sizes="{screen.SIZES[kind]}"'
                     f' width="{size[0]}" height="{size[1]}" loading="lazy" decoding="async"'
                     f' data-full="{full}" data-original="{original}"')
            chunk = re.sub(r"<img ", "<img" + attrs + " ", chunk, count=1)
            self.body[i] = chunk
            break

    return visit_image


_AHEAD: dict[int, int] = {}
"""The forked process making screen images ahead, by the id of the application that started it."""


def _screen_images_ahead(app, env, docnames) -> None:
    """Before the pages are read, start making the screen images of every figure whose are missing
    (:func:`kazdiaspora.screen.make_ahead`); :func:`_screen_images_done` waits for it."""
    if getattr(app.builder, "format", "") != "html" or id(app) in _AHEAD:
        return
    from . import screen

    pngs = sorted(Path(app.srcdir, "figures").glob("*.png"))
    pid = screen.make_ahead(pngs, Path(app.builder.outdir) / app.builder.imagedir / "screen") if pngs else None
    if pid:
        _AHEAD[id(app)] = pid


def _screen_images_done(app, exception) -> None:
    """No process started by the build goes on writing into it once the build has finished."""
    pid = _AHEAD.pop(id(app), None)
    if pid:
        os.waitpid(pid, 0)


# ------------------------------------------------------------------------------------------
# back-links from each reference to the pages that cite it


def _figure_sources(srcdir: Path) -> dict[str, list[str]]:
    """``{source key: [figure ids]}`` from the exported figure metadata (``figures/*.json``)."""
    import json

    out: dict[str, list[str]] = {}
    for p in sorted((Path(srcdir) / "figures").glob("*.json")):
        if p.name.endswith(".hotspots.json"):  # the marks' positions, not a figure's metadata
            continue
        meta = json.loads(p.read_text(encoding="utf-8"))
        for k in meta.get("sources", []):
            out.setdefault(k, []).append(meta["id"])
    return out


def _figure_link(app, fromdoc: str, fig_id: str):
    """A reference node "Figure 2.3" to a figure in its chapter, or None if it is not in the book."""
    std = app.env.get_domain("std")
    target = std.labels.get(f"fig-{fig_id}")
    if not target:
        return None
    doc, labelid, _ = target
    num = app.env.toc_fignumbers.get(doc, {}).get("figure", {}).get(labelid)
    text = "Figure " + ".".join(map(str, num)) if num else fig_id
    uri = app.builder.get_relative_uri(fromdoc, doc) + "#" + labelid
    return nodes.reference("", text, refuri=uri, internal=True), num or ()


def _add_backlinks(app, doctree, docname):
    """Under each reference of a bibliography: the pages citing it and the figures drawn from it."""
    if next(iter(doctree.findall(nodes.citation)), None) is None:
        return
    domain = app.env.get_domain("cite")
    where: dict[str, list[tuple[str, str]]] = {}
    for ref in domain.citation_refs:
        for t in ref.targets:
            where.setdefault(t.key, []).append((ref.docname, ref.citation_ref_id))
    figs = _figure_sources(app.srcdir)
    by_id = {i: n for n in doctree.findall(nodes.citation) for i in n["ids"]}
    for cit in domain.citations:
        if cit.bibliography_key.docname != docname or cit.citation_id not in by_id:
            continue
        node = by_id[cit.citation_id]
        stable = references.anchor(cit.key)
        if stable not in node["ids"]:
            node["ids"].append(stable)
        para = nodes.paragraph(classes=["kaz-backlinks"])
        refs = where.get(cit.key, [])
        if refs:
            para += nodes.Text("Cited in: ")
            seen: dict[str, int] = {}
            for i, (doc, rid) in enumerate(refs):
                seen[doc] = seen.get(doc, 0) + 1
                title = app.env.titles[doc].astext() if doc in app.env.titles else doc
                if i:
                    para += nodes.Text(", ")
                uri = app.builder.get_relative_uri(docname, doc) + "#" + rid
                para += nodes.reference("", title if seen[doc] == 1 else f"({seen[doc]})", refuri=uri, internal=True)
            para += nodes.Text(". ")
        links = sorted((x for x in (_figure_link(app, docname, f) for f in figs.get(cit.key, [])) if x),
                       key=lambda x: x[1])
        if links:
            para += nodes.Text("Data in: ")
            for i, (ref, _) in enumerate(links):
                if i:
                    para += nodes.Text(", ")
                para += ref
            para += nodes.Text(".")
        if not refs and not links:
            para += nodes.Text("A source of the book's data tables (data/), not cited on a page.")
        node += para


def _link_glossary(app, doctree, docname):
    from .glossary import link_first_uses

    link_first_uses(app, doctree, docname)


def _index_transform():
    from sphinx.transforms import SphinxTransform

    class IndexFirstUses(SphinxTransform):
        default_priority = 800  # before SphinxDomains (850), which collects the index entries

        def apply(self, **kwargs):
            from .indexing import add_entries

            add_entries(self.document, self.env.docname)

    return IndexFirstUses


# ------------------------------------------------------------------------------------------
# formatting the bibliography once

BIB_KEY_FILE = "kaz-bibliography.sha256"
"""In Sphinx's doctree directory: the key of the last formatted bibliography of a build that
ended without a warning or an error."""


def _bibliography_key(domain) -> str:
    """The SHA-256 of everything sphinxcontrib-bibtex formats the citations from: the .bib files,
    its configuration, every bibliography directive and citation, the documents, the style's code
    (this package's) and the pinned requirements."""
    import ast
    import hashlib

    from sphinxcontrib.bibtex.domain import get_docnames

    from . import bib, paths, sphinxext

    env = domain.env
    h = hashlib.sha256()
    for f in sorted(map(str, domain.bibdata.bibfiles)):
        h.update(f.encode() + b"\0" + Path(f).read_bytes())
    h.update(repr(sorted((k, repr(env.config[k])) for k in env.config.values if k.startswith("bibtex_"))).encode())
    for key, b in sorted(domain.bibliographies.items()):
        h.update(repr((tuple(key), b.line, [str(f) for f in b.bibfiles], b.style, b.list_, b.enumtype, b.start,
                       b.labelprefix, b.keyprefix, ast.dump(b.filter_),
                       sorted((k, list(n["ids"])) for k, n in b.citation_nodes.items()), list(b.keys))).encode())
    h.update(repr(sorted(domain.citation_refs)).encode())
    h.update(repr(sorted(get_docnames(env))).encode())
    for f in (Path(__file__), Path(references.__file__), Path(sphinxext.__file__), Path(bib.__file__),
              paths.ROOT / "requirements.txt"):
        h.update(f.read_bytes())
    return h.hexdigest()


def _reuse_formatted_bibliography(env_updated):
    """sphinxcontrib-bibtex formats every cited entry again on every build (about a second here).
    The formatted citations are kept in the pickled environment with the key they were formatted
    from; when the key is unchanged and the build that formatted them ended without a warning, they
    are used as they are (a build with a warning formats them again, and so warns again)."""
    def patched(self):
        citation_entries(self.bibdata)  # every build: the names and years follow bib.py as it is now
        key = _bibliography_key(self)
        self.env.kaz_bibliography_key = key
        done = Path(self.env.doctreedir) / BIB_KEY_FILE
        if (self.citations and self.data.get("kaz_key") == key and done.exists()
                and done.read_text(encoding="ascii") == key):
            return []
        done.unlink(missing_ok=True)
        FORMATTED[0] += 1
        out = list(env_updated(self))
        self.data["kaz_key"] = key
        # sphinxcontrib-bibtex names no page as updated; a page that cites or lists the entries
        # must be written again when their formatting changed (an edited entry, the style's code)
        from sphinxcontrib.bibtex.domain import get_docnames

        return sorted(set(out) | set(get_docnames(self.env)))

    patched._kaz_patched = True
    return patched


FORMATTED = [0]
"""How many times this process formatted a bibliography (for the tests)."""


def _bibliography_built(app, exception):
    key = getattr(app.env, "kaz_bibliography_key", None)
    if key and exception is None and not app._warncount:
        Path(app.env.doctreedir, BIB_KEY_FILE).write_text(key, encoding="ascii")


def reuse_formatted_bibliography(app) -> None:
    """Install :func:`_reuse_formatted_bibliography` (sphinxcontrib-bibtex must be loaded)."""
    from sphinxcontrib.bibtex.domain import BibtexDomain

    if not getattr(BibtexDomain.env_updated, "_kaz_patched", False):
        BibtexDomain.env_updated = _reuse_formatted_bibliography(BibtexDomain.env_updated)
    app.connect("build-finished", _bibliography_built)


def setup(app):
    from sphinx.writers.html5 import HTML5Translator

    reuse_formatted_bibliography(app)
    from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin

    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, _reference_style(), force=True)

    register_plugin("pybtex.style.labels", "kazkey", KeyLabelStyle)
    register_plugin("pybtex.style.formatting", "kazplain", ReaderStyle, force=True)
    if not getattr(HTML5Translator, "_kaz_patched", False):
        HTML5Translator.visit_image = _patched_visit_image(HTML5Translator.visit_image)
        HTML5Translator._kaz_patched = True
    app.add_transform(_index_transform())
    app.connect("source-read", _fill_markers)
    app.connect("env-before-read-docs", _screen_images_ahead)
    app.connect("build-finished", _screen_images_done)
    app.connect("doctree-resolved", _add_backlinks)
    app.connect("doctree-resolved", _link_glossary)
    return {"version": "3", "parallel_read_safe": True, "parallel_write_safe": True}
