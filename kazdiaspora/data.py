"""Load and validate every table in ``data/`` against ``data/datapackage.json``.

The schema is a Frictionless Data Package (Table Schema). Each CSV is read as text and checked
cell by cell before anything is converted, so that bad input is never coerced, dropped or
overwritten silently. Checks:

* header: exactly the schema's columns, in order;
* every line has as many cells as the header; no leading/trailing spaces in a cell;
* types: ``integer``, ``number`` (plain decimal notation, no thousands separators), ``string``;
* constraints: ``required``, ``enum``, ``pattern``, ``minimum``, ``maximum``, ``unique``;
* the primary key is unique; foreign keys resolve in the referenced table;
* every field marked ``"x-bibkey": true`` holds a key of ``references.bib``;
* rows with a magnitude: ``value_low <= value <= value_high``; at least a value, a range or the
  printed text; periods run forward (``year_start <= year_end``, ``date_start <= date_end``).

The first problem found is raised as :class:`DataError`, whose message names the file, the line
(and the row's id), the column and what was expected. ``python -m kazdiaspora.data validate``
checks every table and prints all problems.
"""
from __future__ import annotations

import csv
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from . import paths, trace
from .bib import BibError, bib_keys


class DataError(ValueError):
    """Bad input in data/: the message names file, line, column and what was expected."""

    def __init__(self, file: str, line: int | None, column: str | None, message: str, row_id: str | None = None):
        self.file, self.line, self.column, self.row_id, self.reason = file, line, column, row_id, message
        where = file
        if line is not None:
            where += f", line {line}"
            if row_id:
                where += f" (row '{row_id}')"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    message: str
    row_id: str | None = None

    def error(self) -> DataError:
        return DataError(self.file, self.line, self.column, self.message, self.row_id)


_INT = re.compile(r"^-?\d+$")
_NUM = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


