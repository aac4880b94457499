"""The book builds strictly, offline, deterministically, and never shows stale results.

These tests run the real pipeline (minutes, not seconds):

* the strict build of the repository itself (`-W -n --keep-going`), after the executor;
* executing every notebook again changes no byte of what is committed (notebooks, figures);
* in a copy of the repository: a changed data value is re-executed and shows in the HTML, and
  only the notebooks that read the changed file are re-executed.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kazdiaspora import paths

ROOT_GROUP = "repository-build"  # tests/conftest.py: same worker as nbval and the browser tests

PY = sys.executable
JB = [PY, "-m", "kazdiaspora.jb"]  # the jupyter-book command as make runs it
STRICT = ["-W", "-n", "--keep-going"]

# The data change of the stale-result test: a value in a table, and how it must appear in a page.
# (file, row id column, row id, column, new text, page that must show it, text expected in that page)
# The identity chapter glues the e-history.kz total of Azerbaijanis in Kazakhstan into its prose.
# a reader-visible value changed consistently (value and the text as printed agree, so the data checks accept it)
MUTATION = ("data/identity/diasporas_in_kazakhstan.csv", "id", "aze_kz_total_ehistory",
            {"value": "82417", "as_printed": "82 thousand 417"},
            "notebooks/04_identity_and_institutions.html", "82,417")


def run(cmd, cwd, **kw):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


def test_network_is_off_during_the_test_command():
    """`make test` runs everything in a namespace with no network (scripts/offline.sh)."""
    if os.environ.get("KAZDIASPORA_OFFLINE") != "1":
        pytest.skip("not run through `make test` / scripts/offline.sh")
    for host, port in (("1.1.1.1", 443), ("151.101.0.223", 443)):
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=3)


@pytest.mark.slow
@pytest.mark.xdist_group(ROOT_GROUP)
def test_executor_then_strict_build_leaves_the_tree_unchanged(built_book):
    assert "build succeeded" in built_book.stdout
    html = built_book.html
    for page in ["book/intro.html", "book/methods.html", "book/figures.html", "book/how_to_cite.html",
                 "book/versions.html", "book/references.html",
                 *[f"notebooks/{p.stem}.html" for p in paths.NOTEBOOKS_DIR.glob("*.ipynb")]]:
        assert (html / page).exists(), f"{page} not built"
    assert not built_book.changed, f"executing and building changed committed files: {built_book.changed[:10]}"


@pytest.mark.slow
@pytest.mark.xdist_group(ROOT_GROUP)
def test_pages_filled_from_data_are_rebuilt_when_data_change(built_book):
    """The country pages, their index and the evidence explorer are one-line stubs filled from data/
    at build time. Each depends on the package's code (noted as files) and keeps a digest of the
    text it shows, so that an incremental `make book` after a data change rebuilds the pages whose
    text changed instead of serving the old text (and leaves the others)."""
    import pickle

    from kazdiaspora import explorer_sphinx as xs

    with open(paths.BUILD_DIR / ".doctrees" / "environment.pickle", "rb") as fh:
        env = pickle.load(fh)
    pages = [d for d in env.found_docs if d.startswith("book/countries/")] + ["book/explorer", "book/countries"]
    assert len(pages) > 10
    assert set(env.kaz_generated) == set(pages)
    for doc in pages:
        deps = {str(Path(d).resolve()) for d in env.dependencies.get(doc, ())}
        assert str((paths.ROOT / "kazdiaspora" / "profiles.py").resolve()) in deps, doc
        kind, arg, digest, fmt = env.kaz_generated[doc]
        assert digest == xs.page_digest(kind, arg), f"{doc}: the build kept a digest of other text"
        assert fmt == "html", doc
    assert env.kaz_data_digest == xs.inputs_digest()


class _Env:
    def __init__(self, generated, data_digest):
        self.kaz_generated, self.kaz_data_digest = generated, data_digest


class _App:
    def __init__(self, fmt="html"):
        self.builder = type("Builder", (), {"format": fmt})()


def test_generated_pages_outdated_exactly_when_their_text_changed(monkeypatch):
    from kazdiaspora import explorer, explorer_sphinx as xs

    ev = explorer.evidence_table()
    monkeypatch.setattr(xs, "_evidence_table", lambda: ev)
    pages = {"book/explorer": ("explorer", ""), "book/countries": ("list", ""),
             "book/countries/chn": ("country", "CHN"), "book/countries/rus": ("country", "RUS")}
    now = {doc: (k, a, xs.page_digest(k, a), "html") for doc, (k, a) in pages.items()}
    html, same = _App("html"), xs.inputs_digest()

    def outdated(env, app=html, changed=()):
        return xs.outdated_generated_pages(app, env, set(), set(changed), set())

    # no data file changed since the pages were read: nothing computed, nothing outdated
    assert outdated(_Env(now, same)) == []
    # data changed, but no page's text: nothing outdated
    assert outdated(_Env(now, "before")) == []
    # a Chinese figure printed differently: China's page and the explorer, not Russia's
    row = ev.index[(ev["iso3"] == "CHN") & (ev["table"] == "population_estimates")][0]
    edited = ev.copy()
    edited.loc[row, "printed"] = "1,234,567 (edited)"
    monkeypatch.setattr(xs, "_evidence_table", lambda: edited)
    out = outdated(_Env(now, "before"))
    assert "book/countries/chn" in out and "book/explorer" in out and "book/countries/rus" not in out
    # pages Sphinx reads anyway are not listed twice
    assert "book/explorer" not in outdated(_Env(now, "before"), changed={"book/explorer"})
    # read for the PDF (the explorer is HTML only): every page is read again for the HTML, and back
    monkeypatch.setattr(xs, "_evidence_table", lambda: ev)
    for_pdf = {doc: (*entry[:3], "latex") for doc, entry in now.items()}
    assert outdated(_Env(for_pdf, same)) == sorted(pages)
    assert outdated(_Env(now, same), app=_App("latex")) == sorted(pages)


def test_pages_made_ahead_are_used_only_if_their_inputs_did_not_change(monkeypatch):
    """While the notebooks execute, the build makes the generated pages' text ahead (warm); after
    the gate it uses that text only if the pages' inputs are as they were before it was made."""
    from kazdiaspora import explorer_sphinx as xs, profiles

    monkeypatch.setattr(xs, "_CACHE", {})
    made, real = [], profiles.markdown
    monkeypatch.setattr(profiles, "markdown", lambda iso, ev=None: made.append(iso) or real(iso, ev))
    env = _Env({"book/countries/chn": ("country", "CHN", "digest of older text", "html")}, "older data")
    app = type("App", (), {"env": env, "builder": _App().builder})()
    xs.warm(app)
    assert made == ["CHN"]
    assert xs.outdated_generated_pages(app, env, set(), set(), set()) == ["book/countries/chn"]
    assert made == ["CHN"], "the text made ahead was not used"
    # an input changed after the text was made ahead (a figure exported meanwhile): made again
    env.kaz_data_digest = "older data"
    monkeypatch.setattr(xs, "inputs_digest", lambda: "the data as they are now")
    xs.outdated_generated_pages(app, env, set(), set(), set())
    assert made == ["CHN", "CHN"]


