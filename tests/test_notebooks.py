"""Notebooks: executed by the project's executor, deterministic, thin, no typed-in figures."""
from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from kazdiaspora import execute, paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")) + sorted((paths.ROOT / "book").glob("*.ipynb"))


def test_every_notebook_is_in_the_toc():
    assert {p.resolve() for p in execute.toc_notebooks()} == {p.resolve() for p in NOTEBOOKS}


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_and_normalised(nb_path):
    raw = json.loads(nb_path.read_text(encoding="utf-8"))
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    assert "version" not in raw["metadata"].get("language_info", {}), "run the project's executor"
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert code, "a chapter has code"
    for i, c in enumerate(code, 1):
        assert c["execution_count"] == i, f"code cell {i}: not executed in order by the executor"
        assert "execution" not in c["metadata"], "timing metadata left in; run `make execute`"
        for out in c["outputs"]:
            assert out["output_type"] != "error"
            assert out.get("name") != "stderr", f"code cell {i} writes to stderr: {''.join(out.get('text', ''))[:200]}"


def _number_literals(src: str) -> list[str]:
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.NUMBER:
                found.append(tok.string)
    except (tokenize.TokenError, IndentationError):
        pass
    return found


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_figures_typed_into_the_notebook(nb_path):
    """Numbers come from data/: code cells hold no numeric literal >= 100 (years, counts); prose holds
    no counts or percentages (they are glued from code with {glue:text})."""
    nb = nbformat.read(nb_path, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            big = [t for t in _number_literals(c.source) if abs(float(t.replace("_", ""))) >= 100]
            assert not big, f"{nb_path.name} cell {i}: literal number(s) {big} in code; read them from data/"
        elif c.cell_type == "markdown":
            text = re.sub(r"\{glue:[a-z]+\}`[^`]*`", "", c.source)
            text = re.sub(r"\{cite:?[a-z]*\}`[^`]*`", "", text)
            text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets (anchors) are not figures
            bad = re.findall(r"\d[\d,. ]*\d\s?%|\b\d{1,3}(?:,\d{3})+\b|\b\d{5,}\b|\b\d+(?:\.\d+)?\s?(?:million|thousand)\b", text)
            assert not bad, f"{nb_path.name} cell {i}: figure(s) {bad} typed into prose; glue them from data/"


def test_normalise_strips_what_changes_between_runs():
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    c = nbformat.v4.new_code_cell("1")
    c.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    nb.cells = [c]
    execute.normalise(nb)
    assert "execution" not in nb.cells[0].metadata
    assert nb.metadata["language_info"] == {"name": "python"}
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_source_hash_ignores_outputs_but_not_code():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    h = execute.notebook_source_hash(nb)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi")]
    assert execute.notebook_source_hash(nb) == h
    nb.cells[0].source = "x = 2"
    assert execute.notebook_source_hash(nb) != h


def test_stamps_hold_the_modules_each_notebook_imports_and_only_those():
    """A notebook's code inputs are the package modules it imported: the figure modules its chapter
    draws with, never the executor or the paper edition, which cannot change what it shows."""
    for nb_path in NOTEBOOKS:
        read = json.loads(execute.stamp_path(nb_path).read_text())["read"]
        mods = [r for r in read if r.startswith("kazdiaspora/")]
        assert {"kazdiaspora/__init__.py", "kazdiaspora/data.py", "kazdiaspora/facts.py"} <= set(mods), nb_path.name
        assert "kazdiaspora/execute.py" not in mods and "kazdiaspora/paper.py" not in mods, nb_path.name
        assert all((paths.ROOT / m).exists() for m in mods)
    reads = {p.stem: json.loads(execute.stamp_path(p).read_text())["read"] for p in NOTEBOOKS}
    assert "kazdiaspora/routemap.py" in reads["02_waves_and_routes"]
    assert "kazdiaspora/charts/iran.py" in reads["03_iran_and_return"]


def test_a_changed_module_makes_stale_exactly_the_notebooks_that_import_it(monkeypatch):
    from kazdiaspora import trace

    real = trace.file_digest

    def edited(path):  # as if this module had been edited
        return "edited" if Path(path).resolve() == (paths.ROOT / module).resolve() else real(path)

    monkeypatch.setattr(trace, "file_digest", edited)
    for module in ("kazdiaspora/charts/iran.py", "kazdiaspora/paper.py", "kazdiaspora/data.py"):
        for nb_path in NOTEBOOKS:
            imports = module in json.loads(execute.stamp_path(nb_path).read_text())["read"]
            stale, why = execute.is_stale(nb_path)
            assert stale == imports, f"{nb_path.name}, {module} edited: stale={stale} ({why})"
            if stale:
                assert module in why


def test_the_longest_notebook_is_executed_first(monkeypatch, tmp_path):
    """Two notebooks at once finish soonest when the longest starts first: the executor orders what
    it runs by the time each took when last executed here, else by size."""
    nbs = execute.toc_notebooks()
    assert len(nbs) >= 3
    rel = [str(p.relative_to(paths.ROOT)) for p in nbs]
    times = tmp_path / "execution-times.json"
    # the last notebook of the table of contents took longest, the first one second longest
    times.write_text(json.dumps({rel[-1]: 30.0, rel[0]: 20.0}))
    monkeypatch.setattr(execute, "TIMES", times)
    monkeypatch.setattr(execute, "is_stale", lambda nb: (True, "test"))
    monkeypatch.setattr(execute, "_write_figures_page", lambda: None)
    order = []
    monkeypatch.setattr(execute, "execute", lambda nb, **kw: order.append(str(nb.relative_to(paths.ROOT))) or 1.0)
    monkeypatch.setattr(execute, "stamp_path", lambda nb: tmp_path / "stamps" / nb.name)  # never the real ones
    assert execute.main(["--jobs", "1"]) == 0
    assert order[:2] == [rel[-1], rel[0]]
    unknown = [r for r in rel if r not in (rel[-1], rel[0])]
    size = {r: (paths.ROOT / r).stat().st_size for r in unknown}
    assert order[2:] == sorted(unknown, key=lambda r: -size[r])  # never timed here: by size
    assert json.loads(times.read_text()) == {r: 1.0 for r in rel}  # this run's times are kept for the next


# --------------------------------------------------------------------- inputs by column
def test_trace_entries_merge_partial_reads_and_a_whole_read_wins(tmp_path):
    from kazdiaspora import trace

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    text = "\n".join([f"{a}\tvalue,id", f"{a}\tnote", f"{b}\tid", str(b), "/elsewhere/c.csv", ""])
    assert trace.entries(text, tmp_path) == ["a.csv#id,note,value", "b.csv"]


def test_trace_entries_merge_reads_of_some_rows(tmp_path):
    """Reads of some rows (one figure of a row) stay reads of those rows, merged by id column; a
    read of every row covers them only if it covers their columns; a whole read covers all."""
    from kazdiaspora import trace

    a, b, c, d = (tmp_path / f"{n}.csv" for n in "abcd")
    text = "\n".join([f"{a}\tvalue,id\tid=x", f"{a}\tnote\tid=y,x",
                      f"{b}\tvalue\tid=x", f"{b}\tid",
                      f"{c}\tvalue\tid=x", str(c),
                      f"{d}\tvalue\tid=x", f"{d}\tvalue\twave_id=w", ""])
    text += "\n".join([f"{b}\tid\tid=y", f"{a}\tvalue\tid=z", ""])
    assert trace.entries(text, tmp_path) == ["a.csv#id,note,value@id=x,y,z", "b.csv#id",
                                             "b.csv#id,value@id=x,y", "c.csv", "d.csv#value@id=x",
                                             "d.csv#value@wave_id=w"]
    for bad in ("x,y", "x@y", "x=y"):
        with pytest.raises(ValueError, match="row id"):
            with trace.capture():
                trace.record(a, ["value"], rows=("id", [bad]))
    with pytest.raises(ValueError, match="name its columns"):
        with trace.capture():
            trace.record(a, rows=("id", ["x"]))
    with trace.capture() as got:  # what a figure's record gives back is recorded as it was
        trace.record_entry("a.csv#id,value@id=x,y", tmp_path)
    assert trace.entries("\n".join(got), tmp_path) == ["a.csv#id,value@id=x,y"]


def test_rows_digest_follows_only_its_rows_and_columns(tmp_path):
    from kazdiaspora import trace

    p = tmp_path / "t.csv"

    def digest(text):
        p.write_text("id,value,note\n" + text)
        return trace.rows_digest(p, ["value"], "id", ["x"])

    d = digest("x,1,first\ny,2,second\n")
    assert digest("x,1,first\ny,5,second\n") == d          # another row changed
    assert digest("y,2,second\nx,1,first\n") == d          # rows reordered
    assert digest("x,1,changed\ny,2,second\n") == d        # another column of its row
    assert digest("x,3,first\ny,2,second\n") != d          # its figure corrected
    assert digest("y,2,second\n") != d                      # its row gone
    assert digest("x,1,first\nx,1,first\ny,2,second\n") != d  # its id twice
    p.write_text("id,note\nx,first\n")
    assert trace.rows_digest(p, ["value"], "id", ["x"]) == "missing column: value"
    assert trace.rows_digest(p, ["note"], "key", ["x"]) == "missing column: key"
    assert trace.digests(["t.csv#value@id=x"], tmp_path) == {"t.csv#value@id=x": "missing column: value"}


def test_a_row_figure_records_only_its_row(monkeypatch, tmp_path):
    """facts.row_figure (every figure glued from one row) loads and records that row only: a
    notebook that states it is executed again when that row's figure changes, not another row's."""
    from kazdiaspora import data, facts, trace

    log = tmp_path / "trace"
    monkeypatch.setenv(trace.ENV, str(log))
    rid = "emig_1991_2004_vlast"
    text, column = facts.row_figure("wave_figures", rid)
    got = data.load("wave_figures", columns=["id", "value"], rows=[rid])
    assert got["id"].tolist() == [rid]
    assert [e for e in trace.entries(log.read_text(), paths.ROOT) if ".csv" in e] == [
        f"data/migration/wave_figures.csv#id,value,value_high,value_low@id={rid}"]
    with pytest.raises(KeyError, match="no row with id 'no_such_row'"):
        data.load("wave_figures", columns=["id", "value"], rows=["no_such_row"])
    with pytest.raises(ValueError, match="name its columns"):
        data.load("wave_figures", rows=[rid])


def test_columns_digest_follows_only_its_columns(tmp_path):
    from kazdiaspora import trace

    p = tmp_path / "t.csv"
    p.write_text("id,value,note\nx,1,first\ny,2,second\n")
    d = trace.columns_digest(p, ["id", "value"])
    p.write_text("id,value,note\nx,1,changed\ny,2,second\n")
    assert trace.columns_digest(p, ["id", "value"]) == d            # another column changed
    p.write_text("id,value,note\nx,3,changed\ny,2,second\n")
    assert trace.columns_digest(p, ["id", "value"]) != d            # one of its columns changed
    p.write_text("id,value,note\ny,2,second\nx,3,changed\n")
    assert trace.columns_digest(p, ["id", "value"]) != trace.columns_digest(p.with_name("none.csv"), ["id"])
    p.write_text("id,value,note\nx,1,first\ny,2,second\nz,,\n")
    assert trace.columns_digest(p, ["id", "value"]) != d            # a row added
    p.write_text("id,note\nx,first\n")
    assert trace.columns_digest(p, ["id", "value"]) == "missing column: value"


def test_a_partial_load_holds_and_records_only_its_columns(monkeypatch, tmp_path):
    from kazdiaspora import data, trace

    log = tmp_path / "trace"
    monkeypatch.setenv(trace.ENV, str(log))
    df = data.load("population_estimates", columns=["id", "value"])
    assert list(df.columns) == ["id", "value"]
    assert data.load("population_estimates", columns=["value", "id"]).columns.tolist() == ["value", "id"]
    with pytest.raises(KeyError, match="no column 'nope'"):
        data.load("population_estimates", columns=["id", "nope"])
    def tables():
        return [e for e in trace.entries(log.read_text(), paths.ROOT) if e.endswith(".csv") or ".csv#" in e]

    assert tables() == ["data/population/estimates.csv#id,value"]  # validation's reads are not inputs
    data.load("population_estimates")
    assert tables() == ["data/population/estimates.csv"]


def _edited_column(monkeypatch, rel: str, column: str):
    """As if one cell of ``column`` in ``rel`` had been edited (digests of that column change)."""
    from kazdiaspora import trace

    real_file, real_cols, real_rows = execute.sha256, trace.columns_digest, trace.rows_digest
    target = (paths.ROOT / rel).resolve()
    monkeypatch.setattr(execute, "sha256", lambda p: "edited" if Path(p).resolve() == target else real_file(p))
    monkeypatch.setattr(trace, "columns_digest", lambda p, cols: "edited" if Path(p).resolve() == target
                        and column in cols else real_cols(p, cols))
    # a read of some rows: as if the edited cell were in one of them
    monkeypatch.setattr(trace, "rows_digest", lambda p, cols, id_col, ids: "edited" if Path(p).resolve() == target
                        and column in cols else real_rows(p, cols, id_col, ids))


@pytest.mark.parametrize("column", ["note", "value", "locator"])
def test_an_edited_column_makes_stale_exactly_the_notebooks_that_read_it(monkeypatch, column):
    rel = "data/population/estimates.csv"
    _edited_column(monkeypatch, rel, column)
    stale_ones = set()
    for nb_path in NOTEBOOKS:
        read = json.loads(execute.stamp_path(nb_path).read_text())["read"]
        reads = rel in read or any(e.startswith(rel + "#") and column in e.split("#")[1].split("@")[0].split(",")
                                   for e in read)
        stale, why = execute.is_stale(nb_path)
        assert stale == reads, f"{nb_path.name}, {rel} column {column} edited: stale={stale} ({why})"
        if stale:
            stale_ones.add(nb_path.stem)
    if column == "value":  # chapter 1 is about this table; chapter 2 (waves and routes) states none of its values
        assert "01_where_kazakhs_live" in stale_ones and "02_waves_and_routes" not in stale_ones


def test_a_selection_of_rows_holds_and_records_only_those_rows(monkeypatch, tmp_path):
    """data.load(..., where=(column, values)): the rows of one wave, recorded as such (a figure of
    another wave changes nothing recorded; one moved into the wave does: see trace.rows_digest)."""
    from kazdiaspora import data, findings, trace

    log = tmp_path / "trace"
    monkeypatch.setenv(trace.ENV, str(log))
    wave = findings.FAMINE_WAVE
    got = data.load("wave_figures", where=("wave_id", [wave]))
    recorded = [e for e in trace.entries(log.read_text(), paths.ROOT) if "wave_figures" in e]
    every = data.load("wave_figures")
    assert set(got["wave_id"]) == {wave} and len(got) == (every["wave_id"] == wave).sum() > 0
    assert list(got.columns) == list(every.columns)
    assert recorded == [f"data/migration/wave_figures.csv#{','.join(sorted(every.columns))}@wave_id={wave}"]
    with pytest.raises(ValueError, match="text column"):
        data.load("wave_figures", where=("value", ["1"]))
    with pytest.raises(KeyError, match="no column 'nope'"):
        data.load("wave_figures", where=("nope", ["x"]))
    with pytest.raises(ValueError, match="not both"):
        data.load("wave_figures", columns=["id"], rows=["x"], where=("wave_id", [wave]))
