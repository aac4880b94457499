"""Numbers in the prose: computed from data/ in a code cell, shown in the text with ``{glue:text}``.

A chapter never types a figure into its Markdown. It computes it from a table and glues the
formatted text; the Markdown cell refers to it as ``{glue:text}`name` ``.

A glued number can carry its provenance: the data rows it was read from (``rows``) and whether it
was computed from them (``derived``). The provenance travels with the glued output (in the output's
metadata under ``kazdiaspora``), so ``tests/test_prose.py`` can tie each number shown to its rows
and check that the citation printed next to it names the rows' source.
"""
from __future__ import annotations

from typing import Iterable

PROVENANCE_KEY = "kazdiaspora"


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


def _row_refs(rows) -> list[list[str]]:
    """``rows`` as ``[[table, id, column], ...]``; accepts ``(table, id)`` or ``(table, id, column)``."""
    out = []
    for r in rows or ():
        r = list(r)
        if len(r) == 2:
            r.append("value")
        if len(r) != 3:
            raise ValueError(f"a provenance row is (table, id[, column]), not {r!r}")
        out.append([str(x) for x in r])
    return out


def glue(name: str, text, rows: Iterable | None = None, derived: bool = False) -> Fact:
    """Glue ``text`` under ``name`` for ``{glue:text}`name` `` in Markdown cells; returns the Fact.

    ``rows``: the data rows the number comes from, as ``(table, id)`` (the number is the row's
    value, or its range ``value_low``–``value_high``) or ``(table, id, column)``. ``derived``: the
    number is computed from those rows (a sum, share or difference), not printed by a source.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display
    from myst_nb.ext.glue import GLUE_PREFIX

    fact = Fact(text)
    bundle, metadata = format_display_data(fact)
    metadata["scrapbook"] = dict(name=name, mime_prefix=GLUE_PREFIX)
    refs = _row_refs(rows)
    if refs or derived:
        metadata[PROVENANCE_KEY] = {"rows": refs, "derived": bool(derived)}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    return fact


def glue_row(name: str, table: str, rid: str, fmt=None, column: str | None = None) -> Fact:
    """Glue one figure of one row: its value, or its printed range ``low–high`` when it has none.

    ``fmt`` formats a number (default: thousands separated, decimals kept as they are)."""
    text, column = row_figure(table, rid, column, fmt)
    return glue(name, text, rows=[(table, rid, column)])


def row_figure(table: str, rid: str, column: str | None = None, fmt=None) -> tuple[str, str]:
    """One row's figure as text and the column it comes from: ``column``, or the row's value, or
    its printed range ``low–high`` (column ``value``) when it has no single value. Only the
    columns of this row that this needs are loaded, and so recorded as read
    (:mod:`kazdiaspora.trace`): correcting another row does not execute the notebook again."""
    from . import data

    fmt = fmt or fmt_number
    id_col = data.package().fields(table)[0]["name"]
    df = data.load(table, columns=[id_col, column] if column else [id_col, "value", "value_low", "value_high"],
                   rows=[rid])
    r = df.set_index(id_col).loc[rid]
    if column:
        return fmt(r[column]), column
    if r["value"] == r["value"]:
        return fmt(r["value"]), "value"
    return f"{fmt(r['value_low'])}\u2013{fmt(r['value_high'])}", "value"


def fmt_number(x) -> str:
    """1250458 -> '1,250,458'; 61.6 -> '61.6'; 13.56 -> '13.56'."""
    x = float(x)
    return f"{int(x):,}" if x == int(x) else f"{x:,g}"
