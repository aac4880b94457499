"""Jupyter Book's command line as the book runs it: ``python -m kazdiaspora.jb build . -W -n --keep-going``.

The same program as the ``jupyter-book`` command, started without the grammar compilation that
:mod:`kazdiaspora.startup` explains (about 1 s of every build). ``make build``, ``make pdf``, the
tests and the benchmark all build through here.
"""
from __future__ import annotations

from .startup import skip_iri_grammars


def main() -> None:
    skip_iri_grammars()
    from jupyter_book.cli.main import main as jupyter_book

    jupyter_book()


if __name__ == "__main__":
    main()
