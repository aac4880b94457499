"""Record which project files a notebook reads.

The executor (``kazdiaspora.execute``) sets the environment variable ``KAZDIASPORA_TRACE`` to a
file path before it starts a notebook's kernel. Every loader in this package calls
:func:`record` for each file it opens; the paths are appended to that file, one per line. The
executor then stores a hash of each file read, and re-executes the notebook when any of them
changes. The executor also asks, after the last cell, for :func:`record_modules`: the package's
modules the notebook imported are its code inputs (a module it never imports cannot change what it
shows). Outside the executor (``KAZDIASPORA_TRACE`` unset) recording does nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "KAZDIASPORA_TRACE"


COLUMNS = "#"
"""In a recorded input, ``file#a,b``: only columns ``a`` and ``b`` of that CSV table were read."""


def record(path: str | os.PathLike, columns=None) -> None:
    """Record that this process read ``path``: the whole file, or only the named ``columns`` of a
    CSV table (the caller must then have had nothing else of it: see ``data.load(..., columns=)``)."""
    target = os.environ.get(ENV)
    if not target:
        return
    line = str(Path(path).resolve())
    if columns is not None:
        line += "\t" + ",".join(sorted(set(columns)))
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def entries(text: str, root: Path) -> list[str]:
    """The inputs recorded in a trace file's ``text``, relative to ``root``: ``file`` when the whole
    file was read, ``file#a,b`` when only those columns were (the union of every partial read; a
    whole read of the file anywhere wins). Files outside ``root`` are left out."""
    whole: set[str] = set()
    cols: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        path, _, names = line.partition("\t")
        p = Path(path)
        if not p.is_relative_to(root):
            continue
        rel = str(p.relative_to(root))
        if COLUMNS in rel:
            raise ValueError(f"{rel}: a recorded file name may not contain {COLUMNS!r}")
        if names:
            cols.setdefault(rel, set()).update(names.split(","))
        else:
            whole.add(rel)
    return sorted(whole | {f"{rel}{COLUMNS}{','.join(sorted(c))}" for rel, c in cols.items() if rel not in whole})


def columns_digest(path: Path, columns: list[str]) -> str:
    """SHA-256 of the named columns of a CSV file, row by row (the number and order of rows count;
    the other columns do not). ``missing column: X`` when the header lacks one."""
    import csv
    import hashlib
    import io

    if not path.exists():
        return "missing"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0] if rows else []
    absent = [c for c in columns if c not in header]
    if absent:
        return f"missing column: {absent[0]}"
    idx = [header.index(c) for c in columns]
    h = hashlib.sha256("\x1f".join(columns).encode())
    for r in rows[1:]:
        h.update(("\x1e" + "\x1f".join(r[i] if i < len(r) else "\x00" for i in idx)).encode())
    return h.hexdigest()


def record_modules() -> None:
    """Record the source file of every module of this package loaded in this process."""
    import sys

    for name, module in sorted(sys.modules.items()):
        if (name == "kazdiaspora" or name.startswith("kazdiaspora.")) and getattr(module, "__file__", None):
            record(module.__file__)
