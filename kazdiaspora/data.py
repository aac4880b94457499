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
import datetime
import io
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from . import checks, paths, trace
from .bib import BibError, bib_keys


class DataError(ValueError):
    """Bad input in data/: the message names file, line, column and what was expected."""

    def __init__(self, file: str, line: int | None, column: str | None, message: str, row_id: str | None = None):
        self.file, self.line, self.column, self.row_id, self.reason = file, line, column, row_id, message
        self.problems: list[Problem] = []
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


# plain ASCII decimal notation only (``\d`` would accept Persian, Devanagari or full-width digits)
_INT = re.compile(r"-?[0-9]+")
_NUM = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def _number_hint(text: str) -> str:
    """Why a cell is not a plain decimal number, when a likely cause is known."""
    odd = [ch for ch in text if ch.isdigit() and not ch.isascii()]
    if odd:
        import unicodedata
        return (f" (it holds the non-ASCII digit {odd[0]!r}, {unicodedata.name(odd[0], 'U+%04X' % ord(odd[0]))}; "
                "likely cause: typed with a Persian/Arabic or full-width keyboard layout — type ASCII digits 0-9)")
    if re.fullmatch(r"-?[0-9.]+[eE][-+]?[0-9]+", text):
        return " (exponent notation; likely cause: a spreadsheet reformatted the number — write every digit, e.g. 1500000)"
    if re.search(r"[0-9][,\u00a0\u202f ][0-9]{3}", text):
        return " (thousands separators; write the digits only, e.g. 1250458)"
    if re.fullmatch(r"-?[0-9]+,[0-9]+", text):
        return " (decimal comma; write a decimal point, e.g. 12.4)"
    return ""


def check_date(text: str) -> str | None:
    """None for a real calendar date YYYY, YYYY-MM or YYYY-MM-DD, else what is wrong."""
    m = _DATE.fullmatch(text)
    if not m:
        return f"expected a date YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}"
    y, mo, d = m.groups()
    if mo is not None and not 1 <= int(mo) <= 12:
        return f"{text!r} is not a calendar date: month {mo} (expected 01-12; likely cause: day and month swapped)"
    if d is not None:
        try:
            datetime.date(int(y), int(mo), int(d))
        except ValueError:
            return f"{text!r} is not a calendar date: {y}-{mo} has no day {d}"
    return None


APPROXIMATE_PERIOD = ("c.", "about", "circa")


def year_is_approximate(period) -> bool:
    """True where a row's ``period`` says its year is only approximate ('c. 1990', 'about 1925')."""
    return isinstance(period, str) and period.strip().lower().startswith(APPROXIMATE_PERIOD)


