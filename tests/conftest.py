"""Shared test helpers."""
from __future__ import annotations

import atexit

import matplotlib.pyplot as plt

from kazdiaspora import figures

plt.rcParams["figure.max_open_warning"] = 0
_RENDERED: dict = {}


def rendered(fid):
    """A registered figure rendered once per test session (the chart tests share it)."""
    if fid not in _RENDERED:
        figures.load_all()
        _RENDERED[fid] = figures.render(fid)
    return _RENDERED[fid]


def render_figures(fig_ids):
    """Render the given registered figures once per session; yield {id: Rendered}."""
    yield {fid: rendered(fid) for fid in fig_ids}


@atexit.register
def _close():
    for r in _RENDERED.values():
        plt.close(r.fig)
