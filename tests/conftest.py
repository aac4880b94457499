"""Shared test helpers."""
from __future__ import annotations

import matplotlib.pyplot as plt

from kazdiaspora import figures


def render_figures(fig_ids):
    """Render the given registered figures once; yield {id: Rendered}; close them afterwards."""
    figures.load_all()
    out = {fid: figures.render(fid) for fid in fig_ids}
    yield out
    for r in out.values():
        plt.close(r.fig)
