"""The place-name table of the book, generated from ``data/places/gazetteer.csv``.

One row per place: the usual English name, every other form the gazetteer holds (each ``name_*``
column, whatever columns it has: local script, Kazakh, Russian, Persian, Chinese ...), the country,
the region and the coordinates. The Sphinx extension puts the table where ``book/places.md`` holds
the line ``<!-- kaz:places -->``; each place also gets an index entry.
"""
from __future__ import annotations

import csv

from . import paths

#: headings of known name columns; any other ``name_xx`` column is shown as "Name (xx)".
NAME_HEADINGS = {"name_local": "Local form (language)", "name_kk": "Kazakh", "name_ru": "Russian",
                 "name_fa": "Persian", "name_zh": "Chinese", "name_tr": "Turkish", "name_mn": "Mongolian",
                 "name_uz": "Uzbek", "name_ky": "Kyrgyz", "name_alt": "Other forms", "name_kk_latn": "Kazakh (Latin)"}
COUNTRIES = {"AFG": "Afghanistan", "CHN": "China", "DEU": "Germany", "FRA": "France", "IND": "India",
             "IRN": "Iran", "KAZ": "Kazakhstan", "KGZ": "Kyrgyzstan", "MNG": "Mongolia", "PAK": "Pakistan",
             "RUS": "Russia", "SWE": "Sweden", "TJK": "Tajikistan", "TKM": "Turkmenistan", "TUR": "Turkey",
             "UZB": "Uzbekistan"}
#: the language of a place's local form (``name_local``), by the country it lies in today
LOCAL_LANGUAGE = {"AFG": "Dari", "CHN": "Chinese", "DEU": "German", "FRA": "French", "IND": "Hindi",
                  "IRN": "Persian", "KAZ": "Kazakh", "KGZ": "Kyrgyz", "MNG": "Mongolian", "PAK": "Urdu",
                  "RUS": "Russian", "SWE": "Swedish", "TJK": "Tajik", "TKM": "Turkmen", "TUR": "Turkish",
                  "UZB": "Uzbek"}
GAZETTEER = paths.DATA_DIR / "places" / "gazetteer.csv"


def read(path=None) -> tuple[list[str], list[dict]]:
    path = path or GAZETTEER
    with open(path, encoding="utf-8", newline="") as fh:
        r = csv.DictReader(fh)
        rows = list(r)
        cols = list(r.fieldnames or [])
    for need in ("place_id", "name_en", "country_iso3", "lon", "lat"):
        if need not in cols:
            raise ValueError(f"{path}: column {need!r} missing")
    return cols, rows


def _cell(s: str) -> str:
    s = " ".join(str(s or "").split())
    return s.replace("|", "/") if s else "\u2014"


def _coord(v: str, pos: str, neg: str) -> str:
    x = float(v)
    return f"{abs(x):.2f}\u00b0\u00a0{pos if x >= 0 else neg}"


def places_markdown(path=None) -> str:
    cols, rows = read(path)
    name_cols = [c for c in cols if c.startswith("name_") and c != "name_en"]
    heads = ["Place"] + [NAME_HEADINGS.get(c, f"Name ({c[5:]})") for c in name_cols] + \
            ["Country", "Region", "Latitude", "Longitude"]
    rows = sorted(rows, key=lambda r: r["name_en"].lower())
    out = ["```{list-table} Places named in the book, with their other written forms and coordinates",
           ":name: tbl-places", ":header-rows: 1", ":class: kaz-table", ""]
    out.append("* - " + "\n  - ".join(heads))
    for r in rows:
        iso = r["country_iso3"]
        country = COUNTRIES.get(iso, iso)
        name = _cell(r["name_en"])
        first = f"{{index}}`{name.split(' (')[0]} <single: {name.split(' (')[0]}; place ({country})>`{name[len(name.split(' (')[0]):]}"

        def form(c):
            text = _cell(r.get(c))
            if c == "name_local" and text != "\u2014" and iso in LOCAL_LANGUAGE:
                text += f" ({LOCAL_LANGUAGE[iso]})"
            return text

        cells = [first] + [form(c) for c in name_cols] + \
                [country, _cell(r.get("admin1")), _coord(r["lat"], "N", "S"), _coord(r["lon"], "E", "W")]
        out.append("* - " + "\n  - ".join(cells))
    out.append("```")
    return "\n".join(out) + "\n"
