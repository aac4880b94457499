"""The publishing workflow (.github/workflows/book.yml) is valid and builds with the book's make targets.

The linter is check-jsonschema with its bundled copy of the GitHub Actions workflow schema
(SchemaStore), pinned in requirements.txt: it works offline.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kazdiaspora import paths

WORKFLOW = paths.ROOT / ".github" / "workflows" / "book.yml"
LINT = [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.github-workflows"]


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT, str(path)], capture_output=True, text=True, timeout=120)


def test_workflow_passes_the_linter():
    p = lint(WORKFLOW)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("old, new", [
    ("runs-on: ubuntu-24.04\n    timeout-minutes: 60", "timeout-minutes: 60"),   # a job without runs-on
    ("pull_request:", "pull_requests:"),                                         # an unknown event
    ("      - uses: actions/checkout@v4", "      - usess: actions/checkout@v4"),  # an unknown step key
])
def test_the_linter_catches_a_broken_workflow(tmp_path, old, new):
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "book.yml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert lint(bad).returncode != 0


def test_workflow_builds_with_the_make_targets_and_deploys_pages():
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    makefile = (paths.ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    steps = wf["jobs"]["build"]["steps"]
    made = [t for s in steps for t in re.findall(r"\bmake (\w[\w-]*)", s.get("run", ""))]
    assert made[:3] == ["test", "pdf", "book"], made
    assert set(made) <= targets, f"unknown make targets: {set(made) - targets}"
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") and s["with"]["path"] == "_build/html"
               for s in steps)
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][-1]["uses"].startswith("actions/deploy-pages")


def test_readme_says_how_to_publish():
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Publishing" in readme and ".github/workflows/book.yml" in readme and "book.yml" in readme
