"""Chart modules: each registers its chapter's figures with :func:`kazdiaspora.figures.register`."""

# A paper edition narrower than this (mm) is laid out for one journal column (89 mm): charts
# stack panels, put legends under the plot, wrap long labels and use fewer label levels.
NARROW_COLUMN_MM = 120.0


def narrow_column() -> bool:
    """True when the figure is drawn for a narrow paper column (not for the book)."""
    from .. import style

    e = style.edition()
    return e.paper and e.width_in * 25.4 < NARROW_COLUMN_MM