def date_after(a: str, b: str) -> bool:
    """True when partial date ``a`` is certainly after ``b``: compared at the coarser precision
    of the two (``2000-06`` is not after ``2000``; ``2001`` is after ``2000-12-31``)."""
    n = min(len(a), len(b))
    return a[:n] > b[:n]


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
        from . import schema as _schema

        descriptor, problems = _schema.check(dp_path, _rel(dp_path), self.data_dir)
        if problems:
            err = problems[0].error()
            err.problems = problems
            if len(problems) > 1:
                err.args = (f"{err.args[0]} (and {len(problems) - 1} more problem(s) in the data package; "
                            f"run `python -m kazdiaspora.data validate` to list them)",)
            raise err
        self.descriptor = descriptor
        self.resources = {r["name"]: r for r in self.descriptor["resources"]}
        self._outlines: checks.Outlines | None = None
        self._raw: dict[str, tuple[list[str], list[tuple[int, dict[str, str]]]]] = {}
        self._bib: dict[str, int] | None = None
        self._tables: dict[str, pd.DataFrame] = {}
        # the whole package passed `python -m kazdiaspora.data validate` in this very state: its
        # tables are typed without being checked again (each notebook's kernel and the build did)
        self.known_valid = self.is_default() and VALIDATED.exists() and \
            VALIDATED.read_text(encoding="ascii") == self.inputs_key()

    def is_default(self) -> bool:
        """Whether this is the book's own package (``data/`` and ``references.bib``)."""
        return (self.data_dir.resolve() == paths.DATA_DIR.resolve()
                and self.bibfile.resolve() == paths.BIBFILE.resolve())

    def inputs_key(self) -> str:
        """SHA-256 of everything validation reads: every file under the data directory, the
        bibliography, and the package's code."""
        import hashlib

        h = hashlib.sha256()
        files = [p for p in sorted(self.data_dir.rglob("*")) if p.is_file()] + [self.bibfile]
        files += sorted(Path(__file__).parent.rglob("*.py"))
        for f in files:
            h.update(str(f).encode() + b"\0" + (f.read_bytes() if f.exists() else b"(missing)") + b"\0")
        return h.hexdigest()

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
        text = path.read_bytes()
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise DataError(rel, line, None, f"not valid UTF-8 (byte {text[exc.start]:#04x}; likely cause: saved as "
                                             "Windows-1251, Latin-1 or another legacy encoding — save as UTF-8)") from None
        if decoded.startswith("\ufeff"):
            raise DataError(rel, 1, None, "file starts with a byte-order mark; save as UTF-8 without BOM")
        # newline="": only \n, \r and \r\n end a line (str.splitlines would also split on U+2028,
        # form feed and others inside quoted cells and shift every later line number)
        reader = csv.reader(io.StringIO(decoded, newline=""), strict=True)
        expected = [f["name"] for f in self.fields(name)]
        rows: list[tuple[int, dict[str, str]]] = []
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(rel, 1, None, "empty file: expected a header row") from None
        except csv.Error as exc:
            raise DataError(rel, 1, None, f"malformed CSV: {exc}") from None
        if header != expected:
            if len(header) == 1 and len(expected) > 1:
                sep = next((d for d in (";", "\t", "|") if d in header[0]), None)
                if sep:
                    raise DataError(rel, 1, None, f"the header is one cell; likely cause: the file uses {sep!r} "
                                                  "as delimiter — save it with commas (expected header: "
                                                  f"{','.join(expected)})")
            stripped = [h.strip() for h in header]
            if stripped == expected:
                bad = next(h for h in header if h != h.strip())
                raise DataError(rel, 1, bad.strip(), f"column name {bad!r} has a leading or trailing space")
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            if missing:
                raise DataError(rel, 1, missing[0], f"missing column (expected header: {','.join(expected)})")
            if extra:
                raise DataError(rel, 1, extra[0], f"unexpected column (expected header: {','.join(expected)})")
            raise DataError(rel, 1, None, f"columns out of order (expected header: {','.join(expected)})")
        while True:
            line = reader.line_num + 1          # first line of the record
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataError(rel, line, None, f"malformed CSV: {exc} (likely cause: a quote inside a cell "
                                                 "not doubled, or a cell's closing quote missing)") from None
            if not cells:
                raise DataError(rel, line, None, "blank line: remove it")
            if len(cells) != len(header):
                hint = ""
                if len(cells) > len(header):
                    hint = " (likely cause: a comma inside a cell that is not quoted — quote the cell)"
                elif len(cells) == 1 and any(d in cells[0] for d in (";", "\t")):
                    hint = " (likely cause: a different delimiter than the comma)"
                raise DataError(rel, line, None, f"expected {len(header)} cells, found {len(cells)}{hint}",
                                cells[0] if cells else None)
            rows.append((line, dict(zip(header, cells))))
        self._raw[name] = (header, rows)
        return self._raw[name]

    def bibkeys(self) -> dict[str, int]:
        if self._bib is None:
            try:
                self._bib = bib_keys(self.bibfile)
            except BibError as exc:
                raise DataError(_rel(self.bibfile), exc.line, None, str(exc).split(": ", 1)[-1]) from None
        return self._bib

    # --------------------------------------------------------------- validation
    def problems(self, name: str) -> Iterator[Problem]:
        """Every problem in one table (shape problems stop the table's check)."""
        try:
            header, rows = self.raw(name)
        except DataError as exc:
            yield Problem(exc.file, exc.line, exc.column, exc.reason, exc.row_id)
            return
        rel = _rel(self.path(name))
        schema = self.resources[name]["schema"]
        fields = {f["name"]: f for f in schema["fields"]}
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else list(pk)
        seen_pk: dict[tuple, int] = {}
        seen_unique: dict[str, dict[str, int]] = {n: {} for n, f in fields.items() if f.get("constraints", {}).get("unique")}
        id_col = pk[0] if len(pk) == 1 else None
        patterns = {n: re.compile(f["constraints"]["pattern"], re.ASCII) for n, f in fields.items()
                    if "pattern" in f.get("constraints", {})}
        min_rows = schema.get("x-minRows", 1)
        if len(rows) < min_rows:
            yield Problem(rel, None, None, f"{len(rows)} data row(s); the table needs at least {min_rows} "
                                           "(x-minRows in datapackage.json: what its chapter draws; likely cause: "
                                           "rows deleted or the file cut short by an editor)")
        parsed_rows: list[tuple[int, str | None, dict]] = []
        for line, row in rows:
            rid = row.get(id_col) if id_col else None
            parsed: dict[str, object] = {}
            for col, text in row.items():
                f = fields[col]
                c = f.get("constraints", {})
                P = lambda msg, col=col: Problem(rel, line, col, msg, rid)  # noqa: E731
                if text != text.strip():
                    yield P(f"leading or trailing whitespace in {text!r} (likely cause: a space typed before or "
                            "after the value, or a line break pasted into the cell)")
                    continue
                if text == "":
                    if c.get("required"):
                        yield P("required value is missing")
                    parsed[col] = None
                    continue
                ftype = f.get("type", "string")
                if ftype == "integer":
                    if not _INT.fullmatch(text):
                        yield P(f"expected an integer in ASCII digits, got {text!r}{_number_hint(text)}")
                        continue
                    val: object = int(text)
                elif ftype == "number":
                    if not _NUM.fullmatch(text):
                        yield P(f"expected a number in plain decimal notation (ASCII digits, a decimal point, no "
                                f"thousands separators, no exponent, no units), got {text!r}{_number_hint(text)}")
                        continue
                    val = float(text)
                else:
                    val = text
                if "enum" in c and text not in c["enum"]:
                    yield P(f"{text!r} is not one of the allowed values: {', '.join(c['enum'])}")
                if col in patterns and not patterns[col].fullmatch(text):
                    yield P(f"{text!r} does not match the pattern {c['pattern']} ({f.get('description', '')})")
                if "minimum" in c and isinstance(val, (int, float)) and val < c["minimum"]:
                    yield P(f"{text} is below the minimum {c['minimum']}")
                if "maximum" in c and isinstance(val, (int, float)) and val > c["maximum"]:
                    yield P(f"{text} is above the maximum {c['maximum']}")
                if "minLength" in c and len(text) < c["minLength"]:
                    yield P(f"{text!r} is shorter than {c['minLength']} characters")
                if "maxLength" in c and len(text) > c["maxLength"]:
                    yield P(f"{text!r} is longer than {c['maxLength']} characters")
                if f.get("x-date"):
                    why = check_date(text)
                    if why:
                        yield P(why)
                        continue
                if "x-countryCode" in f:
                    yield from (P(m) for m in self._country_problems(text, f["x-countryCode"]))
                if "x-list" in f:
                    spec = f["x-list"]
                    items = text.split(spec["separator"])
                    for it in items:
                        if it not in spec["enum"]:
                            yield P(f"{it!r} in the list {text!r} is not one of the allowed values: "
                                    f"{', '.join(spec['enum'])} (separated by {spec['separator']!r}; likely cause: a "
                                    "misspelling — the row would silently be left out)")
                    dup = sorted({it for it in items if items.count(it) > 1})
                    if dup:
                        yield P(f"{dup[0]!r} listed twice in {text!r}")
                if f.get("x-bibkey"):
                    try:
                        keys = self.bibkeys()
                    except DataError as exc:
                        yield Problem(exc.file, exc.line, exc.column, exc.reason)
                        return
                    if text not in keys:
                        near = [k for k in keys if k.lower() == text.lower()]
                        hint = f" (did you mean {near[0]!r}? keys are case-sensitive)" if near else ""
                        yield P(f"source key {text!r} is not in references.bib{hint}")
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
            yield from _row_rules(rel, line, rid, parsed, row)
            parsed_rows.append((line, rid, parsed))
        yield from self._foreign_key_problems(name, rel, rows, id_col)
        yield from _repeat_problems(rel, parsed_rows)
        if {"lon", "lat", "country_iso3"} <= set(fields):
            yield from self._coordinate_problems(rel, parsed_rows)

    def _country_problems(self, code: str, spec: dict) -> Iterator[str]:
        pseudo = spec.get("pseudoCodes", [])
        if code in pseudo:
            return
        if code not in checks.country_codes():
            near = sorted(c for c in checks.country_codes() if sum(a != b for a, b in zip(c, code)) == 1)
            hint = f"; did you mean {' or '.join(near[:4])}?" if near else ""
            extra = f" or a pseudo-code declared for this column ({', '.join(pseudo)})" if pseudo else ""
            yield f"{code!r} is not an ISO 3166-1 alpha-3 country code{extra}{hint}"
            return
        if spec.get("inMapLayer") and code not in self.outlines().countries():
            yield (f"{checks.country_name(code)} ({code}) is not drawn in data/maps/countries.geojson, so a place in "
                   "it cannot be placed on the maps (rebuild the layers with `make map-layers` to include it)")

    def outlines(self) -> checks.Outlines:
        if self._outlines is None:
            self._outlines = checks.Outlines(self.data_dir / "maps")
        return self._outlines

    def _coordinate_problems(self, rel: str, parsed_rows) -> Iterator[Problem]:
        out = self.outlines()
        for line, rid, v in parsed_rows:
            lon, lat, iso3 = v.get("lon"), v.get("lat"), v.get("country_iso3")
            if lon is None or lat is None or not iso3 or iso3 not in out.countries():
                continue
            msg = out.check(lon, lat, iso3, v.get("admin1"))
            if msg:
                yield Problem(rel, line, "lon", msg, rid)

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
    def table(self, name: str, columns=None, rows=None, where=None) -> pd.DataFrame:
        """The validated table as a typed DataFrame (integer -> Int64, number -> float64, text -> str).

        ``columns``: only these columns (in this order), and only these are recorded as read
        (:mod:`kazdiaspora.trace`), so that a notebook is not executed again when another column of
        the file changes; the frame holds nothing else, so nothing else can be used. ``rows``
        (with ``columns``): only the rows with these ids (the table's first column), in the
        table's order, recorded as such: a notebook that states one row's figure is not executed
        again when another row changes. An id the table lacks is a KeyError. ``where=(column,
        values)``: only the rows whose text ``column`` holds one of ``values`` (all columns, or
        ``columns``), recorded as such: a computation over one wave's figures is not executed again
        when another wave's figure changes (a row moved into or out of the selection changes what
        is recorded, as does any cell of a selected row). The whole table is
        validated either way. Validated and typed once per package (a changed file makes
        :func:`package` a new one); each call returns its own copy, which the caller may change."""
        if name not in self._tables:
            # what checking the table reads (the bibliography, the tables it refers to) is not an
            # input of what the caller makes from it, and is read only by the first caller in a
            # process: recording it would make a figure's inputs depend on what ran before it
            with trace.quiet():
                self._tables[name] = self._typed(name)
        full = self._tables[name]
        if where is not None:
            return self._where(name, full, columns, rows, where)
        if columns is None:
            if rows is not None:
                raise ValueError(f"table '{name}': a read of some rows must name its columns")
            trace.record(self.path(name))
            df = full.copy()
        else:
            columns = list(columns)
            unknown = [c for c in columns if c not in full.columns]
            if unknown:
                raise KeyError(f"table '{name}' has no column {unknown[0]!r}; columns: {', '.join(full.columns)}")
            if rows is None:
                trace.record(self.path(name), columns)
                df = full[columns].copy()
            else:
                id_col = self.fields(name)[0]["name"]
                ids = [str(r) for r in rows]
                lacking = sorted(set(ids) - set(full[id_col].astype(str)))
                if lacking:
                    raise KeyError(f"table '{name}' has no row with {id_col} {lacking[0]!r}")
                trace.record(self.path(name), columns, rows=(id_col, ids))
                df = full.loc[full[id_col].astype(str).isin(ids), columns].copy()
        df.attrs = dict(full.attrs)
        return df

    def _where(self, name: str, full: pd.DataFrame, columns, rows, where) -> pd.DataFrame:
        if rows is not None:
            raise ValueError(f"table '{name}': select rows by ids or by where=, not both")
        col, values = where
        types = {f["name"]: f.get("type", "string") for f in self.fields(name)}
        if col not in full.columns:
            raise KeyError(f"table '{name}' has no column {col!r}; columns: {', '.join(full.columns)}")
        if types.get(col) != "string":
            # the record of what was read compares the file's text: only a text column selects alike
            raise ValueError(f"table '{name}': where= selects by a text column, not {col!r} ({types.get(col)})")
        columns = list(full.columns) if columns is None else list(columns)
        unknown = [c for c in columns if c not in full.columns]
        if unknown:
            raise KeyError(f"table '{name}' has no column {unknown[0]!r}; columns: {', '.join(full.columns)}")
        values = [str(v) for v in values]
        trace.record(self.path(name), columns, rows=(col, values))
        df = full.loc[full[col].isin(values), columns].copy()
        df.attrs = dict(full.attrs)
        return df

    def _typed(self, name: str) -> pd.DataFrame:
        if not self.known_valid:
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


