"""Checks of meaning: what a well-formed table can still get wrong.

Used by :mod:`kazdiaspora.data` after the cell-by-cell checks:

* :func:`printed_numbers` — the numbers a printed figure (``as_printed``) can stand for, with the
  unit words of the languages in the data (thousand, million, тыс., млн, мың, mil, bin, 万 …),
  decimal commas, grouped digits, ranges and compounds such as ``1 млн 137,1 тыс.``;
  ``value``, ``value_low`` and ``value_high`` must each be one of them;
* :func:`country_codes` — ISO 3166-1 alpha-3 (``pycountry``);
* :class:`Outlines` — country and admin-1 outlines of ``data/maps/`` (prepared shapely geometries)
  to check that a coordinate lies in the country (and region) its row names.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

# --------------------------------------------------------------------------- printed numbers
# unit words → factor (matched case-insensitively at the start of the word after a number)
_UNIT_WORDS: list[tuple[str, float]] = [
    # millions
    (r"million(?:en|s)?\b", 1e6), (r"mln\b\.?", 1e6), (r"mio\b\.?", 1e6), (r"milyon\b", 1e6),
    (r"млн\.?", 1e6), (r"миллион(?:а|ов)?", 1e6), (r"миллиона", 1e6),
    # thousands
    (r"thousand\b", 1e3), (r"tausend\b", 1e3), (r"тыс\.?", 1e3), (r"тысяч[аи]?", 1e3), (r"мың", 1e3),
    (r"myń", 1e3), (r"مىڭ", 1e3), (r"tys\.?", 1e3), (r"mil\b", 1e3), (r"bin\b", 1e3),
    # CJK
    (r"万", 1e4), (r"亿", 1e8),
]
_UNIT_RE = re.compile(r"\s*(" + "|".join(w for w, _ in _UNIT_WORDS) + ")", re.IGNORECASE)
# a run of digit groups: 1,250,458  1 250 458  1.089.700  151, 018  12,4  1500[0]
_RUN = re.compile(r"[0-9]+(?:(?:,\s?|\.|[ \u00a0\u202f])[0-9]+)*")
_RANGE = re.compile(r"\s*(?:[-\u2013\u2014]|to\b|до\b|and\b|bis\b)", re.IGNORECASE)
_SEP = re.compile(r",\s?|\.|[ \u00a0\u202f]")


def _factor(word: str) -> float:
    for pat, f in _UNIT_WORDS:
        if re.fullmatch(pat, word, re.IGNORECASE):
            return f
    return 1.0


def _readings(groups: list[str], seps: list[str]) -> set[float]:
    """Numbers a run of digit groups can be: all separators as thousands marks, or the last
    one as a decimal mark (comma or point), or any contiguous part of the run alone."""
    out: set[float] = set()
    n = len(groups)
    for i in range(n):
        for j in range(i, n):
            g, s = groups[i:j + 1], seps[i:j]
            out.add(float("".join(g)))
            if s and s[-1].strip() in {",", "."}:
                out.add(float("".join(g[:-1]) + "." + g[-1]))
    return out


def printed_numbers(text: str) -> set[float] | None:
    """Every number ``text`` can stand for, or None when it holds no digit.

    A number followed by a unit word is read with and without the unit; a number followed by a
    unit word and then a smaller number (``952 thousand 882``, ``4 млн. 500 тыс.``) is also read
    as their sum.
    """
    if not re.search(r"[0-9]", text):
        return None
    t = text.replace("[", "").replace("]", "")
    items: list[tuple[set[float], float]] = []   # (readings, unit factor)
    ranged: list[bool] = []   # item joined to the next one by a range word or dash
    for m in _RUN.finditer(t):
        run = m.group(0).rstrip()
        groups = re.split(_SEP, run)
        seps = _SEP.findall(run)
        reads = _readings(groups, seps)
        u = _UNIT_RE.match(t, m.end())
        items.append((reads, _factor(u.group(1)) if u else 1.0))
        ranged.append(bool(_RANGE.match(t, u.end() if u else m.end())))
    out: set[float] = set()
    for reads, f in items:
        out |= reads
        out |= {r * f for r in reads}
    # ranges: the lower end shares the upper end's unit or magnitude (1.3-1.5 million, 60–70,000)
    for k in range(len(items) - 1):
        (r1, f1), (r2, f2) = items[k], items[k + 1]
        if ranged[k] and f1 == 1:
            top = max(r2) * f2
            out |= {a * f2 for a in r1}
            out |= {a * 10 ** e for a in r1 for e in range(1, 7) if a * 10 ** e <= top}
    # compounds: N unit M unit2 [K]
    for k in range(len(items) - 1):
        (r1, f1), (r2, f2) = items[k], items[k + 1]
        if f1 > 1 and f2 < f1:
            sums = {a * f1 + b * f2 for a in r1 for b in r2}
            out |= sums
            if k + 2 < len(items) and f2 > 1:
                r3, f3 = items[k + 2]
                if f3 < f2:
                    out |= {s + c * f3 for s in sums for c in r3}
    return out


def agrees(value: float, readings: set[float]) -> bool:
    return any(math.isclose(value, r, rel_tol=1e-9, abs_tol=1e-9) for r in readings)


def shown(readings: set[float], near: float) -> str:
    """A few readings closest to ``near`` for a message."""
    best = sorted(readings, key=lambda r: abs(math.log10(max(r, 1e-9)) - math.log10(max(near, 1e-9))))[:3]
    return ", ".join(f"{r:,.10g}" for r in sorted(best))


# --------------------------------------------------------------------------- country codes
@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def country_name(code: str) -> str | None:
    import pycountry

    c = pycountry.countries.get(alpha_3=code)
    return c.name if c else None


# --------------------------------------------------------------------------- outlines
_FEATURE = '{"type":"Feature","properties":'
_ISO3 = re.compile(r'"iso3":\s*"([A-Z0-9-]+)"')


class Outlines:
    """Country (``iso3``) and admin-1 outlines from data/maps, as prepared geometries."""

    TOLERANCE_DEG = 0.15   # the layers are simplified (0.02 deg) and points on borders/coasts are legitimate

    def __init__(self, maps_dir: Path):
        from . import trace

        self.maps_dir = maps_dir
        # layers are written one feature per line (scripts/build_map_layers.py): only the features
        # of the countries asked about are parsed, which keeps validation fast
        self._raw: dict[str, dict[str, list]] = {}
        self._prepared: dict[tuple, object] = {}
        for layer in ("countries", "admin1"):
            p = maps_dir / f"{layer}.geojson"
            by: dict[str, list] = {}
            if p.exists():
                trace.record(p)
                text = p.read_text(encoding="utf-8")
                lines = [ln[ln.index(_FEATURE):] for ln in text.split("\n") if _FEATURE in ln]
                keys = [_ISO3.search(ln[:400]) for ln in lines]
                if not lines or not all(keys):       # not one feature per line: parse it all
                    for f in json.loads(text)["features"]:
                        by.setdefault(f["properties"].get("iso3"), []).append(f)
                else:
                    for ln, m in zip(lines, keys):
                        by.setdefault(m.group(1), []).append(ln)
            self._raw[layer] = by

    def _features(self, layer: str, iso3: str) -> list[dict]:
        feats = self._raw[layer].get(iso3, [])
        if feats and isinstance(feats[0], str):
            dec = json.JSONDecoder()
            feats = [dec.raw_decode(ln)[0] for ln in feats]
            self._raw[layer][iso3] = feats
        return feats

    def countries(self) -> set[str]:
        return set(self._raw["countries"])

    def _geom(self, layer: str, iso3: str, name: str | None = None):
        k = (layer, iso3, name)
        if k not in self._prepared:
            from shapely import prepared, unary_union
            from shapely.geometry import shape

            feats = self._features(layer, iso3)
            if name is not None:
                feats = [f for f in feats if _norm(name) in {_norm(f["properties"].get("name") or ""),
                                                             _norm(f["properties"].get("name_en") or "")}]
            if not feats:
                self._prepared[k] = None
            else:
                g = unary_union([shape(f["geometry"]) for f in feats])
                self._prepared[k] = (prepared.prep(g), g)
        return self._prepared[k]

    def has_admin1(self, iso3: str, name: str) -> bool:
        return self._geom("admin1", iso3, name) is not None

    def where(self, lon: float, lat: float) -> str:
        """The country whose outline holds the point (for a message)."""
        from shapely.geometry import Point

        pt = Point(lon, lat)
        for iso3 in sorted(self._raw["countries"]):
            g = self._geom("countries", iso3)
            if g and g[0].contains(pt):
                return iso3
        return "no country of the map layer (sea or outside the map)"

    def check(self, lon: float, lat: float, iso3: str, admin1: str | None) -> str | None:
        """None when the point lies in the country (and admin-1 unit, when the layer has it)."""
        from shapely.geometry import Point

        pt = Point(lon, lat)
        g = self._geom("countries", iso3)
        if g is None:
            return f"country {iso3} is not in data/maps/countries.geojson, so its places cannot be drawn"
        prep, geom = g
        if not prep.contains(pt) and geom.distance(pt) > self.TOLERANCE_DEG:
            return (f"lon {lon:g}, lat {lat:g} lies {geom.distance(pt):.1f} degrees outside {iso3} (the point is in "
                    f"{self.where(lon, lat)}; likely cause: latitude and longitude swapped, a sign flipped, or a "
                    "wrong country code)")
        if admin1:
            a = self._geom("admin1", iso3, admin1)
            if a is not None:
                aprep, ageom = a
                if not aprep.contains(pt) and ageom.distance(pt) > self.TOLERANCE_DEG:
                    return (f"lon {lon:g}, lat {lat:g} lies {ageom.distance(pt):.1f} degrees outside the region "
                            f"{admin1!r} of {iso3} (data/maps/admin1.geojson); likely cause: a mistyped coordinate "
                            "or the wrong region")
        return None


def _norm(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"[^a-z0-9]", "", "".join(ch for ch in s if not unicodedata.combining(ch)).lower())
