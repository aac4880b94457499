"""Check ``data/datapackage.json`` itself before any table is read.

The descriptor is parsed with a position-keeping JSON reader (so every problem names its line and
column, and a key given twice in one object is refused instead of silently overwritten), then
validated with ``jsonschema`` against :data:`PROFILE`: the Frictionless Data Package / Tabular Data
Resource / Table Schema (v1) specifications, restricted to what this project uses and extended by
the project's own ``x-`` properties (each documented in ``data/README.md``):

* field ``"x-bibkey": true`` — the cell is a key of ``references.bib``;
* field ``"x-date": true`` — a calendar date ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``;
* field ``"x-countryCode": {"pseudoCodes": [...], "inMapLayer": bool}`` — an ISO 3166-1 alpha-3
  code (or one of the declared pseudo-codes); with ``inMapLayer`` it must also be drawn in
  ``data/maps/countries.geojson``;
* field ``"x-list": {"separator": " ", "enum": [...]}`` — a list of allowed words;
* schema ``"x-minRows": N`` — the table needs at least N rows (what its chapter draws).

Then what JSON Schema cannot say: resource names and field names unique, only the types the
loader implements, constraints that fit the field's type, patterns that compile, primary and
foreign keys naming existing fields and resources, and no CSV file under ``data/`` that the
package does not list. Every problem is a :class:`kazdiaspora.data.Problem`.
"""
from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from pathlib import Path
from typing import Iterator

SUPPORTED_TYPES = ("string", "integer", "number")
# every type of Table Schema v1; the loader implements SUPPORTED_TYPES
SPEC_TYPES = ["string", "number", "integer", "boolean", "object", "array", "date", "time", "datetime",
              "year", "yearmonth", "duration", "geopoint", "geojson", "any"]
NUMERIC_CONSTRAINTS = ("minimum", "maximum")
TEXT_CONSTRAINTS = ("pattern", "minLength", "maxLength")

_STR = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_NAMES = {"oneOf": [_NONEMPTY, {"type": "array", "items": _NONEMPTY, "minItems": 1}]}

PROFILE: dict = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Data Package (Frictionless v1) with Tabular Data Resources, as used by this project",
    "type": "object",
    "required": ["resources"],
    "additionalProperties": False,
    "properties": {
        "profile": _STR, "name": {"type": "string", "pattern": "^[a-z0-9._-]+$"}, "id": _STR,
        "title": _STR, "description": _STR, "homepage": _STR, "version": _STR, "created": _STR,
        "image": _STR, "keywords": {"type": "array", "items": _STR},
        "licenses": {"type": "array"}, "sources": {"type": "array"}, "contributors": {"type": "array"},
        "resources": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "path", "schema"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9._-]+$"},
                    "path": {"type": "string", "pattern": r"^[^/\\].*\.csv$"},
                    "profile": {"enum": ["tabular-data-resource"]},
                    "title": _STR, "description": _STR, "format": {"enum": ["csv"]},
                    "mediatype": {"enum": ["text/csv"]}, "encoding": {"enum": ["utf-8", "UTF-8"]},
                    "bytes": {"type": "integer"}, "hash": _STR, "licenses": {"type": "array"},
                    "sources": {"type": "array"},
                    "schema": {
                        "type": "object",
                        "required": ["fields"],
                        "additionalProperties": False,
                        "properties": {
                            "fields": {
                                "type": "array", "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "required": ["name", "type"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "name": _NONEMPTY, "title": _STR, "description": _STR,
                                        "type": {"enum": SPEC_TYPES}, "format": {"enum": ["default"]},
                                        "rdfType": _STR, "example": {},
                                        "constraints": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "properties": {
                                                "required": {"type": "boolean"},
                                                "unique": {"type": "boolean"},
                                                "minLength": {"type": "integer", "minimum": 0},
                                                "maxLength": {"type": "integer", "minimum": 0},
                                                "minimum": {"type": "number"},
                                                "maximum": {"type": "number"},
                                                "pattern": _NONEMPTY,
                                                "enum": {"type": "array", "minItems": 1, "uniqueItems": True},
                                            },
                                        },
                                        "x-bibkey": {"const": True},
                                        "x-date": {"const": True},
                                        "x-countryCode": {
                                            "type": "object", "additionalProperties": False,
                                            "properties": {
                                                "pseudoCodes": {"type": "array", "uniqueItems": True,
                                                                "items": {"type": "string", "pattern": "^[A-Z]{3}$"}},
                                                "inMapLayer": {"type": "boolean"},
                                            },
                                        },
                                        "x-list": {
                                            "type": "object", "additionalProperties": False,
                                            "required": ["separator", "enum"],
                                            "properties": {"separator": {"enum": [" ", ";", "|"]},
                                                           "enum": {"type": "array", "minItems": 1,
                                                                    "uniqueItems": True, "items": _NONEMPTY}},
                                        },
                                    },
                                },
                            },
                            "primaryKey": _NAMES,
                            "foreignKeys": {
                                "type": "array",
                                "items": {
                                    "type": "object", "required": ["fields", "reference"], "additionalProperties": False,
                                    "properties": {
                                        "fields": _NAMES,
                                        "reference": {"type": "object", "required": ["resource", "fields"],
                                                      "additionalProperties": False,
                                                      "properties": {"resource": _STR, "fields": _NAMES}},
                                    },
                                },
                            },
                            "missingValues": {"type": "array", "items": _STR, "const": [""]},
                            "x-minRows": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
    },
}


