"""Sphinx extension of the book.

* ``kazplain``: a bibliography style that keeps titles as written. pybtex's ``plain`` style turns
  titles into sentence case, lowercasing every proper name not protected by braces ("Review of
  e. d. sokol"). Many of the book's sources are titled in Russian, Kazakh, Turkish or Chinese,
  where that rule is wrong. ``kazplain`` is ``plain`` without the case change.
* The book's identity (``book.yml``, read by :mod:`kazdiaspora.identity`) is applied to the
  configuration when the build starts: site title, author, copyright year, repository and issue
  buttons, the version in the footer, the substitutions ``{{ book_version }}``,
  ``{{ book_date }}``, ``{{ book_version_label }}``, ``{{ book_title }}`` and ``{{ book_url }}``
  for Markdown pages. Binder/Colab launch buttons are shown only when ``site_url`` is set
  (the book is hosted).
* Each chapter (a notebook) gets a short note under its title saying how to rerun it.
* When the PDF of the whole book has been built (``make pdf``), the HTML's download menu offers it.
"""
from __future__ import annotations

import functools

import os
import shutil
from pathlib import Path

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import field, sentence

from . import identity, paths

#: where `make pdf` writes the whole book (scripts/build_pdf.sh), and where the HTML serves it
PDF = paths.BUILD_DIR / "latex" / "kazakh-diaspora.pdf"
PDF_IN_HTML = "_downloads/kazakh-diaspora.pdf"
RERUN_NOTE = ("To rerun this chapter, clone the repository and run {make_lab}: JupyterLab opens on the "
              "chapters with the book's kernel, and Run \u2192 Run All Cells reproduces what is shown here.")
LAUNCH_BUTTONS = {"notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org",
                  "colab_url": "https://colab.research.google.com"}


class KazPlainStyle(PlainStyle):
    default_sorting_style = "author_year_title"

    def format_title(self, e, which_field, as_sentence=True):
        formatted_title = field(which_field)
        return sentence[formatted_title] if as_sentence else formatted_title


def identity_config(book: identity.Identity, theme_options: dict) -> dict:
    """The Sphinx configuration values derived from the book's identity (pure: tested directly)."""
    opts = dict(theme_options)
    opts["repository_url"] = book.repository_url
    opts["repository_branch"] = book.branch
    opts["launch_buttons"] = dict(LAUNCH_BUTTONS) if book.hosted else {}
    footer = opts.get("extra_footer", "")
    label = f'<p class="kaz-version">{book.short_title}. {book.version_label}.</p>'
    if label not in footer:
        opts["extra_footer"] = footer + label
    return {
        "project": book.short_title,
        "html_title": book.short_title,
        "author": book.author,
        "copyright": book.year,
        "version": book.version,
        "release": book.version,
        "html_theme_options": opts,
        "html_baseurl": book.site_url,
        "myst_substitutions": {
            "book_title": book.title, "book_version": book.version, "book_date": book.date.isoformat(),
            "book_version_label": book.version_label, "book_url": book.url,
        },
    }


def _pdf_signature() -> str:
    """Changes when the PDF is built or rebuilt, so every page is rewritten with (or without) the link."""
    if not PDF.is_file():
        return ""
    st = PDF.stat()
    return f"{st.st_size}:{int(st.st_mtime)}"


def on_config_inited(app, config):
    book = identity.load()
    for key, value in identity_config(book, config.html_theme_options or {}).items():
        if key == "myst_substitutions":
            value = {**(config.myst_substitutions or {}), **value}
        config[key] = value
    config.kazdiaspora_pdf = _pdf_signature()


def add_rerun_note(app, doctree):
    """A note under each chapter's title: how to rerun it."""
    if not app.env.docname.startswith("notebooks/"):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    text = RERUN_NOTE.split("{make_lab}")
    para = nodes.paragraph("", "", nodes.Text(text[0]), nodes.literal("make lab", "make lab"), nodes.Text(text[1]))
    note = nodes.note("", para, classes=["kaz-rerun"])
    section.insert(1, note)


