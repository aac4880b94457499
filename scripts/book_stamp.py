"""Skip `make book` when none of its inputs changed since the last successful build.

`make book` = executor + strict Jupyter Book build; with nothing changed both only find that out,
which costs seconds (Python imports, Sphinx start-up). This script, standard library only, lists
every input of the two (notebooks, pages, data, figures, the helper package, configuration, the
bibliography, the installed environment's stamp, the PDF the site links) with size and
modification time, and compares that signature with the one saved after the last successful
build. Any difference (a file added, removed, edited or touched) means: build.

    python scripts/book_stamp.py check   # exit 0 if _build/html is up to date with the inputs
    python scripts/book_stamp.py save    # record the inputs after a successful build
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = ROOT / "_build" / ".book-inputs"
#: folders whose every file is an input (recursively), and single files
DIRS = ("book", "notebooks", "data", "figures", "kazdiaspora", "_static", "scripts")
FILES = ("_config.yml", "_toc.yml", "book.yml", "references.bib", "requirements.txt", "pyproject.toml",
         "CHANGELOG.md", "CITATION.cff", ".zenodo.json", "LICENSE", "LICENSE-CONTENT.md", "Makefile",
         ".venv/.installed", "_build/latex/kazakh-diaspora.pdf")
SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def signature() -> str:
    h = hashlib.sha256()
    paths = [ROOT / f for f in FILES]
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(ROOT / d):
            dirnames[:] = sorted(n for n in dirnames if n not in SKIP and not n.endswith(".egg-info"))
            paths += [Path(dirpath) / f for f in filenames if not f.startswith(".") or f.endswith(".json")]
    for p in sorted(paths):
        try:
            st = p.stat()
            h.update(f"{p.relative_to(ROOT)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            h.update(f"{p.relative_to(ROOT)}\0missing\n".encode())
    return h.hexdigest()


def main(cmd: str) -> int:
    if cmd == "check":
        if not (ROOT / "_build" / "html" / "index.html").is_file() or not STAMP.is_file():
            return 1
        return 0 if STAMP.read_text() == signature() else 1
    if cmd == "save":
        STAMP.parent.mkdir(parents=True, exist_ok=True)
        STAMP.write_text(signature())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
