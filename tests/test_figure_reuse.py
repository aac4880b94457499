"""A figure is drawn again exactly when something it is drawn from changed (kazdiaspora.figures.reuse).

What the drawing of a figure reads is recorded while it is drawn (kazdiaspora.trace.capture); a
loader whose result is cached in the process must record its reads again on every call
(kazdiaspora.trace.memo), or a figure drawn after another would miss an input.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import rendered
from kazdiaspora import figures, paths, trace

PY = sys.executable


# ----------------------------------------------------------------------------- recording reads
def test_captures_nest_and_close(tmp_path):
    f = tmp_path / "a.csv"
    with trace.capture() as outer:
        with trace.capture() as inner:  # two empty captures are equal lists: each must still close
            pass
        with trace.capture() as inner:
            trace.record(f, ["x"])
        trace.record(f)
    assert trace.entries("\n".join(inner), tmp_path) == ["a.csv#x"]
    assert trace.entries("\n".join(outer), tmp_path) == ["a.csv"]
    assert trace._CAPTURES == []


def test_a_cached_loader_records_its_reads_on_every_call(tmp_path):
    f = tmp_path / "t.csv"
    calls = []

    @trace.memo
    def load(name):
        calls.append(name)
        trace.record(f, ["v"])
        return name.upper()

    assert load("a") == "A"
    with trace.capture() as got:
        assert load("a") == "A"  # from the cache
    assert calls == ["a"]
    assert trace.entries("\n".join(got), tmp_path) == ["t.csv#v"]

    # the fault memo prevents: a plain cache hides the input from a caller that comes second
    cache = {}

    def plain(name):
        if name not in cache:
            trace.record(f, ["v"])
            cache[name] = name.upper()
        return cache[name]

    plain("a")
    with trace.capture() as got:
        plain("a")
    assert got == []


def test_the_first_load_of_a_table_records_what_every_later_load_records():
    """The first load of a table in a process checks it (reading the bibliography and the tables
    it refers to); later loads do not. Were the check's reads recorded, a figure drawn first would
    list other inputs than the same figure drawn later (a drawing's inputs must not depend on what
    ran before it)."""
    from kazdiaspora import data

    pkg = data.Package()
    pkg.known_valid = False  # the check runs, as in a process that finds no record of a passed check
    got = []
    for _ in range(2):
        with trace.capture() as lines:
            pkg.table("wave_figures")
        got.append(trace.entries("\n".join(lines), paths.ROOT))
    assert got[0] == got[1] == ["data/migration/wave_figures.csv"]


# ----------------------------------------------------------------------------- the key
def test_what_the_data_function_gives_the_drawing_is_in_the_key():
    """``attrs["drawn"]`` (names, a map's route rows) is drawn but is not in the plotted rows:
    a change to any of it must change the key, or the figure would keep an outdated picture."""
    import pandas as pd

    spec = figures.FigureSpec("x", "c", "T", "", "", build=lambda d: None, data=lambda: None)

    def key(names, rows, extra=None):
        d = pd.DataFrame({"id": ["a"], "value": [1.0]})
        d.attrs["drawn"] = {"names": names, "routes": rows, **(extra or {})}
        return figures.drawn_key(spec, d, "Source: S.", [])

    rows = pd.DataFrame({"route_id": ["r1"], "lons": [[50.0, 54.2]], "width": [1]})
    base = key({"KAZ": "Kazakhstan"}, rows)
    assert key({"KAZ": "Kazakhstan"}, rows.copy()) == base  # the same content, the same key
    changed = {
        "a name": key({"KAZ": "Qazaqstan"}, rows),
        "a name added": key({"KAZ": "Kazakhstan", "IRN": "Iran"}, rows),
        "a coordinate in a list": key({"KAZ": "Kazakhstan"}, rows.assign(lons=[[50.0, 54.3]])),
        "a type (1 to 1.0)": key({"KAZ": "Kazakhstan"}, rows.assign(width=[1.0])),
        "a column renamed": key({"KAZ": "Kazakhstan"}, rows.rename(columns={"width": "w"})),
        "a row added": key({"KAZ": "Kazakhstan"}, pd.concat([rows, rows], ignore_index=True)),
        "something more": key({"KAZ": "Kazakhstan"}, rows, {"tiers": [("small", 0, 10)]}),
        "split differently": key({"KA": "ZKazakhstan"}, rows),
    }
    same = [what for what, k in changed.items() if k == base]
    assert not same, f"the key does not change with {same}"
    assert len(set(changed.values())) == len(changed)


# ----------------------------------------------------------------------------- the committed records
def _reusable():
    return sorted(fid for fid, spec in figures.load_all().items() if spec.data is not None)


def test_every_figure_is_made_in_two_steps():
    """Every figure is registered with data= (its rows, then its drawing), so that a corrected value
    draws again only the figures that show it (a one-step figure would be drawn on every execution
    of its chapter)."""
    one_step = sorted(fid for fid, spec in figures.load_all().items() if spec.data is None)
    assert not one_step, f"register with data= (see kazdiaspora.figures.register): {one_step}"


@pytest.mark.parametrize("fid", _reusable())
def test_a_fresh_clone_draws_no_figure_again(fid):
    """Every committed record matches what its figure is drawn from now, and the files it names."""
    assert (figures.DRAWN_DIR / f"{fid}.json").exists(), f"{fid}: no record; run `make execute`"
    assert figures.reuse(figures.REGISTRY[fid]) is not None, \
        f"{fid}: its record is stale (something it is drawn from changed): run `make execute` and commit .exec/"


@pytest.mark.parametrize("fid", _reusable())
def test_what_a_drawing_reads_does_not_depend_on_what_was_drawn_before(fid):
    """The record was written in a notebook's kernel, after that chapter's earlier cells; this
    session draws the figures in another order, with other caches filled. The data read must be
    the same (the modules loaded may differ: they are recorded as a superset)."""
    rec = json.loads((figures.DRAWN_DIR / f"{fid}.json").read_text(encoding="utf-8"))
    r = rendered(fid)
    data_only = lambda reads: sorted(x for x in reads if not x.endswith(".py"))  # noqa: E731
    assert data_only(r.reads) == data_only(rec["reads"])
    assert "data/population/estimates.csv" not in r.reads, f"{fid}: its drawing reads every column of the estimates"


# ----------------------------------------------------------------------------- reuse follows the inputs
SCRIPT = r"""
import json, sys
from kazdiaspora import figures
for fid in sys.argv[1:]:
    shown = figures.show(fid)
    print(json.dumps({"figure": fid, "reused": shown.r.drawn is not None}))
"""


def _show(repo: Path, *fids) -> dict[str, bool]:
    env = dict(os.environ, PYTHONPATH=str(repo), MPLBACKEND="Agg")
    env.pop(figures.REDRAW, None)
    out = subprocess.run([PY, "-c", SCRIPT, *fids], cwd=repo, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return {d["figure"]: d["reused"] for d in map(json.loads, out.stdout.splitlines())}


def _edit(path: Path, row_id: str, column: str, fn) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    head = rows[0]
    i, c = head.index("id" if "id" in head else "source_key"), head.index(column)
    hit = [r for r in rows[1:] if r[i] == row_id]
    assert len(hit) == 1, f"{row_id} not in {path}"
    hit[0][c] = fn(hit[0][c])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _files(repo: Path, fid: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (repo / "figures").glob(f"{fid}.*")}


@pytest.mark.slow
def test_a_figure_is_drawn_again_exactly_when_what_it_shows_changed(tmp_path):
    from test_book import _copy_repo

    repo = _copy_repo(tmp_path / "repo")
    est = repo / "data/population/estimates.csv"
    plotted = list(csv.DictReader(io.StringIO((repo / "figures/census-series.csv").read_text(encoding="utf-8"))))
    # Russia's earliest census: drawn on the census chart, not in the sums of the latest counts
    row = min((r for r in plotted if r["kind"] == "census" and r["iso3"] == "RUS" and not r["as_printed"]),
              key=lambda r: int(r["year"]))
    before = _files(repo, "census-series")

    # nothing changed; then a note (read by no drawing): nothing is drawn, and nothing is written
    assert _show(repo, "census-series", "diaspora-totals") == {"census-series": True, "diaspora-totals": True}
    _edit(est, row["id"], "note", lambda v: (v + " (test edit)").strip())
    assert _show(repo, "census-series", "diaspora-totals") == {"census-series": True, "diaspora-totals": True}
    assert _files(repo, "census-series") == before

    # a plotted value: that figure is drawn again, and its files say the new value; the other is not
    _edit(est, row["id"], "value", lambda v: str(int(float(v)) + 1))
    assert _show(repo, "census-series", "diaspora-totals") == {"census-series": False, "diaspora-totals": True}
    after = list(csv.DictReader(io.StringIO((repo / "figures/census-series.csv").read_text(encoding="utf-8"))))
    assert float(next(r for r in after if r["id"] == row["id"])["value"]) == float(row["value"]) + 1
    assert _files(repo, "census-series")["census-series.svg"] != before["census-series.svg"]
    assert _show(repo, "census-series") == {"census-series": True}  # and then it is kept

    # an input of the drawing only (the grade that shades a marker): drawn again
    key = row["source_key"]
    _edit(repo / "data/sources/sources.csv", key, "grade", lambda g: "A" if g != "A" else "B")
    assert _show(repo, "census-series") == {"census-series": False}

    # a file the record names, changed or gone: drawn again
    (repo / "figures/census-series.png").unlink()
    assert _show(repo, "census-series") == {"census-series": False}
    assert (repo / "figures/census-series.png").exists()

    # what is written without drawing equals what drawing writes
    _show(repo, "diaspora-totals")
    kept = _files(repo, "diaspora-totals")
    env = dict(os.environ, PYTHONPATH=str(repo), MPLBACKEND="Agg", **{figures.REDRAW: "1"})
    subprocess.run([PY, "-c", SCRIPT, "diaspora-totals"], cwd=repo, env=env, check=True, capture_output=True)
    assert _files(repo, "diaspora-totals") == kept


# ----------------------------------------------------------------------------- drawn meanwhile
def _ahead(monkeypatch, tmp_path) -> Path:
    """What the executor sets for a kernel: figures drawn meanwhile, reads traced; here into a
    temporary figures directory and drawing records."""
    out = tmp_path / "figures"
    monkeypatch.setattr(paths, "FIGURES_DIR", out)
    monkeypatch.setattr(figures, "DRAWN_DIR", tmp_path / "drawn")
    monkeypatch.setenv(figures.DRAW_AHEAD, "1")
    monkeypatch.setattr(figures, "_PENDING", [])  # this test's drawings only
    monkeypatch.delenv(figures.REDRAW, raising=False)
    monkeypatch.setenv(trace.ENV, str(tmp_path / "trace"))
    (tmp_path / "trace").write_text("", encoding="utf-8")
    return out


def test_a_figure_drawn_meanwhile_is_the_figure_drawn_in_its_cell(tmp_path, monkeypatch):
    """In the executor's kernels a figure to draw again is drawn in a forked copy while the
    notebook goes on (kazdiaspora.figures.DRAW_AHEAD). The cell shows the same Markdown, the
    files written are byte for byte those of drawing it in the cell, and what the drawing read is
    in the notebook's record of its inputs (here: the pinned requirements, which only the drawing
    records), so that a changed input executes the notebook again."""
    fid = "diaspora-totals"
    here = rendered(fid)
    figures.export(here, tmp_path / "in-cell")
    out = _ahead(monkeypatch, tmp_path)
    shown = figures.show(fid)
    assert figures._PENDING, "the figure was not drawn meanwhile"
    assert shown._repr_markdown_() == figures.FigureDisplay(here)._repr_markdown_()
    figures.wait_drawn()
    assert not figures._PENDING
    want = {p.name: p.read_bytes() for p in (tmp_path / "in-cell").iterdir()}
    got = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(got) == sorted(want)
    assert [n for n in want if got[n] != want[n]] == []
    read = trace.entries((tmp_path / "trace").read_text(encoding="utf-8"), paths.ROOT)
    assert "requirements.txt" in read and "kazdiaspora/charts/population.py" in read
    assert (tmp_path / "drawn" / f"{fid}.json").exists()  # and next time it is not drawn at all
    assert figures.show(fid).r.drawn is not None


def test_a_figure_that_fails_to_draw_meanwhile_fails_the_notebook(tmp_path, monkeypatch):
    """The error of a drawing in a forked copy is raised in the kernel (by the executor's last
    cell, or when the next figure waits for a place), naming the figure and saying why; nothing of
    the figure is written. At most DRAW_AHEAD_AT_ONCE are drawn at once."""
    import dataclasses

    out = _ahead(monkeypatch, tmp_path)
    figures.load_all()

    def boom(data):
        raise ValueError("a label outside its country")

    fid = "diaspora-totals"
    monkeypatch.setitem(figures.REGISTRY, fid, dataclasses.replace(figures.REGISTRY[fid], build=boom))
    figures.show(fid)
    with pytest.raises(RuntimeError, match=r"(?s)figure diaspora-totals: drawing it failed.*a label outside its country"):
        figures.wait_drawn()
    assert not list(out.glob(f"{fid}.*")) if out.exists() else True
    monkeypatch.setattr(figures, "DRAW_AHEAD_AT_ONCE", 1)
    figures.show(fid)
    with pytest.raises(RuntimeError, match="figure diaspora-totals"):
        figures.show(fid)  # waits for the first, which failed
    assert not figures._PENDING