def _row_rules(rel: str, line: int, rid: str | None, v: dict, raw: dict | None = None) -> Iterator[Problem]:
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
    printed = v.get("as_printed")
    if printed:
        readings = checks.printed_numbers(printed)
        if readings:
            for col in ("value", "value_low", "value_high"):
                x = v.get(col)
                if x is not None and not checks.agrees(x, readings):
                    yield Problem(rel, line, col, f"{col} {x:,.10g} does not agree with as_printed {printed!r} "
                                  f"(which reads as {checks.shown(readings, x)} …; likely cause: a digit typed too "
                                  "many or too few, or a unit word such as thousand/million/тыс./млн applied wrongly)",
                                  rid)
    for a, b in (("year_start", "year_end"), ("date_start", "date_end"), ("date", "date_end")):
        if v.get(a) is None or v.get(b) is None:
            continue
        if isinstance(v[a], int) and isinstance(v[b], int):
            after = v[a] > v[b]
        else:
            after = date_after(str(v[a]), str(v[b]))
        if after:
            yield Problem(rel, line, b, f"{b} {v[b]} is before {a} {v[a]} (periods run forward; likely cause: the "
                                        "two swapped)", rid)


# what makes two figure rows the same figure: same source, place, period, unit and value
_SAME_PLACE = ("series", "group", "geography", "iso3", "subregion", "origin", "origin_iso3", "destination",
               "place_id", "wave_id")
