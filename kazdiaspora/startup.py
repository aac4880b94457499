"""Start-up time of the book's own processes (notebook kernels, the executor, the book build).

``jsonschema`` (used by the data package check, by nbformat and by Jupyter Book's configuration
check) imports the optional package ``rfc3987_syntax`` when it is installed (JupyterLab's
dependencies install it); that import compiles 39 grammars and costs about 1 s in every process.
It serves only jsonschema's ``iri`` and ``iri-reference`` format checks, which nothing in the
book's build asks for: no schema here is validated with a format checker (checked in
``tests/test_startup.py``). :func:`skip_iri_grammars` makes that one optional import fail, as if
the package were absent, so jsonschema leaves those two format checks out.
"""
from __future__ import annotations

import sys

SKIPPED = "rfc3987_syntax"


def skip_iri_grammars() -> None:
    """Before jsonschema is first imported: do not load ``rfc3987_syntax`` (see the module text)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault(SKIPPED, None)  # type: ignore[arg-type]
