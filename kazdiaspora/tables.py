"""Tables of the book: numbered, captioned, formatted, never truncated, sources cited.

A notebook shows a table with :func:`show` as the cell's last line::

    tables.show(df, name="tbl-waves", caption="Migration waves ...",
                columns={"year_start": "From", "year_end": "To"}, sources="source_key",
                units={"value": "persons"})

The result displays as a MyST ``{list-table}`` (Markdown, which the book renders): Sphinx numbers it
("Table 2.1") under its caption, the prose refers to it with ``{numref}`tbl-waves```, every row
and every cell is shown in full, integers get thousands separators, a column's unit goes into its
heading, and the source-key column becomes citations that link to the References page.
"""
from __future__ import annotations

import math
import re

import pandas as pd

_NAME = re.compile(r"^tbl-[a-z0-9-]+$")


def _escape(text: str) -> str:
    text = " ".join(str(text).split())
    text = re.sub(r"([\\`*\[\]<>{}|])", r"\\\1", text)
    return re.sub(r"^(\d+)\.", r"\1\\.", re.sub(r"^([-+#])", r"\\\1", text))


def fmt_value(v, decimals: int | None = None) -> str:
    """A cell as text: integers with thousands separators, missing values as an em dash."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "\u2014"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int,)) or (hasattr(v, "dtype") and pd.api.types.is_integer_dtype(getattr(v, "dtype", None))):
        return f"{int(v):,}"
    if isinstance(v, float):
        if decimals is None:
            decimals = 0 if v.is_integer() else 1
        return f"{v:,.{decimals}f}"
    return str(v)


def cite(keys: str, role: str = "cite:t") -> str:
    """``"a;b"`` -> ``{cite:t}`a,b``` (a citation linking to References)."""
    ks = [k.strip() for k in str(keys).split(";") if k.strip()]
    if not ks:
        return "\u2014"
    from . import bib

    known = bib.bib_keys()
    unknown = [k for k in ks if k not in known]
    if unknown:
        raise ValueError(f"source key(s) not in references.bib: {', '.join(unknown)}")
    return f"{{{role}}}`{','.join(ks)}`"


class TableDisplay:
    def __init__(self, df: pd.DataFrame, name: str, caption: str, sources: str | tuple[str, ...] | None = None,
                 decimals: dict[str, int] | None = None, widths: list[int] | None = None,
                 plain: tuple[str, ...] = ()):
        self.df, self.name, self.caption = df, name, caption
        self.sources = {sources} if isinstance(sources, str) else set(sources or ())
        self.plain = set(plain)
        self.decimals = decimals or {}
        self.widths = widths

    def rows(self) -> list[list[str]]:
        out = [[_escape(c) for c in self.df.columns]]
        for _, r in self.df.iterrows():
            row = []
            for c in self.df.columns:
                v = r[c]
                if c in self.sources:
                    row.append(cite(v) if isinstance(v, str) else "\u2014")
                elif c in self.plain:
                    row.append(_escape("\u2014" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))))
                else:
                    row.append(_escape(fmt_value(v.item() if hasattr(v, "item") else v, self.decimals.get(c))))
            out.append(row)
        return out

    def _repr_markdown_(self) -> str:
        lines = [f"```{{list-table}} {_escape(self.caption)}", f":name: {self.name}", ":header-rows: 1",
                 ":class: kaz-table"]
        if self.widths:
            lines.append(":widths: " + " ".join(str(w) for w in self.widths))
        lines.append("")
        for row in self.rows():
            lines.append("* - " + row[0])
            lines += [f"  - {cell}" for cell in row[1:]]
        lines.append("```")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"Table {self.name}: {self.caption} ({len(self.df)} rows)"


def show(df: pd.DataFrame, *, name: str, caption: str, columns: dict[str, str] | None = None,
         units: dict[str, str] | None = None, sources: str | tuple[str, ...] | None = None,
         decimals: dict[str, int] | None = None, widths: list[int] | None = None,
         plain: tuple[str, ...] = ()) -> TableDisplay:
    """A numbered table of ``df`` (index dropped): ``columns`` renames and orders the columns shown,
    ``units`` adds a unit to a column's heading, ``sources`` names the column(s) of source keys,
    ``plain`` names columns shown as they are (years, codes: no thousands separator)."""
    if not _NAME.match(name):
        raise ValueError(f"table name {name!r}: use 'tbl-' and lowercase letters, digits, hyphens")
    if not caption.strip():
        raise ValueError(f"{name}: a table needs a caption")
    d = df.reset_index(drop=True)
    if columns:
        missing = [c for c in columns if c not in d.columns]
        if missing:
            raise KeyError(f"{name}: no column(s) {missing} in the table (has {list(d.columns)})")
        d = d[list(columns)]
    heads = {c: (columns or {}).get(c, c) for c in d.columns}
    for c, unit in (units or {}).items():
        heads[c] = f"{heads[c]} ({unit})"
    src = tuple(heads[c] for c in ((sources,) if isinstance(sources, str) else (sources or ())))
    dec = {heads[c]: v for c, v in (decimals or {}).items()}
    return TableDisplay(d.rename(columns=heads), name, caption, src, dec, widths,
                        tuple(heads[c] for c in plain))
