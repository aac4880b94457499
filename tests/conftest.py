"""Shared test helpers."""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from kazdiaspora import figures, paths

plt.rcParams["figure.max_open_warning"] = 0
_RENDERED: dict = {}


def rendered(fid):
    """A registered figure rendered once per test session (the chart tests share it)."""
    if fid not in _RENDERED:
        figures.load_all()
        _RENDERED[fid] = figures.render(fid)
    return _RENDERED[fid]


def render_figures(fig_ids):
    """Render the given registered figures once per session; yield {id: Rendered}."""
    yield {fid: rendered(fid) for fid in fig_ids}


@atexit.register
def _close():
    for r in _RENDERED.values():
        plt.close(r.fig)


# ---------------------------------------------------------------------------------------------
# `make test` runs with pytest-xdist (`-n 2`). nbval runs first, in its own process (see the Makefile).
# Everything that needs the built book shares one strict build through the `built_book` fixture,
# which the workers hold under a file lock (the `xdist_group` markers below are kept as
# documentation: with the pinned pytest 9 and pytest-xdist 3.8 they do not keep tests on one worker,
# checked on 2026-12-06). Tests that write figures or notebooks do so in temporary copies.
ROOT_GROUP = "repository-build"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(ROOT_GROUP))


@dataclass
class BuiltBook:
    html: Path
    changed: list[str]  # committed files that executing and building changed (must be none)
    stdout: str


def tracked_state() -> dict[str, str]:
    """What executing and building must leave byte for byte unchanged (file -> SHA-256)."""
    import hashlib

    files = [*paths.NOTEBOOKS_DIR.glob("*.ipynb"), paths.ROOT / "book/intro.ipynb", *paths.FIGURES_DIR.glob("*"),
             paths.ROOT / "book/figures.md", *(paths.ROOT / ".exec").glob("*.json")]
    return {str(p.relative_to(paths.ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _run(cmd):
    p = subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


def _build_book() -> BuiltBook:
    before = tracked_state()
    # as `make book` runs it: the data check and the executor, the build starting meanwhile and
    # waiting for both at its gate (kazdiaspora/jb.py)
    build = _run([sys.executable, "-m", "kazdiaspora.jb", "book", "-W", "-n", "--keep-going"])
    after = tracked_state()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return BuiltBook(paths.BUILD_DIR / "html", changed, build.stdout)


@pytest.fixture(scope="session")
def built_book() -> BuiltBook:
    """The repository's book, executed and built strictly ONCE per test run, shared by every test
    that needs the built HTML (the build test, the browser tests). Runs the same steps as
    `make book`: the executor (its committed stamps make it a no-op when the committed notebooks
    are current), then the strict build. That re-exporting every figure changes no byte is
    checked by tests/test_figures.py.

    Under pytest-xdist the test workers share it: the first to need it builds under a file lock,
    the others wait and read its result (xdist_group does not keep tests on one worker with the
    pinned pytest, so two workers would otherwise build the same _build/ at once)."""
    import fcntl
    import json

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id:
        return _build_book()
    paths.BUILD_DIR.mkdir(exist_ok=True)
    result = paths.BUILD_DIR / f".built_book.{run_id}.json"
    with open(paths.BUILD_DIR / ".built_book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if result.exists():
                r = json.loads(result.read_text())
                return BuiltBook(Path(r["html"]), r["changed"], r["stdout"])
            b = _build_book()
            result.write_text(json.dumps({"html": str(b.html), "changed": b.changed, "stdout": b.stdout}))
            return b
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
