"""kazdiaspora.startup: the book's processes start without compiling jsonschema's IRI grammars,
and nothing they run needs those grammars."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from kazdiaspora import paths

PY = sys.executable


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([PY, "-c", code + "\nimport sys; print(' '.join(k for k, v in sys.modules.items() if v))"],
                         cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("code", [
    # a notebook kernel: the data package is checked against its profile with jsonschema
    "from kazdiaspora import data; data.package()",
    # the executor reads notebooks with nbformat, which imports jsonschema
    "import kazdiaspora.execute",
])
def test_book_processes_do_not_load_the_iri_grammars(code):
    loaded = _loaded_after(code)
    assert "jsonschema" in loaded, "the check is meaningless if jsonschema was not imported"
    assert "rfc3987_syntax" not in loaded and "lark" not in loaded


def test_the_build_command_does_not_load_them():
    """`python -m kazdiaspora.jb` is the jupyter-book command; its configuration check imports jsonschema."""
    loaded = _loaded_after("import sys; sys.argv = ['jb', '--help']\nfrom kazdiaspora import jb\n"
                           "try:\n    jb.main()\nexcept SystemExit:\n    pass\nimport jupyter_book.config")
    assert "jupyter_book.cli.main" in loaded and "jsonschema" in loaded
    assert "rfc3987_syntax" not in loaded


def test_without_the_skip_jsonschema_would_load_them():
    """The skip is needed only while the package is installed (JupyterLab's dependencies bring it)."""
    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed: nothing to skip")
    assert "rfc3987_syntax" in _loaded_after("import jsonschema")


def test_skip_does_nothing_once_jsonschema_is_imported():
    loaded = _loaded_after("import jsonschema\nfrom kazdiaspora import startup; startup.skip_iri_grammars()\n"
                           "import importlib; importlib.import_module('rfc3987_syntax')")
    assert "rfc3987_syntax" in loaded


# the packages a build or a kernel runs; none may validate with a format checker (the IRI formats
# would then go unchecked without anyone noticing)
BUILD_PACKAGES = ["kazdiaspora", "jupyter_book", "sphinx", "myst_nb", "myst_parser", "nbformat", "nbclient",
                  "sphinxcontrib.bibtex", "sphinx_book_theme", "pydata_sphinx_theme", "ipykernel", "jupyter_cache"]


@pytest.mark.parametrize("package", BUILD_PACKAGES)
def test_no_format_checker_in_what_the_build_runs(package):
    spec = importlib.util.find_spec(package)
    if spec is None:
        pytest.skip(f"{package} not installed")
    root = Path(spec.origin).parent if spec.origin else Path(next(iter(spec.submodule_search_locations)))
    users = [str(p.relative_to(root.parent)) for p in sorted(root.rglob("*.py"))
             if "tests" not in p.parts and any(w in p.read_text(encoding="utf-8", errors="replace")
                                               for w in ("format_checker", "FormatChecker"))]
    assert users == [], f"{package} validates with a format checker: {users}"
