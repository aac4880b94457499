"""Record which project files a notebook reads.

The executor (``kazdiaspora.execute``) sets the environment variable ``KAZDIASPORA_TRACE`` to a
file path before it starts a notebook's kernel. Every loader in this package calls
:func:`record` for each file it opens; the paths are appended to that file, one per line. The
executor then stores a hash of each file read, and re-executes the notebook when any of them
changes. The executor also asks, after the last cell, for :func:`record_modules`: the package's
modules the notebook imported are its code inputs (a module it never imports cannot change what it
shows). Outside the executor (``KAZDIASPORA_TRACE`` unset) recording writes nothing.

Within a process, :func:`capture` collects what is recorded while it is open (the figure registry
uses it to learn what drawing one figure reads: :mod:`kazdiaspora.figures`). A function whose
result is cached in the process must say again, on every call, what its first call read:
:func:`memo` does this; a cache that does not would hide an input from a later capture.
"""
from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

ENV = "KAZDIASPORA_TRACE"


COLUMNS = "#"
"""In a recorded input, ``file#a,b``: only columns ``a`` and ``b`` of that CSV table were read."""

ROWS = "@"
"""In a recorded input, ``file#a,b@id=x,y``: only columns ``a`` and ``b`` of the rows whose ``id`` is
``x`` or ``y`` were read (one figure of a row: :func:`kazdiaspora.facts.row_figure`)."""


_CAPTURES: list[list[str]] = []


_QUIET = [0]


@contextlib.contextmanager
def quiet():
    """Record nothing while the block runs: for work whose reads are not inputs of what the caller
    makes, and happen only once per process (the data check of a table the first time it is
    loaded: :meth:`kazdiaspora.data.Package.table`)."""
    _QUIET[0] += 1
    try:
        yield
    finally:
        _QUIET[0] -= 1


def record(path: str | os.PathLike, columns=None, rows: tuple[str, list[str]] | None = None) -> None:
    """Record that this process read ``path``: the whole file, or only the named ``columns`` of a
    CSV table (the caller must then have had nothing else of it: see ``data.load(..., columns=)``),
    and with ``rows=(id column, ids)`` only those columns of those rows."""
    target = os.environ.get(ENV)
    if (not target and not _CAPTURES) or _QUIET[0]:
        return
    line = str(Path(path).resolve())
    if rows is not None and columns is None:
        raise ValueError("a read of some rows must name its columns")
    if columns is not None:
        line += "\t" + ",".join(sorted(set(columns)))
    if rows is not None:
        id_col, ids = rows
        for name in (id_col, *ids, *columns):
            if any(ch in str(name) for ch in (",", "=", "\t", "\n", COLUMNS, ROWS)):
                raise ValueError(f"{path}: a recorded column or row id may not contain , = # @ or a tab: {name!r}")
        line += "\t" + id_col + "=" + ",".join(sorted(set(map(str, ids))))
    for got in _CAPTURES:
        got.append(line)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


@contextlib.contextmanager
def capture():
    """Collect the lines recorded while the block runs (in the format of the trace file; read them
    with :func:`entries`). Captures nest: a read is added to every open one."""
    got: list[str] = []
    _CAPTURES.append(got)
    try:
        yield got
    finally:
        del _CAPTURES[next(i for i, g in enumerate(_CAPTURES) if g is got)]


def _replay(lines: list[str]) -> None:
    for line in lines:
        path, names, rows = _parse_line(line)
        record(path, names, rows)


def _parse_line(line: str) -> tuple[str, list[str] | None, tuple[str, list[str]] | None]:
    """A trace file's line: (path, columns or None, (id column, ids) or None)."""
    path, _, rest = line.partition("\t")
    names, _, rows = rest.partition("\t")
    got_rows = None
    if rows:
        id_col, _, ids = rows.partition("=")
        got_rows = (id_col, ids.split(",") if ids else [])
    return path, (names.split(",") if names else None), got_rows


def record_entry(rel: str, root: Path) -> None:
    """Record again an input as :func:`entries` gives it (``file``, ``file#a,b``, ``file#a,b@id=x``)."""
    name, _, spec = rel.partition(COLUMNS)
    columns, _, rows = spec.partition(ROWS)
    got_rows = None
    if rows:
        id_col, _, ids = rows.partition("=")
        got_rows = (id_col, ids.split(",") if ids else [])
    record(root / name, columns.split(",") if columns else None, got_rows)


