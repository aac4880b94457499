"""Each class of bad input of issue 17 is refused by the validator (`make validate`'s code path).

Every case copies the real data/ and references.bib to a temporary folder, breaks one thing the
way a contributor editing by hand might, runs ``python -m kazdiaspora.data validate DIR``'s
``main`` and checks that it fails naming file, line and what was expected — never a traceback.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from kazdiaspora import data, paths


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    shutil.copytree(paths.DATA_DIR, root / "data")
    shutil.copy(paths.BIBFILE, root / "references.bib")
    return root


@pytest.fixture
def root(pristine, tmp_path):
    shutil.copytree(pristine / "data", tmp_path / "data")
    shutil.copy(pristine / "references.bib", tmp_path / "references.bib")
    return tmp_path


def edit(root, rel, old, new, count=1):
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, count), encoding="utf-8")


def edit_json(root, fn):
    p = root / "data/datapackage.json"
    d = json.loads(p.read_text(encoding="utf-8"))
    fn(d)
    p.write_text(json.dumps(d, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def res(d, name):
    return next(r for r in d["resources"] if r["name"] == name)


def fld(d, name, field):
    return next(f for f in res(d, name)["schema"]["fields"] if f["name"] == field)


def run(root, capsys) -> str:
    rc = data.main(["validate", str(root / "data")])
    out = capsys.readouterr().out
    assert rc == 1, f"validation passed although the input is broken:\n{out}"
    assert "Traceback" not in out
    return out


def line_of(root, rel, needle) -> int:
    text = (root / rel).read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def test_the_copy_passes(root, capsys):
    assert data.main(["validate", str(root / "data")]) == 0, capsys.readouterr().out


# ------------------------------------------------------------------------------ 2. the schema
def test_unknown_type(root, capsys):
    edit(root, "data/datapackage.json", '"name": "countries",\n      "type": "integer"',
         '"name": "countries",\n      "type": "intger"')
    out = run(root, capsys)
    line = line_of(root, "data/datapackage.json", '"intger"')
    assert f"data/datapackage.json, line {line}" in out and "unknown type 'intger'" in out


def test_type_valid_in_spec_but_not_read_by_loader(root, capsys):
    edit_json(root, lambda d: fld(d, "waves", "year_start").update(type="year"))
    out = run(root, capsys)
    assert "waves.year_start: type 'year' is valid Table Schema but not read" in out


def test_unknown_constraint(root, capsys):
    edit_json(root, lambda d: fld(d, "gazetteer", "lat")["constraints"].update(minimun=-90))
    out = run(root, capsys)
    assert "unknown constraint 'minimun'" in out and "likely cause: a misspelling" in out
    line = line_of(root, "data/datapackage.json", '"minimun"')
    assert f"line {line}" in out


def test_unknown_field_property(root, capsys):
    edit_json(root, lambda d: fld(d, "survey", "iso3").update({"x-bibky": True}))
    assert "unknown property 'x-bibky'" in run(root, capsys)


def test_constraint_on_wrong_type(root, capsys):
    edit_json(root, lambda d: fld(d, "waves", "name").setdefault("constraints", {}).update(minimum=3))
    assert "constraint 'minimum' needs a numeric type" in run(root, capsys)


def test_duplicate_resource_name(root, capsys):
    edit_json(root, lambda d: res(d, "kurultays").update(name="survey"))
    out = run(root, capsys)
    assert "resource name 'survey' used twice" in out


def test_duplicate_key_in_json_object(root, capsys):
    edit(root, "data/datapackage.json", '"name": "iso3",\n      "type": "string",',
         '"name": "iso3",\n      "type": "string",\n      "type": "integer",')
    assert "key 'type' given twice in the same object" in run(root, capsys)


def test_missing_schema(root, capsys):
    edit_json(root, lambda d: res(d, "events").pop("schema"))
    out = run(root, capsys)
    assert "resources[3]: 'schema' is a required property" in out


def test_json_syntax_error(root, capsys):
    edit(root, "data/datapackage.json", '"title": "Data of the Kazakh Diaspora book",', '"title": "Data of the Kazakh Diaspora book"')
    out = run(root, capsys)
    assert re.search(r"datapackage.json, line 4: not valid JSON at column \d+", out)


def test_foreign_key_to_unknown_field(root, capsys):
    edit_json(root, lambda d: res(d, "routes")["schema"]["foreignKeys"][0]["reference"].update(fields="wave"))
    assert "refers to waves.wave, which is not a field" in run(root, capsys)


def test_unlisted_csv(root, capsys):
    (root / "data/identity/extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert "data/identity/extra.csv: CSV file not listed" in run(root, capsys)


def test_pattern_that_does_not_compile(root, capsys):
    edit_json(root, lambda d: fld(d, "waves", "wave_id")["constraints"].update(pattern="^[a-z"))
    assert "pattern does not compile" in run(root, capsys)


# ------------------------------------------------------------------------------ 4. dates
@pytest.mark.parametrize("bad, expect", [
    ("2002-13-45", "month 13"), ("1993-02-30", "1993-02 has no day 30"), ("2023-00", "month 00"),
    ("2021-04-31", "has no day 31")])
def test_dates_are_calendar_dates(root, capsys, bad, expect):
    edit(root, "data/identity/kurultays.csv", ",1992-09-29,", f",{bad},")
    out = run(root, capsys)
    assert "data/identity/kurultays.csv, line 2 (row '1'), column 'date'" in out and expect in out


def test_partial_dates_compare_by_precision(root, capsys):
    # a year and a month within that year: not reversed
    assert data.date_after("2000-06", "2000") is False and data.date_after("2000", "2000-06") is False
    assert data.date_after("2001", "2000-12-31") is True and data.date_after("2000-07", "2000-06-30") is True
    edit(root, "data/events/events.csv", ",migration,1920,1922,", ",migration,1920-06,1920,")
    assert data.main(["validate", str(root / "data")]) == 0, capsys.readouterr().out
    edit(root, "data/events/events.csv", ",migration,1920-06,1920,", ",migration,1920-06,1919-12-31,")
    assert "date_end 1919-12-31 is before date 1920-06" in run(root, capsys)


# ------------------------------------------------------------------------------ 5. digits and lines
@pytest.mark.parametrize("bad, expect", [
    ("۱۲۵۰۴۵۸", "non-ASCII digit"), ("１２５０４５８", "non-ASCII digit"), ("1.250458E+06", "exponent"),
    ("1250458e0", "exponent"), ("1 250 458", "thousands separators")])
def test_only_ascii_decimal_digits(root, capsys, bad, expect):
    edit(root, "data/population/estimates.csv", ",1250458,", f",{bad},")
    out = run(root, capsys)
    assert "column 'value'" in out and expect in out


def test_integer_column_refuses_persian_digits(root, capsys):
    edit(root, "data/identity/kurultays.csv", "\n1,", "\n۱,")
    assert "expected an integer in ASCII digits" in run(root, capsys)


@pytest.mark.parametrize("char", ["\u2028", "\f", "\u0085", "\x1c", "\n"])
def test_line_numbers_survive_odd_characters_in_quoted_cells(root, capsys, char):
    import csv
    import io

    p = root / "data/migration/waves.csv"
    rows = list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8"), newline="")))
    rows[0]["note"] = f"a{char}b"
    rows[3]["year_start"] = "18x0"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writeheader()
    w.writerows(rows)
    p.write_text(buf.getvalue(), encoding="utf-8")
    out = run(root, capsys)
    physical = 5 + (1 if char == "\n" else 0)     # header + 3 rows before it (one of them two lines long)
    assert f"waves.csv, line {physical} (row '{rows[3]['wave_id']}'), column 'year_start'" in out, out


# ------------------------------------------------------------------------------ 3. bibliography
def test_bib_entry_missing_closing_brace(root, capsys):
    text = (root / "references.bib").read_text(encoding="utf-8")
    m = list(re.finditer(r"\n}\n", text))[3]
    opened = text[: m.start()].rfind("\n@") + 1
    line = text[:opened].count("\n") + 1
    (root / "references.bib").write_text(text[: m.start()] + "\n" + text[m.end():], encoding="utf-8")
    out = run(root, capsys)
    assert f"references.bib, line {line}: the entry starting here is not closed" in out


def test_bib_keys_differing_only_in_case(root, capsys):
    text = (root / "references.bib").read_text(encoding="utf-8")
    key = re.search(r"@\w+\{([^,]+),", text).group(1)
    (root / "references.bib").write_text(text + f"\n@misc{{{key.upper()},\n  title = {{X}},\n  year = {{2000}}\n}}\n",
                                         encoding="utf-8")
    out = run(root, capsys)
    assert f"duplicate key '{key.upper()}'" in out and "differ only in case" in out


def test_bib_syntax_error_names_line(root, capsys):
    text = (root / "references.bib").read_text(encoding="utf-8")
    m = re.search(r"title\s*= \{", text)
    line = text[:m.start()].count("\n") + 1
    (root / "references.bib").write_text(text[:m.start()] + "title  {" + text[m.end():], encoding="utf-8")
    out = run(root, capsys)
    assert f"references.bib, line {line}" in out and "pybtex" in out


# ------------------------------------------------------------------------------ 1. meaning
def test_same_figure_entered_twice(root, capsys):
    rel = "data/population/estimates.csv"
    text = (root / rel).read_text(encoding="utf-8")
    row = next(ln for ln in text.split("\n") if ln.startswith("askhat_t1_"))
    copy = "copy_" + row
    (root / rel).write_text(text + copy + "\n", encoding="utf-8")
    out = run(root, capsys)
    assert f"row 'copy_{row.split(',')[0]}'" in out and "the same figure as row" in out and "repeat of" in out


def test_marked_repeat_is_accepted_and_a_false_marker_refused(root, capsys):
    rel = "data/population/estimates.csv"
    edit(root, rel, "(repeat of askhat_wak_xdi_5m_distribution)", "(repeat of askhat_wak_xdi_5m_distributio)")
    out = run(root, capsys)
    assert "'repeat of askhat_wak_xdi_5m_distributio': no row has that id" in out


@pytest.mark.parametrize("old, new, expect", [
    (",1500000,,,\"1,500,000\"", ",1500000000,,,\"1,500,000\"", "value 1,500,000,000 does not agree with as_printed '1,500,000'"),
    (",803400,,,803.4 thousand,", ",80340,,,803.4 thousand,", "value 80,340 does not agree"),
    (",1300000,1500000,1.3-1.5 million,", ",1300000,1600000,1.3-1.5 million,", "value_high 1,600,000"),
    (",12.4,,,\"12,4%\",", ",1.24,,,\"12,4%\",", "value 1.24 does not agree"),
])
def test_value_agrees_with_as_printed(root, capsys, old, new, expect):
    rel = next(r for r in ("data/population/estimates.csv", "data/repatriation/figures.csv")
               if old in (root / r).read_text(encoding="utf-8"))
    edit(root, rel, old, new)
    assert expect in run(root, capsys)


@pytest.mark.parametrize("rel, old, new, expect", [
    ("data/population/estimates.csv", ",China,CHN,", ",China,CNH,", "'CNH' is not an ISO 3166-1 alpha-3 country code"),
    ("data/repatriation/figures.csv", ",CHN,", ",XXA,", "pseudo-code declared for this column (ALL, OTH)"),
    ("data/identity/scripts.csv", "\nMNG,", "\nMGN,", "'MGN' is not an ISO 3166-1"),
    ("data/places/gazetteer.csv", ",Berlin,,DEU,", ",Berlin,,USA,", "is not drawn in data/maps/countries.geojson"),
])
def test_country_codes(root, capsys, rel, old, new, expect):
    edit(root, rel, old, new)
    assert expect in run(root, capsys)


@pytest.mark.parametrize("mutate, expect", [
    (lambda lon, lat: (lat, lon), "latitude and longitude swapped"),
    (lambda lon, lat: ("-" + lon, lat), "outside KAZ"),
    (lambda lon, lat: (lon, "-" + lat), "outside KAZ"),
    (lambda lon, lat: (lon, str(float(lat) - 4)), "outside the region"),
])
def test_coordinates_lie_in_their_country_and_region(root, capsys, mutate, expect):
    rel = "data/places/gazetteer.csv"
    text = (root / rel).read_text(encoding="utf-8")
    row = next(ln for ln in text.split("\n") if ln.startswith("semey,"))
    m = re.search(r",(\d+\.\d+),(\d+\.\d+),", row)
    lon, lat = mutate(m.group(1), m.group(2))
    (root / rel).write_text(text.replace(row, row.replace(m.group(0), f",{lon},{lat},")), encoding="utf-8")
    out = run(root, capsys)
    assert "gazetteer.csv, line" in out and "(row 'semey')" in out and expect in out


def test_swapped_coordinates_outside_any_country_are_refused(root, capsys):
    edit(root, "data/places/gazetteer.csv", ",76.91150,43.25249,", ",43.25249,76.91150,")
    assert "(row 'almaty')" in run(root, capsys)


def test_table_cut_to_its_header(root, capsys):
    rel = root / "data/identity/survey.csv"
    rel.write_text(rel.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    out = run(root, capsys)
    assert "survey.csv: 0 data row(s); the table needs at least" in out


def test_table_cut_short(root, capsys):
    rel = root / "data/routes/routes.csv"
    lines = rel.read_text(encoding="utf-8").split("\n")
    rel.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    out = run(root, capsys)
    assert "routes.csv: 3 data row(s)" in out


def test_list_values_checked(root, capsys):
    edit(root, "data/routes/routes.csv", ",xinjiang overview,", ",xinjang overview,")
    out = run(root, capsys)
    assert "'xinjang' in the list 'xinjang overview' is not one of the allowed values" in out


@pytest.mark.parametrize("rel, col", [("data/iran/figures.csv", "place_id"), ("data/events/events.csv", "place_id"),
                                      ("data/identity/kurultays.csv", "place_id")])
def test_place_ids_are_foreign_keys(root, capsys, rel, col):
    text = (root / rel).read_text(encoding="utf-8")
    pid = next(p for p in ("gorgan", "almaty", "gonbad_kavus", "bandar_torkaman", "istanbul", "ulgii", "turkistan")
               if f",{p}," in text)
    edit(root, rel, f",{pid},", f",{pid}x,")
    out = run(root, capsys)
    assert f"'{pid}x' not found in" in out and f"column '{col}'" in out


def test_every_id_column_pointing_elsewhere_has_a_foreign_key():
    d = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))
    ids = {"place_id": "gazetteer", "wave_id": "waves", "route_id": "routes", "magnitude_id": "wave_figures"}
    for r in d["resources"]:
        pk = r["schema"].get("primaryKey")
        pk = [pk] if isinstance(pk, str) else (pk or [])
        fks = {fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0] for fk in r["schema"].get("foreignKeys", [])}
        for f in r["schema"]["fields"]:
            if f["name"] in ids and r["name"] != ids[f["name"]] and not (f["name"] in pk and len(pk) == 1):
                assert f["name"] in fks, f"{r['name']}.{f['name']} points to {ids[f['name']]} but has no foreign key"


def test_map_ids_of_the_schema_are_the_route_maps():
    from kazdiaspora import routemap

    d = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))
    assert sorted(fld(d, "routes", "maps")["x-list"]["enum"]) == sorted(routemap.MAP_SPECS)


# ------------------------------------------------------------------------------ 7. messages
def test_messages_name_a_likely_cause(root, capsys):
    (root / "data/identity/kurultays.csv").write_bytes(
        (root / "data/identity/kurultays.csv").read_text(encoding="utf-8").replace(",", ";").encode("utf-8"))
    out = run(root, capsys)
    assert "likely cause: the file uses ';' as delimiter" in out


def test_legacy_encoding_named(root, capsys):
    p = root / "data/identity/diasporas_in_kazakhstan.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("cp1251", errors="replace"))
    assert "likely cause: saved as Windows-1251" in run(root, capsys)


def test_make_validate_refuses_with_exit_status(root):
    edit(root, "data/identity/kurultays.csv", ",1992-09-29,", ",1991-02-30,")
    p = subprocess.run([sys.executable, "-m", "kazdiaspora.data", "validate", str(root / "data")],
                       capture_output=True, text=True, cwd=paths.ROOT)
    assert p.returncode == 1 and "1991-02 has no day 30" in p.stdout and "Traceback" not in p.stdout + p.stderr