def _copy_repo(dst: Path) -> Path:
    # *.tmp: a figure being written by a test on the other worker (exports are atomic renames)
    ignore = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", "*.egg-info", ".pytest_cache", "*.tmp")
    shutil.copytree(paths.ROOT, dst, ignore=ignore)
    return dst


def _executed_notebooks(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo).as_posix() for p in [*(repo / "notebooks").glob("*.ipynb"), repo / "book/intro.ipynb"])


@pytest.mark.parametrize("failing", ["validate", "execute"])
def test_the_build_waits_for_the_data_check_and_the_execution(tmp_path, failing, capfd):
    """`make book` starts the build while the data are checked and the notebooks executed; the
    build must not look at a page unless both succeeded. Here one fails (after the build has had
    time to start up and reach its gate): no page is built, and the status is that failure's."""
    from kazdiaspora import jb

    out = tmp_path / "out"
    slow_ok = [PY, "-c", "import time; time.sleep(2)"]
    fails = [PY, "-c", "import time; time.sleep(2); raise SystemExit(3)"]
    cmds = {"validate_cmd": slow_ok, "execute_cmd": slow_ok, f"{failing}_cmd": fails}
    cwd = os.getcwd()
    os.chdir(paths.ROOT)
    try:
        rc = jb.book(["--path-output", str(out), "-W", "-n", "--keep-going"], **cmds)
    finally:
        os.chdir(cwd)
    assert rc == 3
    html = out / "_build" / "html"
    assert not list(html.rglob("*.html")) if html.exists() else True, "pages were built after a failed check"
    # what the build printed while it started up is left out: the failure's own message says why
    assert "Running Sphinx" not in capfd.readouterr().out