def memo(fn=None, *, maxsize: int = 4, key=None):
    """Cache ``fn``'s results by its (hashable) arguments, like ``functools.lru_cache``, or by
    ``key(*args, **kwargs)``, and record on every call what the first call read, so that what a
    caller reads does not depend on whether another caller ran first. A cached value is returned
    as it is: a caller that may change it must be given a copy."""
    if fn is None:
        return functools.partial(memo, maxsize=maxsize, key=key)
    cache: dict = {}

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        k = key(*args, **kwargs) if key is not None else (args, tuple(sorted(kwargs.items())))
        if k in cache:
            value, lines = cache[k]
            _replay(lines)
            return value
        with capture() as lines:
            value = fn(*args, **kwargs)
        if len(cache) >= maxsize:
            cache.pop(next(iter(cache)))
        cache[k] = (value, list(lines))
        return value

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    return wrapper


def entries(text: str, root: Path) -> list[str]:
    """The inputs recorded in a trace file's ``text``, relative to ``root``: ``file`` when the whole
    file was read, ``file#a,b`` when only those columns were, ``file#a,b@id=x,y`` when only those
    columns of those rows were. A whole read of a file anywhere wins; else the reads of every row
    make one entry (the union of their columns) and the reads of some rows one entry per id column
    (the union of their columns and rows), left out when the first covers its columns. Files
    outside ``root`` are left out."""
    whole: set[str] = set()
    cols: dict[str, set[str]] = {}
    rows: dict[str, dict[str, tuple[set[str], set[str]]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        path, names, some = _parse_line(line)
        p = Path(path)
        if not p.is_relative_to(root):
            continue
        rel = str(p.relative_to(root))
        if COLUMNS in rel or ROWS in rel:
            raise ValueError(f"{rel}: a recorded file name may not contain {COLUMNS!r} or {ROWS!r}")
        if names is None:
            whole.add(rel)
        elif some is None:
            cols.setdefault(rel, set()).update(names)
        else:
            c, r = rows.setdefault(rel, {}).setdefault(some[0], (set(), set()))
            c.update(names)
            r.update(some[1])
    out = set(whole)
    for rel in set(cols) | set(rows):
        if rel in whole:
            continue
        every = cols.get(rel, set())
        if every:
            out.add(f"{rel}{COLUMNS}{','.join(sorted(every))}")
        for id_col, (c, r) in rows.get(rel, {}).items():
            if not c <= every:
                out.add(f"{rel}{COLUMNS}{','.join(sorted(c))}{ROWS}{id_col}={','.join(sorted(r))}")
    return sorted(out)


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


def rows_digest(path: Path, columns: list[str], id_col: str, ids: list[str]) -> str:
    """SHA-256 of the named columns of the rows whose ``id_col`` is one of ``ids`` (how many rows
    have each id counts; the other rows, and the order of rows, do not). ``missing column: X``
    when the header lacks one."""
    import csv
    import hashlib
    import io

    if not path.exists():
        return "missing"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0] if rows else []
    absent = [c for c in [id_col, *columns] if c not in header]
    if absent:
        return f"missing column: {absent[0]}"
    at, idx = header.index(id_col), [header.index(c) for c in columns]
    wanted = set(ids)
    found: dict[str, list[str]] = {i: [] for i in sorted(wanted)}
    for r in rows[1:]:
        rid = r[at] if at < len(r) else ""
        if rid in wanted:
            found[rid].append("\x1f".join(r[i] if i < len(r) else "\x00" for i in idx))
    h = hashlib.sha256(("\x1f".join(columns) + "\x1d" + id_col).encode())
    for rid, got in found.items():
        h.update(("\x1e" + rid + "\x1d" + str(len(got)) + "\x1d" + "\x1c".join(got)).encode())
    return h.hexdigest()


def digests(recorded: list[str], root: Path) -> dict[str, str]:
    """The SHA-256 now of each input in ``recorded`` (entries as :func:`entries` gives them): of the
    whole file, of the named columns only (:func:`columns_digest`), or of those columns of the
    named rows (:func:`rows_digest`); ``missing`` for a file gone."""
    out = {}
    for rel in recorded:
        name, _, spec = rel.partition(COLUMNS)
        columns, _, rows = spec.partition(ROWS)
        p = root / name
        if rows:
            id_col, _, ids = rows.partition("=")
            out[rel] = rows_digest(p, columns.split(","), id_col, ids.split(",") if ids else [])
        elif columns:
            out[rel] = columns_digest(p, columns.split(","))
        else:
            out[rel] = file_digest(p) if p.exists() else "missing"
    return out


def file_digest(path: Path) -> str:
    """SHA-256 of a whole file."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_modules() -> None:
    """Record the source file of every module of this package loaded in this process."""
    import sys

    for name, module in sorted(sys.modules.items()):
        if (name == "kazdiaspora" or name.startswith("kazdiaspora.")) and getattr(module, "__file__", None):
            record(module.__file__)
