"""Record which project files a notebook reads.

The executor (``kazdiaspora.execute``) sets the environment variable ``KAZDIASPORA_TRACE`` to a
file path before it starts a notebook's kernel. Every loader in this package calls
:func:`record` for each file it opens; the paths are appended to that file, one per line. The
executor then stores a hash of each file read, and re-executes the notebook when any of them
changes. The executor also asks, after the last cell, for :func:`record_modules`: the package's
modules the notebook imported are its code inputs (a module it never imports cannot change what it
shows). Outside the executor (``KAZDIASPORA_TRACE`` unset) recording does nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "KAZDIASPORA_TRACE"


def record(path: str | os.PathLike) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(str(Path(path).resolve()) + "\n")


def record_modules() -> None:
    """Record the source file of every module of this package loaded in this process."""
    import sys

    for name, module in sorted(sys.modules.items()):
        if (name == "kazdiaspora" or name.startswith("kazdiaspora.")) and getattr(module, "__file__", None):
            record(module.__file__)