def add_pdf_button(app, pagename, templatename, context, doctree):
    """Offer the whole book as PDF in the download menu when `make pdf` has built it."""
    if not app.config.kazdiaspora_pdf:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link", "url": context["pathto"](PDF_IN_HTML, 1), "text": "Whole book (PDF)",
                "tooltip": "Download the whole book as PDF", "icon": "fas fa-file-pdf", "label": "download-book-pdf",
            })


def copy_pdf(app, exc):
    if exc is None and app.builder.format == "html" and app.config.kazdiaspora_pdf:
        dest = Path(app.outdir) / PDF_IN_HTML
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.stat().st_size != PDF.stat().st_size or dest.read_bytes() != PDF.read_bytes():
            shutil.copyfile(PDF, dest)
    elif exc is None and app.builder.format == "html":
        (Path(app.outdir) / PDF_IN_HTML).unlink(missing_ok=True)


def mystnb_css_before_pages(app, env) -> None:
    """myst-nb copies its style sheet into the build when the build has finished, after the pages
    are written; a page links a style sheet with a checksum of the file (``?v=...``) only if the
    file is there. A first build's pages would link it without, a later build's with: the style
    sheet is copied before any page is written, so that every build writes the same pages."""
    from myst_nb.sphinx_ext import add_global_html_resources

    if app.builder.format == "html":
        (Path(app.builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        add_global_html_resources(app, None)


_READ_DOCTREES: dict[str, object] = {}
"""Doctrees unpickled for reading only, since the pages of this build were read."""


def _doctrees_read_once(fn):
    """Run ``fn(self, env, ...)`` with ``env.get_doctree`` answering from :data:`_READ_DOCTREES`.

    After reading the changed pages, Sphinx numbers the figures and tables of the whole book by
    unpickling the doctree of every page (``assign_figure_numbers``); when it writes, it resolves
    each numbered reference ("Figure 2.3") by unpickling the whole doctree of the page it points
    to again, only to look up the kind of the target node. Both only read those doctrees: here
    each page's doctree is unpickled once per build and shared by them (about 0.5 s of a build
    that reads one notebook). The doctrees written are got and changed as before; the memory is
    emptied when the pages have been read (:func:`forget_read_doctrees`)."""
    @functools.wraps(fn)
    def wrapper(self, env, *args, **kwargs):
        real = env.get_doctree

        def get_doctree(docname):
            if docname not in _READ_DOCTREES:
                _READ_DOCTREES[docname] = real(docname)
            return _READ_DOCTREES[docname]

        env.get_doctree = get_doctree
        try:
            return fn(self, env, *args, **kwargs)
        finally:
            del env.get_doctree  # the environment's own method again

    wrapper._kaz_patched = True  # type: ignore[attr-defined]
    return wrapper


def forget_read_doctrees(app, env) -> None:
    """The pages read in this build may have changed their doctrees: forget those kept."""
    _READ_DOCTREES.clear()


def setup(app):
    from sphinx.domains.std import StandardDomain

    register_plugin("pybtex.style.formatting", "kazplain", KazPlainStyle)
    from sphinx.environment.collectors.toctree import TocTreeCollector

    if not getattr(StandardDomain._resolve_numref_xref, "_kaz_patched", False):
        StandardDomain._resolve_numref_xref = _doctrees_read_once(StandardDomain._resolve_numref_xref)
    if not getattr(TocTreeCollector.assign_figure_numbers, "_kaz_patched", False):
        TocTreeCollector.assign_figure_numbers = _doctrees_read_once(TocTreeCollector.assign_figure_numbers)
    app.connect("env-updated", forget_read_doctrees)
    app.connect("env-updated", mystnb_css_before_pages)
    app.add_config_value("kazdiaspora_pdf", "", "html")
    app.connect("config-inited", on_config_inited, priority=900)
    app.connect("doctree-read", add_rerun_note)
    app.connect("html-page-context", add_pdf_button, priority=502)
    app.connect("build-finished", copy_pdf)
    from . import explorer_sphinx  # hotspots on figures, evidence explorer, country profiles, data zip

    explorer_sphinx.setup(app)
    from . import reading_sphinx  # numbered figures on screen, references by kind, glossary links, places

    reading_sphinx.setup(app)
    return {"version": "3", "env_version": 3, "parallel_read_safe": True, "parallel_write_safe": True}