@pytest.mark.slow
def test_execution_reproduces_the_committed_notebooks(tmp_path):
    """Executing every notebook again (in a copy of the repository), every figure drawn again,
    reproduces the committed notebooks, figures and records of what each figure was drawn from byte
    for byte, and the committed executor stamps then say that nothing needs executing."""
    repo = _copy_repo(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo))  # the copy's own package, not the installed one
    stamps_before = {p.relative_to(repo).as_posix(): p.read_bytes() for p in (repo / ".exec").rglob("*.json")}
    run([PY, "-m", "kazdiaspora.execute", "--force"], repo, env=env)  # --force: every figure drawn again
    executed_nbs = _executed_notebooks(repo)
    for rel_nb in executed_nbs:
        assert (repo / rel_nb).read_bytes() == (paths.ROOT / rel_nb).read_bytes(), \
            f"{rel_nb}: execution is not deterministic or the committed outputs are stale"
    for f in sorted((repo / "figures").iterdir()):
        if f.is_file():
            assert f.read_bytes() == (paths.ROOT / "figures" / f.name).read_bytes(), \
                f"figures/{f.name}: drawing is not deterministic or the committed figure is stale"
    stamps_after = {p.relative_to(repo).as_posix(): p.read_bytes() for p in (repo / ".exec").rglob("*.json")}
    assert stamps_after == stamps_before, "the committed executor stamps are stale: run `make execute` and commit .exec/"
    # nothing changed: nothing executed, and every executed notebook (chapters and front page) was checked
    again = run([PY, "-m", "kazdiaspora.execute"], repo, env=env)
    assert "executed" not in again.stderr
    up_to_date = sorted(line.split(":")[0] for line in again.stderr.splitlines() if line.endswith(": up to date"))
    assert up_to_date == executed_nbs, f"checked {up_to_date}, expected {executed_nbs}"


