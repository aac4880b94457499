"""`make book` is skipped only when no input changed (scripts/book_stamp.py)."""
from __future__ import annotations

import importlib.util
import os

from kazdiaspora import paths

spec = importlib.util.spec_from_file_location("book_stamp", paths.ROOT / "scripts" / "book_stamp.py")
book_stamp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_stamp)


def _touched(path, fn):
    st = path.stat()
    try:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        return fn()
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_signature_is_stable_and_sees_every_kind_of_input():
    base = book_stamp.signature()
    assert book_stamp.signature() == base
    for rel in ("data/datapackage.json", "book.yml", "_config.yml", "book/methods.md", "references.bib",
                "kazdiaspora/figures.py", "notebooks/01_where_kazakhs_live.ipynb"):
        assert _touched(paths.ROOT / rel, book_stamp.signature) != base, f"a change of {rel} would not rebuild"
    assert book_stamp.signature() == base


def test_a_new_file_changes_the_signature(tmp_path):
    base = book_stamp.signature()
    new = paths.ROOT / "kazdiaspora" / "zz-stamp-test.txt"  # no build reads it
    try:
        new.write_text("x")
        assert book_stamp.signature() != base
    finally:
        new.unlink()
    assert book_stamp.signature() == base


def test_pdf_is_an_input():
    assert "_build/latex/kazakh-diaspora.pdf" in book_stamp.FILES
