"""Chart modules: each registers its chapter's figures with :func:`kazdiaspora.figures.register`."""

# A paper edition narrower than this (mm) is laid out for one journal column (89 mm): charts
# stack panels, put legends under the plot, wrap long labels and use fewer label levels.
NARROW_COLUMN_MM = 120.0


def narrow_column() -> bool:
    """True when the figure is drawn for a narrow paper column (not for the book)."""
    from .. import style

    e = style.edition()
    return e.paper and e.width_in * 25.4 < NARROW_COLUMN_MM


def wrap_legend_labels(handles, width: int) -> list:
    """The legend entries with their labels wrapped at ``width`` characters (for a narrow column)."""
    import textwrap

    for h in handles:
        lab = h.get_label()
        if lab and not lab.startswith("_"):
            h.set_label("\n".join(textwrap.fill(line, width, break_long_words=False) for line in lab.split("\n")))
    return handles