@pytest.mark.slow
def test_changed_data_is_reexecuted_and_shown(tmp_path):
    """A changed data value makes the executor pick exactly the notebooks that read its table (the
    committed stamps know which), and once the chapter that prints the value is executed, the built
    page shows the new value. Only that chapter is executed here: that the executor reproduces
    every notebook is the test above, and which notebooks it picks is checked for all of them.
    Then the pages that build wrote in parallel are written again in one process: the same bytes."""
    repo = _copy_repo(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo))
    rel, id_col, row_id, changes, page, expected = _mutation(repo)
    _set_cells(repo / rel, id_col, row_id, changes)
    plan = run([PY, "-m", "kazdiaspora.execute", "--dry-run"], repo, env=env)
    readers = _readers(repo, rel, changes)
    assert readers, f"no notebook reads {rel}"
    for nb in [*(repo / "notebooks").glob("*.ipynb"), repo / "book/intro.ipynb"]:
        picked = f"would execute {nb.relative_to(repo).as_posix()}" in plan.stderr
        assert picked == (nb.stem in readers), f"{nb.name}: picked={picked}, reads {rel}={nb.stem in readers}"
    nb = Path(page).with_suffix(".ipynb").as_posix()
    assert Path(nb).stem in readers, f"{nb} prints the value but does not read {rel}"
    done = run([PY, "-m", "kazdiaspora.execute", nb], repo, env=env)
    assert f"executed {nb}" in done.stderr
    run([*JB, "build", ".", *STRICT], repo, env=env)
    html = repo / "_build/html"
    assert expected in (html / page).read_text(encoding="utf-8"), \
        f"{page} does not show the changed value {expected!r}"
    # The build writes the pages in two processes (kazdiaspora.jb.JOBS): every page written again
    # in one process (--all) is byte for byte the same
    parallel = {p.relative_to(html).as_posix(): p.read_bytes() for p in html.rglob("*") if p.is_file()}
    run([*JB, "build", ".", "--all", *STRICT], repo, env={**env, "KAZDIASPORA_BUILD_JOBS": "1"})
    serial = {p.relative_to(html).as_posix(): p.read_bytes() for p in html.rglob("*") if p.is_file()}
    assert sorted(serial) == sorted(parallel)
    differ = sorted(name for name in serial if serial[name] != parallel[name])
    assert not differ, f"written in parallel, these differ from a serial build: {differ[:10]}"


def _readers(repo: Path, rel: str, columns) -> set[str]:
    """The notebooks whose stamp records reading ``rel`` whole or one of ``columns`` of it."""
    import json

    out = set()
    for stamp in (repo / ".exec").glob("*.json"):
        for entry in json.loads(stamp.read_text())["read"]:
            name, _, cols = entry.partition("#")
            if name == rel and (not cols or set(cols.split(",")) & set(columns)):
                out.add(stamp.stem)
    return out


def _mutation(repo: Path):
    """The data value to change, checked to be absent from the page before the change."""
    rel, id_col, row_id, changes, page, expected = MUTATION
    built = paths.BUILD_DIR / "html" / page
    if built.exists():
        assert expected not in built.read_text(encoding="utf-8"), "pick a value the page does not show yet"
    return rel, id_col, row_id, changes, page, expected


def _set_cells(path: Path, id_col: str, row_id: str, changes: dict[str, str]) -> None:
    import csv
    import io

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    i = header.index(id_col)
    hits = [r for r in rows[1:] if r[i] == row_id]
    assert len(hits) == 1
    for column, text in changes.items():
        hits[0][header.index(column)] = text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_a_corrected_figure_executes_only_the_pages_that_state_it(tmp_path):
    """The front page and the conclusion state the famine's key numbers (computed over the famine
    wave's rows) and a few single figures; chapter 1 states two famine-era population figures.
    Correcting a figure of another wave (a return from Iran, drawn on a route map) executes the
    chapter that shows that wave's figures, not them; correcting a famine death toll executes the
    front page and the conclusion too (tests/test_notebooks.py checks how the reads are recorded)."""
    from kazdiaspora import findings

    repo = _copy_repo(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo))
    rel = "data/migration/wave_figures.csv"

    def would_execute():
        plan = run([PY, "-m", "kazdiaspora.execute", "--dry-run"], repo, env=env)
        return sorted(line.split()[-1] for line in plan.stderr.splitlines() if line.startswith("would execute "))

    assert would_execute() == []
    _set_cells(repo / rel, "id", "ret_iran_1993_taldykorgan_ehistory", {"value": "917", "as_printed": "917 people"})
    assert would_execute() == ["notebooks/02_waves_and_routes.ipynb"]
    deaths = findings.famine_deaths()
    row = deaths.loc[deaths["value"].notna()].iloc[0]
    _set_cells(repo / rel, "id", row["id"], {"value": str(int(row["value"]) + 1)})
    assert would_execute() == ["book/intro.ipynb", "notebooks/02_waves_and_routes.ipynb",
                               "notebooks/05_conclusion.ipynb"]