_SAME_PERIOD = ("period", "year", "year_start", "year_end", "date_start", "date_end")
_REPEAT = re.compile(r"\brepeat of ([a-z0-9][a-z0-9_\-]*)")


def _repeat_problems(rel: str, parsed_rows) -> Iterator[Problem]:
    """A figure entered twice is refused unless its note says ``repeat of <id of the first row>``
    (a source that states the same figure in two places)."""
    if not parsed_rows or "source_key" not in parsed_rows[0][2] or "unit" not in parsed_rows[0][2]:
        return
    first: dict[tuple, tuple[int, str | None]] = {}
    ids = {rid for _, rid, _ in parsed_rows}
    for line, rid, v in parsed_rows:
        if v.get("value") is None and v.get("value_low") is None and v.get("value_high") is None:
            continue
        key = tuple(v.get(c) for c in ("source_key", *_SAME_PLACE, *_SAME_PERIOD, "unit", "value", "value_low", "value_high"))
        marked = _REPEAT.search(v.get("note") or "")
        if marked and marked.group(1) not in ids:
            yield Problem(rel, line, "note", f"'repeat of {marked.group(1)}': no row has that id", rid)
        if key in first:
            fline, fid = first[key]
            if not (marked and marked.group(1) == fid):
                yield Problem(rel, line, "value", f"the same figure as row {fid!r} (line {fline}): same source, place, "
                              "period, unit and value (likely cause: a row copied or entered twice — it would be "
                              f"counted twice; if the source really states it twice, write 'repeat of {fid}' in the note)",
                              rid)
        else:
            first[key] = (line, rid)
            if marked:
                yield Problem(rel, line, "note", f"marked 'repeat of {marked.group(1)}' but no earlier row states the "
                              "same figure (same source, place, period, unit and value)", rid)


