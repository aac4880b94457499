"""Apply the book's reading rules to chapter notebooks: ``python -m kazdiaspora.readingfix [NOTEBOOK ...]``.

The mechanical part of issue 14, safe to run again at any time (a notebook that follows the rules
is not touched), e.g. after merging prose written before the rules:

* a code cell that shows a figure (``figures.show``) or a table (``tables.show``) keeps its code in
  the notebook and hides it in the book: it is tagged ``remove-input``;
* a figure or table that the chapter's prose never refers to by number gets a reference at the end
  of the nearest Markdown cell above it: "See {numref}`fig-<id>`." (Sphinx writes "See Figure 2.3.").
  Better wording can replace it by hand; the test only asks that each is referred to once.

Without arguments it works on the chapters of the numbered part of ``_toc.yml``. It prints what it
changed; execute the notebooks afterwards (``make execute``).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from . import paths

FIGURE = re.compile(r"""figures\.show\(\s*["']([a-z0-9-]+)["']""")
TABLE = re.compile(r"""tables\.show\((?:.|\n)*?name\s*=\s*["'](tbl-[a-z0-9-]+)["']""")
HIDING = {"remove-input", "remove-cell", "hide-input"}


def refers(markdown: str, label: str) -> bool:
    """Whether the prose refers to ``label`` by number ({numref}`label` or {numref}`text <label>`)."""
    return re.search(rf"\{{numref\}}`(?:[^`<]*<)?{re.escape(label)}>?`", markdown) is not None


def shown(cell) -> list[str]:
    """The labels of the figures and tables a code cell shows."""
    return [f"fig-{f}" for f in FIGURE.findall(cell.source)] + TABLE.findall(cell.source)


def fix(nb) -> list[str]:
    """Apply the rules to a notebook in place; return one line per change."""
    changes = []
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        labels = shown(cell)
        if not labels:
            continue
        tags = list(cell.metadata.get("tags", []))
        if "remove-cell" in tags:
            raise ValueError(f"cell {i} shows {', '.join(labels)} but is tagged remove-cell: the reader would not see it")
        if not set(tags) & HIDING:
            cell.metadata["tags"] = tags + ["remove-input"]
            changes.append(f"cell {i}: code of {', '.join(labels)} hidden (remove-input)")
        for label in labels:
            if refers(prose, label):
                continue
            j = next((k for k in range(i - 1, -1, -1) if nb.cells[k].cell_type == "markdown"), None)
            if j is None:
                raise ValueError(f"cell {i}: no Markdown cell above {label} to refer to it from")
            md = nb.cells[j]
            last = md.source.rstrip().splitlines()[-1] if md.source.strip() else ""
            sep = "\n\n" if last.lstrip().startswith("#") else " "  # never into a heading
            md.source = md.source.rstrip() + f"{sep}See {{numref}}`{label}`."
            prose += "\n" + md.source
            changes.append(f"cell {j}: refers to {label} by number")
    return changes


def fix_file(path: Path, write: bool = True) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    changes = fix(nb)
    if changes and write:
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return changes


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        files = [Path(a) for a in args]
    else:
        from .figpage import numbered_chapters

        files = [paths.NOTEBOOKS_DIR / f"{s}.ipynb" for s in numbered_chapters()]
    for f in files:
        for line in fix_file(f):
            print(f"{f}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
