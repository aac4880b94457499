"""Sphinx side of the evidence layer: hotspots on figures, the explorer, country profiles, the data zip.

* every image of a figure (``figures/<id>.png``, or a screen variant named after the id) gets, right
  after it, a ``<script type="application/json" class="kaz-hotspots">`` with the rows it plots
  and where each is drawn (from ``figures/<id>.hotspots.json``); ``_static/hotspots.js`` lays
  focusable buttons over the image from it;
* directives ``evidence-explorer``, ``country-profile ISO3`` and ``country-list`` render the
  explorer table and the country pages from data/ at build time;
* at ``config-inited`` the country page stubs are (re)written, so the table of contents' glob
  finds them; at ``build-finished`` the data package zip is written next to the HTML;
* an incremental build reads such a page again when the package's code changed, or when what it
  shows changed: each keeps a digest of its generated text (:func:`page_digest`), compared at
  ``env-get-outdated`` whenever a data file, a figure's data or the bibliography changed. An edit
  to one row rebuilds the explorer and the pages of the countries it concerns, not all of them.
Citation entries on the References page get stable anchors ``ref-<key>`` (:func:`kazdiaspora.references.anchor`).
"""
from __future__ import annotations

import hashlib
import re

from docutils import nodes
from docutils.parsers.rst import Directive, directives

from . import downloads, explorer, hotspots, paths, profiles
from .figpage import data_label

REFERENCES_DOC = "book/references"
EXPLORER_DOC = "book/explorer"
_IMG = re.compile(hotspots.IMAGE_NAME)


def _cite_anchor(app, key: str) -> str:
    from .references import anchor

    return anchor(key)


def _rel(app, fromdoc: str, todoc: str) -> str:
    return app.builder.get_relative_uri(fromdoc, todoc)


def _profile_docs() -> dict[str, str]:
    return {iso: f"book/countries/{profiles.page_name(iso)}" for iso in profiles.countries()}


_CACHE: dict = {}


def _evidence_table():
    if "ev" not in _CACHE:
        _CACHE["ev"] = explorer.evidence_table()
        _CACHE["profiles"] = {iso: f"book/countries/{profiles.page_name(iso)}"
                              for iso in profiles.countries(_CACHE["ev"])}
    return _CACHE["ev"]


def _profiles() -> dict[str, str]:
    _evidence_table()
    return _CACHE["profiles"]


# ----------------------------------------------------------------------------- hotspots
def add_hotspots(app, doctree, docname):
    if app.builder.format != "html":
        return
    refs = _rel(app, docname, REFERENCES_DOC)
    prof = _profiles()
    for img in list(doctree.findall(nodes.image)):
        uri = img.get("uri", "")
        m = _IMG.search(uri)
        if not m:
            continue
        hs = hotspots.load(m.group("id"))
        if hs is None:
            continue
        text = hotspots.embed_json(
            hs, lambda k: f"{refs}#{_cite_anchor(app, k)}",
            lambda iso: _rel(app, docname, prof[iso]) if iso in prof else None)
        raw = nodes.raw("", f'<script type="application/json" class="kaz-hotspots" '
                            f'data-figure-id="{hs["figure"]}">{text}</script>', format="html")
        parent = img.parent
        parent.insert(parent.index(img) + 1, raw)


# ----------------------------------------------------------------------------- directives
def code_files() -> list:
    """The package that turns data/ into a generated page's text: noted as the page's dependencies,
    so that an incremental build reads the page again when any module changes (its own source, a
    one-line stub, does not)."""
    return sorted((paths.ROOT / "kazdiaspora").rglob("*.py"))


def data_inputs() -> list:
    """The files whose change makes the pages' digests worth computing again: the data and the
    bibliography (and, from the exported figures, which rows each figure plots: :func:`inputs_digest`)."""
    return sorted([*paths.DATA_DIR.rglob("*"), paths.BIBFILE])