class Located:
    """A parsed JSON document that can tell the line and column of any of its parts."""

    def __init__(self, text: str):
        self.text = text
        self._pos: dict[int, int] = {}
        self.duplicates: list[tuple[str, int]] = []   # (key, offset) of keys given twice in one object
        dec = json.JSONDecoder()
        orig_obj, orig_arr = json.decoder.JSONObject, json.decoder.JSONArray

        def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
            start = s_and_end[1] - 1
            pairs, end = orig_obj(s_and_end, strict, scan_once, None, list, memo if memo is not None else {})
            seen: set[str] = set()
            search = start
            for k, _ in pairs:
                off = text.find(json.dumps(k), search)
                if off >= 0:
                    search = off + 1
                if k in seen:
                    self.duplicates.append((k, off if off >= 0 else start))
                seen.add(k)
            obj = dict(pairs)
            self._pos[id(obj)] = start
            return obj, end

        def parse_array(s_and_end, scan_once):
            arr, end = orig_arr(s_and_end, scan_once)
            self._pos[id(arr)] = s_and_end[1] - 1
            return arr, end

        dec.parse_object = parse_object  # type: ignore[assignment]
        dec.parse_array = parse_array  # type: ignore[assignment]
        dec.scan_once = json.scanner.py_make_scanner(dec)
        self.data = dec.decode(text)

    def linecol(self, offset: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1

    def offset(self, path) -> int:
        """Offset of the deepest part of ``path`` (keys and indexes) that can be located."""
        node, best = self.data, self._pos.get(id(self.data), 0)
        for step in path:
            if isinstance(node, dict) and step in node:
                off = self.text.find(json.dumps(step), best)
                best = off if off >= 0 else best
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                break
            if id(node) in self._pos and isinstance(node, (dict, list)):
                best = self._pos[id(node)]
        return best

    def key_offset(self, path, key: str) -> int:
        start = self.offset(path)
        off = self.text.find(json.dumps(key), start)
        return off if off >= 0 else start


def _where(path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


def _names(v) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def check(dp_path: Path, rel: str, data_dir: Path) -> tuple[dict | None, list]:
    """Parse and check the descriptor. Returns (descriptor or None, problems)."""
    from .startup import skip_iri_grammars

    skip_iri_grammars()
    from jsonschema import Draft7Validator

    from .data import Problem

    problems: list[Problem] = []
    text = dp_path.read_text(encoding="utf-8")
    try:
        doc = Located(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(rel, exc.lineno, None, f"not valid JSON at column {exc.colno}: {exc.msg} "
                                                      "(likely cause: a missing or extra comma, quote or bracket just before this point)")]

    def P(off: int, msg: str) -> None:
        line, col = doc.linecol(off)
        problems.append(Problem(rel, line, None, f"column {col}: {msg}"))

    for key, off in doc.duplicates:
        P(off, f"key {key!r} given twice in the same object (the second would silently replace the first)")
    d = doc.data
    errors = sorted(Draft7Validator(PROFILE).iter_errors(d), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        path = list(e.absolute_path)
        if e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            for k in extra:
                known = ", ".join(sorted(e.schema.get("properties", {})))
                what = "constraint" if path and path[-1] == "constraints" else "property"
                P(doc.key_offset(path, k), f"{_where(path)}: unknown {what} {k!r} (known: {known}; "
                                           "likely cause: a misspelling — the check it names would be silently skipped)")
        elif e.validator == "enum" and path and path[-1] == "type":
            P(doc.key_offset(path[:-1], "type"), f"{_where(path)}: unknown type {e.instance!r} "
                                                  f"(Table Schema types: {', '.join(SPEC_TYPES)})")
        elif e.validator == "required":
            P(doc.offset(path), f"{_where(path)}: {e.message}")
        else:
            P(doc.offset(path), f"{_where(path)}: {e.message}")
    if errors or not isinstance(d, dict):
        return None, problems

    seen_res: dict[str, int] = {}
    for i, res in enumerate(d["resources"]):
        rp = ["resources", i]
        name = res["name"]
        if name in seen_res:
            P(doc.key_offset(rp, "name"), f"resource name {name!r} used twice (first for resources[{seen_res[name]}]); "
                                          "the second table would replace the first, which would never be checked")
        seen_res.setdefault(name, i)
        fields = res["schema"]["fields"]
        names = [f["name"] for f in fields]
        for j, f in enumerate(fields):
            fp = rp + ["schema", "fields", j]
            if names.index(f["name"]) != j:
                P(doc.key_offset(fp, "name"), f"{name}: field {f['name']!r} defined twice")
            t = f["type"]
            if t not in SUPPORTED_TYPES:
                P(doc.key_offset(fp, "type"), f"{name}.{f['name']}: type {t!r} is valid Table Schema but not read by "
                                              f"this book's loader (use one of: {', '.join(SUPPORTED_TYPES)})")
            c = f.get("constraints", {})
            for k in c:
                if k in NUMERIC_CONSTRAINTS and t not in ("integer", "number"):
                    P(doc.key_offset(fp + ["constraints"], k), f"{name}.{f['name']}: constraint {k!r} needs a numeric type, not {t!r}")
                if k in TEXT_CONSTRAINTS and t != "string":
                    P(doc.key_offset(fp + ["constraints"], k), f"{name}.{f['name']}: constraint {k!r} applies to strings, not {t!r}")
            if "pattern" in c:
                try:
                    re.compile(c["pattern"])
                except re.error as exc:
                    P(doc.key_offset(fp + ["constraints"], "pattern"), f"{name}.{f['name']}: pattern does not compile: {exc}")
            for xk in ("x-bibkey", "x-date", "x-countryCode", "x-list"):
                if xk in f and t != "string":
                    P(doc.key_offset(fp, xk), f"{name}.{f['name']}: {xk} applies to string fields, not {t!r}")
        schema = res["schema"]
        if "primaryKey" in schema:
            for k in _names(schema["primaryKey"]):
                if k not in names:
                    P(doc.key_offset(rp + ["schema"], "primaryKey"), f"{name}: primaryKey names {k!r}, which is not a field")
        for k, fk in enumerate(schema.get("foreignKeys", [])):
            fkp = rp + ["schema", "foreignKeys", k]
            for c in _names(fk["fields"]):
                if c not in names:
                    P(doc.offset(fkp), f"{name}: foreign key field {c!r} is not a field of this table")
    by_name = {r["name"]: r for r in d["resources"]}
    for i, res in enumerate(d["resources"]):
        for k, fk in enumerate(res["schema"].get("foreignKeys", [])):
            fkp = ["resources", i, "schema", "foreignKeys", k]
            ref = fk["reference"]
            target = by_name.get(ref["resource"]) if ref["resource"] else res
            if target is None:
                P(doc.offset(fkp + ["reference"]), f"{res['name']}: foreign key refers to unknown resource {ref['resource']!r}")
                continue
            tnames = [f["name"] for f in target["schema"]["fields"]]
            for c in _names(ref["fields"]):
                if c not in tnames:
                    P(doc.offset(fkp + ["reference"]), f"{res['name']}: foreign key refers to {ref['resource']}.{c}, "
                                                       "which is not a field")
            if len(_names(ref["fields"])) != len(_names(fk["fields"])):
                P(doc.offset(fkp), f"{res['name']}: foreign key has {len(_names(fk['fields']))} field(s) but its "
                                   f"reference {len(_names(ref['fields']))}")
    listed = {(data_dir / r["path"]).resolve() for r in d["resources"]}
    for csv_path in sorted(data_dir.rglob("*.csv")):
        if csv_path.resolve() not in listed:
            from .data import _rel
            problems.append(Problem(_rel(csv_path), None, None,
                                    f"CSV file not listed in {rel}: add a resource with its schema, or move the "
                                    "file out of data/ (an unlisted table is never checked)"))
    return (d if not problems else None), problems