# ---------------------------------------------------------------------- module API
_PACKAGE: Package | None = None
VALIDATED = paths.BUILD_DIR / "validated.sha256"
"""The :meth:`Package.inputs_key` of the last state of ``data/`` that passed ``validate`` with no
problem (not committed: a fresh clone validates in every process until `make` validates once)."""


def package() -> Package:
    """The project's data package (re-read when a data file changes)."""
    global _PACKAGE
    if _PACKAGE is None or _stamp() != getattr(_PACKAGE, "_stamp", None):
        _PACKAGE = Package()
        _PACKAGE._stamp = _stamp()  # type: ignore[attr-defined]
    else:
        trace.record(_PACKAGE.data_dir / "datapackage.json")  # read when the package was made
    return _PACKAGE


def _stamp() -> tuple:
    files = [paths.DATAPACKAGE, paths.BIBFILE, *sorted(paths.DATA_DIR.rglob("*.csv"))]
    return tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists())


def load(name: str, columns=None, rows=None, where=None) -> pd.DataFrame:
    """Load one validated table by its resource name in datapackage.json (``columns``: only these;
    ``rows``: only the rows with these ids; ``where=(column, values)``: only the rows whose
    ``column`` holds one of ``values``; see :meth:`Package.table`)."""
    return package().table(name, columns, rows, where)