def _files_digest(files) -> str:
    h = hashlib.sha256()
    for p in files:
        if p.is_file():
            h.update(str(p.relative_to(paths.ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_digest() -> str:
    """SHA-256 of everything the generated pages are made from: the data files, the bibliography,
    and which rows each exported figure plots (:func:`kazdiaspora.explorer.figure_use`: a
    corrected value in a figure's data changes none of the pages' text through the figures)."""
    import json

    h = hashlib.sha256(_files_digest(data_inputs()).encode())
    h.update(json.dumps(explorer.figure_use(), sort_keys=True).encode())
    return h.hexdigest()


def warm(app) -> None:
    """Compute the generated pages' text ahead (the build calls this while the notebooks execute,
    before it reads any page: ``kazdiaspora.jb``), kept with the digest of their inputs as they
    were *before* the computation; :func:`outdated_generated_pages` uses them only if that digest
    is still the current one. An error here is left to the build proper to raise."""
    try:
        _CACHE.clear()
        _CACHE["digest"] = inputs_digest()
        for kind, arg, *_ in getattr(app.env, "kaz_generated", {}).values():
            page_text(kind, arg)
    except Exception:  # noqa: BLE001 - only a head start: the build computes and reports it again
        _CACHE.clear()


def page_text(kind: str, arg: str = "") -> str:
    """What a page filled from data/ shows: a country page's or the country list's Markdown; for
    the explorer, its rows, the country pages it links and the files of the data download.
    Computed once per build (the check for changed pages and the reading of a page share it;
    :func:`outdated_generated_pages` forgets it when the data change)."""
    ev = _evidence_table()
    key = ("text", kind, arg)
    if key in _CACHE and _CACHE[key][0] is ev:  # made from this very table
        return _CACHE[key][1]
    if kind == "country":
        text = profiles.markdown(arg, ev)
    elif kind == "list":
        text = profiles.index_markdown(ev)
    elif kind == "explorer":
        from . import downloads

        text = (ev.to_csv(index=False) + repr(sorted(profiles.countries(ev).items()))
                + repr([n for n, _ in downloads.members()]))
    else:
        raise ValueError(f"unknown generated page kind {kind!r}")
    _CACHE[key] = (ev, text)
    return text


def page_digest(kind: str, arg: str = "", text: str | None = None) -> str:
    """SHA-256 of :func:`page_text` (``text`` when the caller has it) with the bibliography
    (citations are formatted from it)."""
    text = page_text(kind, arg) if text is None else text
    return hashlib.sha256(text.encode() + paths.BIBFILE.read_bytes()).hexdigest()


def _note_inputs(env, kind: str, arg: str = "", text: str | None = None) -> None:
    """A generated page depends on the package's code (noted as files) and on what it shows (its
    digest, kept in the environment and compared by :func:`outdated_generated_pages`)."""
    for p in code_files():
        env.note_dependency(str(p))
    if not hasattr(env, "kaz_generated"):
        env.kaz_generated = {}
    env.kaz_generated[env.docname] = (kind, arg, page_digest(kind, arg, text), env.app.builder.format)
    env.kaz_data_digest = _CACHE.get("digest") or inputs_digest()  # set for this build (outdated_generated_pages)


def outdated_generated_pages(app, env, added, changed, removed) -> list[str]:
    """The generated pages to read again (``env-get-outdated``): those read for another output
    format (the HTML and the PDF builds share one environment, and the explorer is HTML only) and
    those whose text changed since they were read."""
    pages = getattr(env, "kaz_generated", {})
    fmt = app.builder.format
    out = {doc for doc, entry in pages.items() if entry[3:] != (fmt,)}
    current = inputs_digest()
    if _CACHE.get("digest") != current:  # what this process computed was from other data
        _CACHE.clear()
        _CACHE["digest"] = current
    if pages and getattr(env, "kaz_data_digest", None) != current:
        out |= {doc for doc, (kind, arg, digest, *_) in pages.items() if page_digest(kind, arg) != digest}
        env.kaz_data_digest = current  # every page not listed shows what the data now give
    return sorted(out - set(changed))


class EvidenceExplorer(Directive):
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        app = env.app
        doc = env.docname
        _note_inputs(env, "explorer")
        ev = _evidence_table()
        prof = _profiles()
        if app.builder.format != "html":
            return [nodes.paragraph(text=f"The evidence explorer lists {len(ev)} figures (HTML edition only).")]
        refs = _rel(app, doc, REFERENCES_DOC)
        figs = _rel(app, doc, "book/figures")
        frame = explorer.explorer_frame(
            ev, lambda k: f"{refs}#{_cite_anchor(app, k)}",
            lambda ch: _rel(app, doc, f"notebooks/{ch}"),
            lambda fid: f"{figs}#{data_label(fid)}",  # the figure's entry on the Figures and data page
            lambda iso: _rel(app, doc, prof[iso]) if iso in prof else None)
        html = (f'<div class="kaz-explorer" data-rows="{len(ev)}">' + explorer.explorer_html(frame) + "</div>")
        return [nodes.raw("", html, format="html")]


class CountryProfile(Directive):
    required_arguments = 1
    has_content = False

    def run(self):
        iso = self.arguments[0].strip().upper()
        text = page_text("country", iso)
        _note_inputs(self.state.document.settings.env, "country", iso, text)
        container = nodes.container(classes=["kaz-country-profile"])
        self.state.nested_parse(text.splitlines(), self.content_offset, container)
        return [container]


class CountryList(Directive):
    has_content = False

    def run(self):
        text = page_text("list")
        _note_inputs(self.state.document.settings.env, "list", text=text)
        container = nodes.container(classes=["kaz-country-list"])
        self.state.nested_parse(text.splitlines(), self.content_offset, container)
        return [container]


class DataDownload(Directive):
    """A link to the data package zip written by the build."""
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        app = env.app
        if app.builder.format != "html":
            return []
        href = "../" * env.docname.count("/") + downloads.ZIP_NAME
        n = len(downloads.members())
        html = (f'<p class="kaz-download"><a href="{href}" download>Download the whole data package (zip: '
                f'{n} files — every table, <code>datapackage.json</code>, <code>references.bib</code>, the data '
                f'READMEs and the licences)</a></p>')
        return [nodes.raw("", html, format="html")]


# ----------------------------------------------------------------------------- events
def config_inited(app, config):
    profiles.write_stubs()


def build_finished(app, exc):
    if exc is None and app.builder.format == "html":
        downloads.build(app.outdir + "/" + downloads.ZIP_NAME if isinstance(app.outdir, str)
                        else app.outdir / downloads.ZIP_NAME)


def env_purge(app, env, docname):
    getattr(env, "kaz_generated", {}).pop(docname, None)


def setup(app):
    directives.register_directive("evidence-explorer", EvidenceExplorer)
    directives.register_directive("country-profile", CountryProfile)
    directives.register_directive("country-list", CountryList)
    directives.register_directive("data-download", DataDownload)
    app.connect("config-inited", config_inited, priority=400)
    app.connect("doctree-resolved", add_hotspots)
    app.connect("build-finished", build_finished)
    app.connect("env-purge-doc", env_purge)
    app.connect("env-get-outdated", outdated_generated_pages)