class Package:
    """The data package: schema plus the tables it describes, rooted at ``data_dir``."""

    def __init__(self, data_dir: Path | None = None, bibfile: Path | None = None):
        self.data_dir = Path(data_dir or paths.DATA_DIR)
        self.bibfile = Path(bibfile or paths.BIBFILE)
        dp_path = self.data_dir / "datapackage.json"
        if not dp_path.exists():
            raise DataError(_rel(dp_path), None, None, "data package descriptor not found")
        trace.record(dp_path)
        try:
            self.descriptor = json.loads(dp_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(_rel(dp_path), exc.lineno, None, f"not valid JSON: {exc.msg}") from None
        self.resources = {r["name"]: r for r in self.descriptor["resources"]}
        self._raw: dict[str, tuple[list[str], list[tuple[int, dict[str, str]]]]] = {}
        self._bib: dict[str, int] | None = None

    # ------------------------------------------------------------------ reading
    def path(self, name: str) -> Path:
        if name not in self.resources:
            raise KeyError(f"unknown table '{name}'; known: {', '.join(sorted(self.resources))}")
        return self.data_dir / self.resources[name]["path"]

    def fields(self, name: str) -> list[dict]:
        return self.resources[name]["schema"]["fields"]

    def raw(self, name: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
        """Header and ``[(line_number, {column: text})]`` of a table, checked for shape only."""
        if name in self._raw:
            return self._raw[name]
        path = self.path(name)
        rel = _rel(path)
        if not path.exists():
            raise DataError(rel, None, None, f"file not found (table '{name}' in datapackage.json)")
        trace.record(path)
        text = path.read_bytes()
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise DataError(rel, line, None, "not valid UTF-8") from None
        if decoded.startswith("\ufeff"):
            raise DataError(rel, 1, None, "file starts with a byte-order mark; save as UTF-8 without BOM")
        reader = csv.reader(decoded.splitlines(keepends=True), strict=True)
        expected = [f["name"] for f in self.fields(name)]
        rows: list[tuple[int, dict[str, str]]] = []
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(rel, 1, None, "empty file: expected a header row") from None
        except csv.Error as exc:
            raise DataError(rel, 1, None, f"malformed CSV: {exc}") from None
        if header != expected:
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            if missing:
                raise DataError(rel, 1, missing[0], f"missing column (expected header: {','.join(expected)})")
            if extra:
                raise DataError(rel, 1, extra[0], f"unexpected column (expected header: {','.join(expected)})")
            raise DataError(rel, 1, None, f"columns out of order (expected header: {','.join(expected)})")
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataError(rel, reader.line_num, None, f"malformed CSV: {exc}") from None
            line = reader.line_num
            if not cells:
                raise DataError(rel, line, None, "blank line: remove it")
            if len(cells) != len(header):
                raise DataError(rel, line, None, f"expected {len(header)} cells, found {len(cells)}")
            rows.append((line, dict(zip(header, cells))))
        self._raw[name] = (header, rows)
        return self._raw[name]

    def bibkeys(self) -> dict[str, int]:
        if self._bib is None:
            try:
                self._bib = bib_keys(self.bibfile)
            except BibError as exc:
                raise DataError(_rel(self.bibfile), None, None, str(exc)) from None
        return self._bib

    # --------------------------------------------------------------- validation
    def problems(self, name: str) -> Iterator[Problem]:
        """Every problem in one table (shape problems stop the table's check)."""
        try:
            header, rows = self.raw(name)
        except DataError as exc:
            yield Problem(exc.file, exc.line, exc.column, exc.reason)
            return
        rel = _rel(self.path(name))
        schema = self.resources[name]["schema"]
        fields = {f["name"]: f for f in schema["fields"]}
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else list(pk)
        seen_pk: dict[tuple, int] = {}
        seen_unique: dict[str, dict[str, int]] = {n: {} for n, f in fields.items() if f.get("constraints", {}).get("unique")}
        id_col = pk[0] if len(pk) == 1 else None
        for line, row in rows:
            rid = row.get(id_col) if id_col else None
            parsed: dict[str, object] = {}
            for col, text in row.items():
                f = fields[col]
                c = f.get("constraints", {})
                P = lambda msg, col=col: Problem(rel, line, col, msg, rid)  # noqa: E731
                if text != text.strip():
                    yield P(f"leading or trailing whitespace in {text!r}")
                    continue
                if text == "":
                    if c.get("required"):
                        yield P("required value is missing")
                    parsed[col] = None
                    continue
                ftype = f.get("type", "string")
                if ftype == "integer":
                    if not _INT.match(text):
                        yield P(f"expected an integer, got {text!r}")
                        continue
                    val: object = int(text)
                elif ftype == "number":
                    if not _NUM.match(text):
                        yield P(f"expected a number in plain decimal notation (no thousands separators, no units), got {text!r}")
                        continue
                    val = float(text)
                    if not math.isfinite(val):
                        yield P(f"expected a finite number, got {text!r}")
                        continue
                else:
                    val = text
                if "enum" in c and text not in c["enum"]:
                    yield P(f"{text!r} is not one of the allowed values: {', '.join(c['enum'])}")
                if "pattern" in c and not re.fullmatch(c["pattern"], text):
                    yield P(f"{text!r} does not match the pattern {c['pattern']} ({f.get('description', '')})")
                if "minimum" in c and isinstance(val, (int, float)) and val < c["minimum"]:
                    yield P(f"{text} is below the minimum {c['minimum']}")
                if "maximum" in c and isinstance(val, (int, float)) and val > c["maximum"]:
                    yield P(f"{text} is above the maximum {c['maximum']}")
                if f.get("x-bibkey"):
                    try:
                        keys = self.bibkeys()
                    except DataError as exc:
                        yield Problem(exc.file, exc.line, exc.column, exc.reason)
                        return
                    if text not in keys:
                        yield P(f"source key {text!r} is not in references.bib")
                if col in seen_unique:
                    if text in seen_unique[col]:
                        yield P(f"duplicate value {text!r} (first on line {seen_unique[col][text]})")
                    else:
                        seen_unique[col][text] = line
                parsed[col] = val
            if pk and all(k in row for k in pk):
                key = tuple(row[k] for k in pk)
                if key in seen_pk and not (len(pk) == 1 and pk[0] in seen_unique):
                    yield Problem(rel, line, pk[-1], f"duplicate primary key {key} (first on line {seen_pk[key]})", rid)
                seen_pk.setdefault(key, line)
            yield from _row_rules(rel, line, rid, parsed)
        yield from self._foreign_key_problems(name, rel, rows, id_col)

    def _foreign_key_problems(self, name, rel, rows, id_col) -> Iterator[Problem]:
        for fk in self.resources[name]["schema"].get("foreignKeys", []):
            cols = fk["fields"]
            cols = [cols] if isinstance(cols, str) else cols
            ref = fk["reference"]
            ref_cols = ref["fields"]
            ref_cols = [ref_cols] if isinstance(ref_cols, str) else ref_cols
            try:
                _, ref_rows = self.raw(ref["resource"])
            except DataError as exc:
                yield Problem(exc.file, exc.line, exc.column, f"{exc.reason} (needed to check {rel})")
                continue
            targets = {tuple(r[c] for c in ref_cols) for _, r in ref_rows}
            ref_rel = _rel(self.path(ref["resource"]))
            for line, row in rows:
                key = tuple(row[c] for c in cols)
                if all(k == "" for k in key):
                    continue
                if key not in targets:
                    shown = key[0] if len(key) == 1 else key
                    yield Problem(rel, line, cols[0], f"{shown!r} not found in {ref_rel} (column '{ref_cols[0]}')",
                                  row.get(id_col) if id_col else None)

    def validate(self, name: str) -> None:
        """Raise DataError for the first problem in the table, if any."""
        problems = list(self.problems(name))
        if problems:
            err = problems[0].error()
            if len(problems) > 1:
                err.args = (f"{err.args[0]} (and {len(problems) - 1} more problem(s) in this table; "
                            f"run `python -m kazdiaspora.data validate` to list them)",)
            raise err

    # ------------------------------------------------------------------ loading
    def table(self, name: str) -> pd.DataFrame:
        """The validated table as a typed DataFrame (integer -> Int64, number -> float64, text -> str)."""
        self.validate(name)
        header, rows = self.raw(name)
        fields = {f["name"]: f for f in self.fields(name)}
        cols = {}
        for col in header:
            ftype = fields[col].get("type", "string")
            texts = [r[col] for _, r in rows]
            if ftype == "integer":
                cols[col] = pd.array([int(t) if t else None for t in texts], dtype="Int64")
            elif ftype == "number":
                cols[col] = pd.array([float(t) if t else math.nan for t in texts], dtype="float64")
            else:
                cols[col] = pd.array([t if t else None for t in texts], dtype="str")
        df = pd.DataFrame(cols, columns=header)
        df.attrs["source_file"] = _rel(self.path(name))
        df.attrs["table"] = name
        df.attrs["title"] = self.resources[name].get("title", name)
        return df


def _row_rules(rel: str, line: int, rid: str | None, v: dict) -> Iterator[Problem]:
    val, lo, hi = v.get("value"), v.get("value_low"), v.get("value_high")
    if lo is not None and hi is not None and lo > hi:
        yield Problem(rel, line, "value_low", f"value_low {lo:g} is greater than value_high {hi:g}", rid)
    if val is not None and lo is not None and val < lo:
        yield Problem(rel, line, "value", f"value {val:g} is below value_low {lo:g}", rid)
    if val is not None and hi is not None and val > hi:
        yield Problem(rel, line, "value", f"value {val:g} is above value_high {hi:g}", rid)
    if "unit" in v and "as_printed" in v and val is None and lo is None and hi is None and not v.get("as_printed"):
        yield Problem(rel, line, "value", "no figure: give value, value_low/value_high, or the text as_printed", rid)
    if v.get("unit") == "percent":
        for col in ("value", "value_low", "value_high"):
            if v.get(col) is not None and v[col] > 100:
                yield Problem(rel, line, col, f"{v[col]:g} percent is above 100", rid)
    status = v.get("status")
    if status in ("disputed", "probable_error", "excluded") and not v.get("status_note"):
        yield Problem(rel, line, "status_note", f"a {status} row must say why in status_note", rid)
    if v.get("correction") is not None and status != "probable_error":
        yield Problem(rel, line, "correction", f"a correction is allowed only on a probable_error row (status is {status!r})", rid)
    for a, b in (("year_start", "year_end"), ("date_start", "date_end"), ("date", "date_end")):
        if v.get(a) is not None and v.get(b) is not None and str(v[a]) > str(v[b]):
            yield Problem(rel, line, b, f"{b} {v[b]} is before {a} {v[a]}", rid)


# ---------------------------------------------------------------------- module API
_PACKAGE: Package | None = None


def package() -> Package:
    """The project's data package (re-read when a data file changes)."""
    global _PACKAGE
    if _PACKAGE is None or _stamp() != getattr(_PACKAGE, "_stamp", None):
        _PACKAGE = Package()
        _PACKAGE._stamp = _stamp()  # type: ignore[attr-defined]
    return _PACKAGE


def _stamp() -> tuple:
    files = [paths.DATAPACKAGE, paths.BIBFILE, *sorted(paths.DATA_DIR.rglob("*.csv"))]
    return tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists())


def load(name: str) -> pd.DataFrame:
    """Load one validated table by its resource name in datapackage.json."""
    return package().table(name)


def table_names() -> list[str]:
    return list(package().resources)


def validate_all(pkg: Package | None = None) -> list[Problem]:
    pkg = pkg or package()
    out: list[Problem] = []
    for name in pkg.resources:
        out.extend(pkg.problems(name))
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "validate":
        print("usage: python -m kazdiaspora.data validate [DATA_DIR]", file=sys.stderr)
        return 2
    pkg = Package(Path(argv[1])) if len(argv) > 1 else Package()
    problems = validate_all(pkg)
    for p in problems:
        print(p.error())
    n_rows = 0
    for n in pkg.resources:
        try:
            n_rows += len(pkg.raw(n)[1])
        except DataError:
            pass
    print(f"{len(pkg.resources)} tables, {n_rows} rows, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
