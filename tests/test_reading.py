"""Reading aids: formatted tables, the place-name table, the grouped References page, screen images."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from kazdiaspora import bib, places, references, screen, tables


def test_table_shows_every_cell_with_separators_units_and_citations():
    key = sorted(bib.bib_keys())[0]
    long = "a very long text " * 20
    df = pd.DataFrame({"country": ["Mongolia", "China"], "value": [101526, 1_462_588],
                       "year": [2020, 2010], "note": [long, None], "source_key": [key, key]})
    md = tables.show(df, name="tbl-demo", caption="Demo table", units={"value": "persons"},
                     sources="source_key", plain=("year",),
                     columns={"country": "Country", "value": "Kazakhs", "year": "Year", "note": "Note",
                              "source_key": "Source"})._repr_markdown_()
    assert md.startswith("```{list-table} Demo table\n:name: tbl-demo\n:header-rows: 1")
    assert "Kazakhs (persons)" in md
    assert "1,462,588" in md and "101,526" in md
    assert "  - 2020" in md and "2,020" not in md  # years are not numbers to separate
    assert " ".join(long.split()) in md  # never truncated
    assert "\u2014" in md  # missing value as a dash
    assert f"{{cite:t}}`{key}`" in md
    assert md.count("* - ") == 3


def test_table_refuses_unknown_source_keys_bad_names_and_missing_columns():
    df = pd.DataFrame({"v": [1], "source_key": ["no_such_key_in_bib"]})
    with pytest.raises(ValueError, match="no_such_key_in_bib"):
        tables.show(df, name="tbl-x", caption="c", sources="source_key")._repr_markdown_()
    with pytest.raises(ValueError, match="tbl-"):
        tables.show(df, name="Table X", caption="c")
    with pytest.raises(KeyError, match="nope"):
        tables.show(df, name="tbl-x", caption="c", columns={"nope": "N"})


def test_table_escapes_markdown_in_cells():
    md = tables.show(pd.DataFrame({"a": ["x|y *z* [w]"]}), name="tbl-e", caption="c")._repr_markdown_()
    assert r"x\|y \*z\* \[w\]" in md


def test_places_table_has_every_gazetteer_row_and_name_form(tmp_path):
    cols, rows = places.read()
    md = places.places_markdown()
    assert md.count("\n* - ") == len(rows) + 1
    for r in rows[:10]:
        assert r["name_en"].split(" (")[0] in md
    p = tmp_path / "g.csv"
    p.write_text("place_id,name_en,country_iso3,lat,lon,name_kk\nx,Testplace,KAZ,43.25,76.95,Тест\n", encoding="utf-8")
    md = places.places_markdown(p)
    assert "Тест" in md and "43.25\u00b0\u00a0N" in md and "76.95\u00b0\u00a0E" in md and "Kazakhstan" in md
    bad = tmp_path / "bad.csv"
    bad.write_text("place_id,name_en,lat,lon\nx,T,1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="country_iso3"):
        places.read(bad)


def test_references_are_grouped_every_key_once_and_notes_cleaned():
    g = references.groups()
    keys = [k for ks in g.values() for k in ks]
    assert sorted(keys) == sorted(bib.entries()), "every entry in exactly one group"
    assert all(g[gid] for gid in ("official", "scholarly", "encyclopedia")), {k: len(v) for k, v in g.items()}
    md = references.bibliography_markdown()
    for gid, heading in references.GROUPS:
        if g[gid]:
            assert f"## {heading}" in md
    assert references.clean_note("Population census. Tier B source; seed document 002.") == "Population census."
    for key, entry in bib.entries().items():
        note = str(references.reader_entry(entry).fields.get("note", ""))
        assert not re.search(r"\b(tier|seed|research pack)\b", note, re.I), (key, note)


def test_screen_images_are_small_deterministic_and_sized(tmp_path):
    from PIL import Image

    src = tmp_path / "demo.png"
    Image.new("RGB", (3000, 1500), (200, 30, 30)).save(src)
    one, two, size = screen.make(src, tmp_path / "a", "screen")
    assert size == (800, 400) and Image.open(two).size == (1600, 800)
    again = screen.make(src, tmp_path / "b", "screen")
    assert one.read_bytes() == again[0].read_bytes()
    t1, _, tsize = screen.make(src, tmp_path / "a", "thumb")
    assert tsize[0] == 360
    with pytest.raises(ValueError):
        screen.make(src, tmp_path, "huge")
    with pytest.raises(FileNotFoundError):
        screen.make(tmp_path / "missing.png", tmp_path, "screen")
