"""Helper package of the Kazakh Diaspora book.

Modules
-------
paths      where things live in the repository
data       loading and validating every table in ``data/`` against ``data/datapackage.json``
bib        the keys of ``references.bib``
style      the book's matplotlib style, palette and source lines
figures    the figure registry, deterministic export (PNG/SVG/PDF/CSV) and display in notebooks
basemap    committed Natural Earth layers and the Central Asia base map
execute    the project's notebook executor (deterministic, re-executes only what changed)
"""

__all__ = ["paths"]
