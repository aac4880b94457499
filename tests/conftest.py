"""Shared test helpers."""
from __future__ import annotations

import atexit
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
# `make test` runs with pytest-xdist (`-n 2 --dist loadgroup`). Everything that executes notebooks
# or builds in the repository itself (nbval over notebooks/, the strict build, the browser check of
# that build) is one group, run on one worker one after another: they write the same notebooks,
# figures and _build/. Independent tests (unit tests, the stale-result test in a copy of the
# repository) run on the other worker meanwhile.
ROOT_GROUP = "repository-build"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(ROOT_GROUP))


@dataclass
class BuiltBook:
    html: Path
    before: dict[str, bytes]
    after: dict[str, bytes]
    stdout: str


def tracked_state() -> dict[str, bytes]:
    """What executing and building must leave byte for byte unchanged."""
    files = [*paths.NOTEBOOKS_DIR.glob("*.ipynb"), *paths.FIGURES_DIR.glob("*"), paths.ROOT / "book/figures.md"]
    return {str(p.relative_to(paths.ROOT)): p.read_bytes() for p in files if p.is_file()}


def _run(cmd):
    p = subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


@pytest.fixture(scope="session")
def built_book() -> BuiltBook:
    """The repository's book, executed and built strictly ONCE per test run, shared by every test
    that needs the built HTML (the build test, the browser tests). Runs the same steps as
    `make book`: the executor, the figures, the strict build."""
    before = tracked_state()
    _run([sys.executable, "-m", "kazdiaspora.execute"])
    _run([sys.executable, "-m", "kazdiaspora.figures"])
    build = _run([str(Path(sys.executable).with_name("jupyter-book")), "build", ".", "-W", "-n", "--keep-going"])
    return BuiltBook(paths.BUILD_DIR / "html", before, tracked_state(), build.stdout)