def table_names() -> list[str]:
    return list(package().resources)


def record_validation(pkg: Package, problems: list[Problem]) -> None:
    """After validating the whole book's package: remember its state if it passed, for the
    processes that load tables next (:attr:`Package.known_valid`); forget any earlier state if not."""
    if not pkg.is_default():
        return
    VALIDATED.unlink(missing_ok=True)
    if not problems:
        VALIDATED.parent.mkdir(parents=True, exist_ok=True)
        tmp = VALIDATED.with_name(f".{VALIDATED.name}.{os.getpid()}")
        tmp.write_text(pkg.inputs_key(), encoding="ascii")
        os.replace(tmp, VALIDATED)


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
    try:
        pkg = Package(Path(argv[1]), Path(argv[1]).parent / "references.bib") if len(argv) > 1 else Package()
    except DataError as exc:
        for p in exc.problems or [Problem(exc.file, exc.line, exc.column, exc.reason, exc.row_id)]:
            print(p.error())
        print(f"data package refused: {len(exc.problems) or 1} problem(s); no table was checked")
        return 1
    problems = validate_all(pkg)
    try:
        pkg.bibkeys()
    except DataError as exc:
        if not any(p.file == exc.file for p in problems):
            problems.append(Problem(exc.file, exc.line, exc.column, exc.reason))
    for p in problems:
        print(p.error())
    record_validation(pkg, problems)
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
