"""Numbers in the prose: computed from data/ in a code cell, shown in the text with ``{glue:text}``.

A chapter never types a figure into its Markdown. It computes it from a table and glues the
formatted text; the Markdown cell refers to it as ``{glue:text}`name` ``.
"""
from __future__ import annotations


class Fact:
    """A piece of text to glue.

    Its repr is the quoted string: myst-nb turns a glued ``text/plain`` back into a Python literal
    (``ast.literal_eval``) when it can, so an unquoted ``78,325`` would render as the tuple
    ``(78, 325)``; the quoted form evaluates to the text itself.
    """

    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return repr(self.text)

    def __str__(self) -> str:
        return self.text


def glue(name: str, text) -> Fact:
    """Glue ``text`` under ``name`` for ``{glue:text}`name` `` in Markdown cells; returns the Fact."""
    from myst_nb import glue as _glue

    fact = Fact(text)
    _glue(name, fact, display=False)
    return fact
