"""Sphinx extension of the book: a bibliography style that keeps titles as written.

pybtex's ``plain`` style turns titles into sentence case, lowercasing every proper name not
protected by braces ("Review of e. d. sokol"). Many of the book's sources are titled in Russian,
Kazakh, Turkish or Chinese, where that rule is wrong. ``kazplain`` is ``plain`` without the case
change.
"""
from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import field, sentence


class KazPlainStyle(PlainStyle):
    default_sorting_style = "author_year_title"

    def format_title(self, e, which_field, as_sentence=True):
        formatted_title = field(which_field)
        return sentence[formatted_title] if as_sentence else formatted_title


def setup(app):
    register_plugin("pybtex.style.formatting", "kazplain", KazPlainStyle)
    from . import reading_sphinx  # numbered figures on screen, references by kind, glossary links, places

    reading_sphinx.setup(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
