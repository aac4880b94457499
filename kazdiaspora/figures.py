"""The figure registry: every figure of the book, its metadata, its data and its export.

A chart module registers a figure with :func:`register`::

    @register("diaspora-estimates", chapter="01_where_kazakhs_live",
              title="...", caption="...", alt=lambda data: "...")
    def diaspora_estimates():
        data = ...            # exactly the rows plotted, with source_key and locator columns
        fig, ax = style.new_figure(4)
        ...
        return fig, data

:func:`render` builds it, adds the source line (from the ``source_key`` column of the data) and
the licence; :func:`export` writes PNG (300 dpi), SVG, PDF and the CSV of the plotted data to
``figures/`` with stable names, byte-identical run after run, atomically (nothing half-written
is left if anything fails); :func:`show` does both from a notebook and displays the figure as
Markdown with its alt text, caption, source line and download links.
``python -m kazdiaspora.figures`` regenerates every figure outside Jupyter;
``python -m kazdiaspora.figures paper`` writes their paper edition (:mod:`kazdiaspora.paper`).
"""
from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from . import bib, evidence, hotspots, identity, paths, style, trace

# The book's identity comes from book.yml (kazdiaspora.identity), the one place for it.
LICENCE = identity.BOOK.licence
LICENCE_URL = identity.BOOK.licence_url
BOOK_TITLE = identity.BOOK.title
BOOK_AUTHOR = identity.BOOK.author
BOOK_YEAR = identity.BOOK.year
BOOK_URL = identity.BOOK.url
BOOK_VERSION = identity.BOOK.version
FORMATS = ("png", "svg", "pdf", "csv")
CHART_MODULES = (
    "kazdiaspora.charts.population",
    "kazdiaspora.charts.waves",
    "kazdiaspora.charts.iran",
    "kazdiaspora.charts.identity",
)

TextOrFn = str | Callable[[pd.DataFrame], str]


@dataclass
class FigureSpec:
    id: str
    chapter: str
    title: str
    caption: TextOrFn
    alt: TextOrFn
    build: Callable[[], tuple]
    licence: str = LICENCE
    extra_sources: tuple[str, ...] = field(default_factory=tuple)
    data: Callable[[], pd.DataFrame] | None = None

    def make(self) -> tuple:
        """``(figure, plotted data)``. A figure registered with ``data=`` is made in two steps: its
        data function gives the plotted rows, and its build function draws them (``build(data)``);
        what the drawing reads besides is recorded (:func:`render`), so that a figure whose plotted
        rows and drawn inputs are unchanged need not be drawn again (:func:`show`)."""
        if self.data is None:
            return self.build()
        d = self.data().reset_index(drop=True)
        fig = self.build(d.copy())
        d.attrs.clear()
        return fig, d


REGISTRY: dict[str, FigureSpec] = {}


def register(fig_id: str, *, chapter: str, title: str, caption: TextOrFn, alt: TextOrFn,
             licence: str = LICENCE, extra_sources: tuple[str, ...] = (),
             data: Callable[[], pd.DataFrame] | None = None):
    """Decorator registering a build function ``() -> (matplotlib Figure, plotted DataFrame)``, or,
    with ``data=`` (a function returning the plotted DataFrame), ``(data) -> matplotlib Figure``."""
    if not fig_id.replace("-", "").isalnum() or fig_id.lower() != fig_id:
        raise ValueError(f"figure id {fig_id!r}: use lowercase letters, digits and hyphens")

    def deco(fn):
        if fig_id in REGISTRY and REGISTRY[fig_id].build.__qualname__ != fn.__qualname__:
            raise ValueError(f"figure id {fig_id!r} registered twice")
        REGISTRY[fig_id] = FigureSpec(fig_id, chapter, title, caption, alt, fn, licence, tuple(extra_sources), data)
        return fn

    return deco


def load_all() -> dict[str, FigureSpec]:
    """Import every chart module (registering its figures) and return the registry."""
    for mod in CHART_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return REGISTRY


@dataclass
class Rendered:
    spec: FigureSpec
    fig: object
    data: pd.DataFrame
    sources: list[str]
    caption: str
    alt: str
    source_line: str
    reads: list[str] | None = None
    """What drawing the figure read (:func:`kazdiaspora.trace.entries`), for a figure with ``data=``."""
    drawn: dict | None = None
    """For a figure not drawn again (:func:`reuse`): its record in ``DRAWN_DIR``."""
    key: str | None = None
    """:func:`drawn_key` of a figure with ``data=``."""


def _text(t: TextOrFn, data: pd.DataFrame) -> str:
    return " ".join((t(data) if callable(t) else t).split())


def source_keys(data: pd.DataFrame, extra: tuple[str, ...] = ()) -> list[str]:
    if "source_key" not in data.columns:
        raise ValueError("the plotted data must carry a 'source_key' column")
    keys = [k for k in data["source_key"].dropna().astype(str) for k in k.split(";")]
    keys += list(extra)
    known = bib.bib_keys()
    unknown = sorted({k for k in keys if k not in known})
    if unknown:
        raise ValueError(f"source key(s) not in references.bib: {', '.join(unknown)}")
    return sorted(set(keys), key=lambda k: (bib.short_cite(k).lower(), k))


def render(fig_id: str) -> Rendered:
    """Build a registered figure with the book style and add its source line."""
    spec = load_all()[fig_id] if fig_id not in REGISTRY else REGISTRY[fig_id]
    with style.book_style():
        reads = None
        if spec.data is None:
            fig, data = spec.make()
        else:
            data = spec.data().reset_index(drop=True)
            with trace.capture() as lines:
                fig = spec.build(data.copy())
                trace.record_modules()  # the drawing's code (a superset: every module loaded)
                trace.record(paths.ROOT / "requirements.txt")  # the drawing libraries' versions
            reads = trace.entries("\n".join(lines), paths.ROOT)
        unify_title(fig, spec.title)
        freeze_layout(fig)
        data = data.reset_index(drop=True)
        keys = source_keys(data, spec.extra_sources)
        line = source_line(spec, keys)
        key = drawn_key(spec, data, line, reads) if reads is not None else None
        r = _described(spec, data, keys, line, reads=reads, key=key)
        style.add_source_line(fig, line)
        fig.set_facecolor("white")
    r.fig = fig
    return r


# ----------------------------------------------------------------------------- not drawing twice
DRAWN_DIR = paths.ROOT / ".exec" / "figures"
"""One record per figure registered with ``data=``, written when it is drawn into ``figures/``
(committed, like the notebooks' stamps): what the drawing read and the key of its inputs."""


REDRAW = "KAZDIASPORA_REDRAW"
"""Set (to anything) in the environment, every figure is drawn again (``execute --force`` sets it)."""


def drawn_key(spec: FigureSpec, data: pd.DataFrame, line: str, reads: list[str]) -> str:
    """The SHA-256 of everything a figure's image is drawn from: its plotted rows (values and
    types), what its data function gives the drawing besides them (``data.attrs["drawn"]``: names,
    the rows of a map's routes), title, licence and source line, the book's edition, and the present
    contents of what its drawing read (``reads``: data columns, map layers, the package's modules,
    the pinned requirements)."""
    h = hashlib.sha256()
    h.update(_given_bytes(data.attrs.get("drawn")))
    h.update(json.dumps({"id": spec.id, "title": spec.title, "licence": spec.licence, "source_line": line,
                         "edition": repr(style.edition()),
                         "columns": [f"{c}:{t}" for c, t in data.dtypes.astype(str).items()],
                         "reads": trace.digests(reads, paths.ROOT)}, sort_keys=True).encode())
    h.update(_csv_bytes(data))
    return h.hexdigest()


def _given_bytes(obj) -> bytes:
    """A byte string that changes when anything in ``obj`` changes: frames (values, types, column
    names and order), series, mappings, sequences and scalars, nested."""
    if obj is None:
        return b"N"
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        head = json.dumps([[str(c), str(t)] for c, t in obj.dtypes.items()]).encode()
        body = obj.to_csv(index=True, lineterminator="\n").encode("utf-8")
        return b"F%d:" % len(head) + head + b"%d:" % len(body) + body
    if isinstance(obj, dict):
        parts = [_given_bytes(str(k)) + _given_bytes(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))]
        return b"D%d:" % len(parts) + b"".join(parts)
    if isinstance(obj, (list, tuple)):
        return b"L%d:" % len(obj) + b"".join(_given_bytes(v) for v in obj)
    text = repr(obj).encode("utf-8")
    return b"S%d:" % len(text) + text


def _sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def reuse(spec: FigureSpec, outdir: Path | None = None) -> Rendered | None:
    """The figure as last drawn into ``figures/``, without drawing it, when nothing it is drawn from
    has changed (:func:`drawn_key`) and its image files are those that drawing wrote; else None.

    Its plotted rows, caption, alt text and source line are computed afresh (the CSV, the metadata
    and the hotspots file are written again by :func:`export`); what the drawing read is recorded
    again, as if it had been drawn, so that a notebook showing it is executed again when that
    changes. Never with ``KAZDIASPORA_REDRAW`` set."""
    outdir = Path(outdir or paths.FIGURES_DIR)
    rec = DRAWN_DIR / f"{spec.id}.json"
    if (spec.data is None or os.environ.get(REDRAW) or outdir.resolve() != paths.FIGURES_DIR.resolve()
            or not rec.exists()):
        return None
    drawn = json.loads(rec.read_text(encoding="utf-8"))
    with style.book_style():
        data = spec.data().reset_index(drop=True)
        keys = source_keys(data, spec.extra_sources)
        line = source_line(spec, keys)
        if drawn.get("key") != drawn_key(spec, data, line, drawn.get("reads", [])):
            return None
        for ext, sha in drawn.get("files", {}).items():
            f = outdir / f"{spec.id}.{ext}"
            if not f.exists() or _sha(f.read_bytes()) != sha:
                return None
        for rel in drawn["reads"]:
            trace.record_entry(rel, paths.ROOT)
        return _described(spec, data, keys, line, reads=drawn["reads"], drawn=drawn, key=drawn["key"])


def _described(spec: FigureSpec, data: pd.DataFrame, keys: list[str], line: str, **kw) -> Rendered:
    """A figure as a page shows it (plotted rows with their evidence, caption, alt text, source
    line), without its picture: ``data`` as its data function gave it."""
    data.attrs.clear()  # what the drawing was given besides its rows is in the key, not in the CSV
    data = evidence.annotate(data, id_col=_id_column(data))
    evidence.check_plotted(data)
    return Rendered(spec, None, data, keys, _text(spec.caption, data), _text(spec.alt, data), line, **kw)


# ----------------------------------------------------------------------------- drawing meanwhile
DRAW_AHEAD = "KAZDIASPORA_DRAW_AHEAD"
"""Set (to anything) in a kernel's environment (the executor sets it: ``kazdiaspora.execute``), a
figure that must be drawn again is drawn in a forked copy of the kernel while the notebook goes on
(:func:`show`): what the cell shows (caption, alt text, source line) comes from the figure's data,
not from its picture. :func:`wait_drawn`, which the executor runs after the last cell, waits for
every copy and raises the error of any that failed, naming the figure."""

DRAW_AHEAD_AT_ONCE = 2
"""How many figures of one kernel are drawn at once; a further figure waits for the oldest."""

_PENDING: list[tuple[str, int, int]] = []
"""The figures being drawn in forked copies: (figure id, process id, read end of its error pipe)."""


def _draw_ahead(spec: FigureSpec) -> Rendered:
    """Start drawing and exporting ``spec`` in a forked copy of this process (as :func:`render` and
    :func:`export` would here: the copy has this process's state); return what the page shows."""
    with style.book_style():
        data = spec.data().reset_index(drop=True)
        keys = source_keys(data, spec.extra_sources)
        r = _described(spec, data, keys, source_line(spec, keys))
    while len(_PENDING) >= DRAW_AHEAD_AT_ONCE:
        _finish(_PENDING.pop(0))
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: draw, export, leave without running anything of the parent's
        code = 1
        try:
            os.close(rfd)
            # nothing of the copy goes to the notebook's streams (a kernel's are its messaging)
            sys.stdout = sys.stderr = io.StringIO()
            import matplotlib.pyplot as plt

            drawn = render(spec.id)
            export(drawn)
            plt.close(drawn.fig)
            code = 0
        except BaseException:  # noqa: BLE001 - told to the parent, which raises it
            import traceback

            try:
                with os.fdopen(wfd, "wb") as out:
                    out.write(traceback.format_exc().encode("utf-8", "replace"))
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    os.close(wfd)
    _PENDING.append((spec.id, pid, rfd))
    return r


def _finish(entry: tuple[str, int, int]) -> None:
    fig_id, pid, rfd = entry
    with os.fdopen(rfd, "rb") as got:
        said = got.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"figure {fig_id}: drawing it failed (exit status {code})" + (f":\n{said}" if said else ""))


def wait_drawn() -> None:
    """Wait for every figure being drawn (:data:`DRAW_AHEAD`); raise if any failed (after all ended)."""
    errors = []
    while _PENDING:
        try:
            _finish(_PENDING.pop(0))
        except RuntimeError as exc:
            errors.append(str(exc))
    if errors:
        raise RuntimeError("\n".join(errors))


def _id_column(data: pd.DataFrame) -> str:
    """The column naming the data row each plotted row shows (route maps name it magnitude_id)."""
    return "id" if "id" in data.columns else ("magnitude_id" if "magnitude_id" in data.columns else "id")


_PANEL = re.compile(r"^[A-Z]\.\s")


def unify_title(fig, title: str) -> None:
    """Give the image the figure's one title, the same as its caption, the figures page and the citation.

    A chart draws its heading either as the figure's suptitle or, for a single chart, as the title
    of its only titled axes; that heading is replaced by the registered title (wrapped to the
    figure's width). Panel titles ("A. ...") and titles of several panels are left alone.
    """
    import textwrap

    width = max(30, int(fig.get_figwidth() * 12.5))
    text = "\n".join(textwrap.wrap(title, width))
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        sup.set_text(text)
        return
    titled = [(ax, loc) for ax in fig.axes for loc in ("center", "left", "right") if ax.get_title(loc=loc).strip()]
    if len(titled) == 1 and not _PANEL.match(titled[0][0].get_title(loc=titled[0][1])):
        ax, loc = titled[0]
        ax.set_title(text, loc=loc)


def source_line(spec: FigureSpec, keys: list[str]) -> str:
    """"Source: A; B. Figure: <book>, <licence>." for the source keys of the plotted data."""
    cites = list(dict.fromkeys(bib.short_cite(k) for k in keys))  # one label once, in order
    return "Source: " + "; ".join(cites) + \
        f". Figure: {BOOK_TITLE}, {LICENCE if spec.licence == LICENCE else spec.licence}."


def freeze_layout(fig):
    """Run the figure's layout engine once and switch it off.

    A constrained layout with legends outside the axes does not settle from one draw to the next,
    so saving the same figure twice could give different bytes. Laying out once, then fixing the
    positions, makes every export of a rendered figure identical.
    """
    engine = fig.get_layout_engine()
    if engine is not None and engine.__class__.__name__ != "PlaceHolderLayoutEngine":
        if style.edition().paper:  # paper edition: no title, legends that fit the column
            from . import paper
            paper.reflow(fig)
        # the layout runs at the start of a draw; nothing needs painting for it (a third of a second
        # less per chart; every figure's SVG and PNG pixels checked the same as with a painted draw)
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    return fig


def _save_bytes(fig, fmt: str, drawn: str | None = None) -> bytes:
    buf = io.BytesIO()
    meta = {"png": {"Software": None}, "svg": {"Date": None},
            "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    if drawn is not None:  # the PNG and PDF say what they were drawn from (see `export`)
        meta.update({DRAWN_FROM: drawn} if fmt == "png" else {"Keywords": f"{DRAWN_FROM} {drawn}"})
    with style.book_style(), warnings.catch_warnings():
        # a character the font lacks would print as an empty box: refuse it
        warnings.filterwarnings("error", message=r"Glyph \d+ .* missing from font")
        fig.savefig(buf, format=fmt, dpi=300 if fmt == "png" else 72, metadata=meta,
                    bbox_inches="tight", pad_inches=0.06, facecolor="white")
    return stable_svg_ids(buf.getvalue()) if fmt == "svg" else buf.getvalue()


class _Forked:
    """``fn()`` (bytes) computed in a forked copy of this process while this one goes on, so that
    the PDF of a figure is written on the second core while the PNG is written on the first (the
    figure is drawn once; the copy shares it). :meth:`result` gives the bytes; if the copy failed,
    or cannot be made, ``fn()`` runs here, so that its error is raised where it belongs."""

    def __init__(self, fn: Callable[[], bytes]):
        self.fn, self.pid, self.fd = fn, None, None
        if not hasattr(os, "fork"):
            return
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return
        if pid == 0:  # the copy: compute, send, leave without running anything of the parent's
            code = 1
            try:
                os.close(r)
                blob = fn()
                with os.fdopen(w, "wb") as out:
                    out.write(blob)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        self.pid, self.fd = pid, r

    def discard(self) -> None:
        """Stop the copy and collect it, without its result."""
        if self.pid is None:
            return
        os.close(self.fd)
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None

    def result(self) -> bytes:
        if self.pid is None:
            return self.fn()
        with os.fdopen(self.fd, "rb") as got:
            blob = got.read()
        _, status = os.waitpid(self.pid, 0)
        ok = os.waitstatus_to_exitcode(status) == 0
        return blob if ok else self.fn()


DRAWN_FROM = "kazdiaspora-drawn-from"
"""The key, in a PNG's text chunk and a PDF's keywords, of what the file was drawn from."""


def drawn_from(svg: bytes) -> str:
    """What a figure's PNG and PDF are drawn from: its SVG (every mark, text, colour and position of
    the figure, written first) and the code that writes the files. Two exports with the same value
    write the same PNG and PDF, so `export` keeps the files already there instead of drawing them
    again; a changed figure, a changed export code or another matplotlib draws them again. (That a
    fresh export equals the kept files is tested: tests/test_figures.py.)"""
    import matplotlib
    import PIL

    h = hashlib.sha256(svg)
    for mod in (sys.modules[__name__], style):
        h.update(Path(mod.__file__).read_bytes())
    h.update(f"matplotlib {matplotlib.__version__}, Pillow {PIL.__version__}".encode())
    return h.hexdigest()


def _kept(path: Path, fmt: str, key: str) -> bytes | None:
    """The bytes of an existing PNG or PDF drawn from ``key``, or None."""
    if not path.exists():
        return None
    blob = path.read_bytes()
    if fmt == "png":
        found = blob.startswith(b"\x89PNG") and f"tEXt{DRAWN_FROM}\x00{key}".encode() in blob
    else:
        found = blob.startswith(b"%PDF") and f"/Keywords ({DRAWN_FROM} {key})".encode() in blob
    return blob if found else None


_SVG_HASH_ID = re.compile(rb'id="([pmh])([0-9a-f]{10})"')


def stable_svg_ids(svg: bytes) -> bytes:
    """Renumber matplotlib's hashed SVG ids (clip paths ``p…``, markers ``m…``, hatches ``h…``) in
    order of first appearance. The hashes are taken over float coordinates, whose last bits can
    differ from one export to the next although every drawn number is the same; the numbers make
    the file byte-stable."""
    new: dict[bytes, bytes] = {}
    for m in _SVG_HASH_ID.finditer(svg):
        old = m.group(1) + m.group(2)
        if old not in new:
            n = sum(1 for k in new if k[:1] == m.group(1))
            new[old] = m.group(1) + b"%010d" % (n + 1)
    if not new:
        return svg
    pat = re.compile(rb"\b(" + b"|".join(re.escape(k) for k in new) + rb")\b")
    return pat.sub(lambda m: new[m.group(1)], svg)


def _csv_bytes(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _has_geojson(r: Rendered) -> bool:
    if r.drawn is not None:
        return "geojson" in r.drawn.get("files", {})
    return getattr(r.fig, "geojson", None) is not None


def _write_if_changed(path: Path, blob: bytes) -> None:
    if path.exists() and path.read_bytes() == blob:
        return
    t = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    t.write_bytes(blob)
    os.replace(t, path)


def metadata(r: Rendered) -> dict:
    """What the figures page and the citation need, as stored next to the files."""
    return {
        "id": r.spec.id,
        "chapter": r.spec.chapter,
        "title": r.spec.title,
        "caption": r.caption,
        "alt": r.alt,
        "source_line": r.source_line,
        "sources": r.sources,
        "licence": r.spec.licence,
        "files": {fmt: f"{r.spec.id}.{fmt}" for fmt in FORMATS + (("geojson",) if _has_geojson(r) else ())},
        "rows": int(len(r.data)),
    }


def export(r: Rendered, outdir: Path | None = None) -> dict[str, Path]:
    """Write PNG, SVG, PDF, CSV and the metadata JSON; all-or-nothing, unchanged files untouched.

    A figure not drawn again (:func:`reuse`) keeps its image files; its CSV, metadata and hotspots
    are written from its rows. A figure drawn into ``figures/`` in the book's edition leaves its
    record in ``DRAWN_DIR``."""
    outdir = Path(outdir or paths.FIGURES_DIR)
    outdir.mkdir(parents=True, exist_ok=True)
    payload: dict[str, bytes] = {}
    if r.drawn is None:
        svg = _save_bytes(r.fig, "svg")
        key = drawn_from(svg)
        payload = {"svg": svg}
        # kept as they are when drawn from the same SVG and code
        kept = {fmt: _kept(outdir / f"{r.spec.id}.{fmt}", fmt, key) for fmt in ("png", "pdf")}
        pdf = _Forked(lambda: _save_bytes(r.fig, "pdf", key)) if kept["pdf"] is None else None
        try:
            payload["png"] = kept["png"] or _save_bytes(r.fig, "png", key)
            if getattr(r.fig, "geojson", None) is not None:  # a map: what it draws, in lon/lat
                payload["geojson"] = (json.dumps(r.fig.geojson, ensure_ascii=False, sort_keys=True,
                                                 separators=(",", ":")) + "\n").encode()
            measured = hotspots.compute(r.fig)
        except BaseException:
            if pdf is not None:
                pdf.discard()  # no copy is left behind when the PNG fails
            raise
        payload["pdf"] = kept["pdf"] or pdf.result()
    else:
        measured = r.drawn["measured"]
    images = {ext: _sha(blob) for ext, blob in payload.items()}
    payload["csv"] = _csv_bytes(r.data)
    payload["json"] = (json.dumps(metadata(r), indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()
    # where each plotted row is drawn in the PNG, for the book's interactive layer (kazdiaspora.hotspots)
    payload["hotspots.json"] = (json.dumps(hotspots.payload(r.spec.id, r.fig, r.data, measured), indent=0,
                                           ensure_ascii=False, sort_keys=True) + "\n").encode()
    tmp: dict[str, Path] = {}
    try:
        for ext, blob in payload.items():
            # one temporary name per process: two exports of a figure at once (a notebook kernel and
            # `make figures`) never take each other's file
            t = outdir / f".{r.spec.id}.{ext}.{os.getpid()}.tmp"
            t.write_bytes(blob)
            tmp[ext] = t
        out = {}
        for ext, t in tmp.items():
            final = outdir / f"{r.spec.id}.{ext}"
            if final.exists() and final.read_bytes() == payload[ext]:
                t.unlink(missing_ok=True)
            else:
                os.replace(t, final)
            out[ext] = final
        if r.drawn is not None:
            out.update({ext: outdir / f"{r.spec.id}.{ext}" for ext in r.drawn["files"]})
        elif r.key is not None and not style.edition().paper and outdir.resolve() == paths.FIGURES_DIR.resolve():
            DRAWN_DIR.mkdir(parents=True, exist_ok=True)
            rec = {"figure": r.spec.id, "key": r.key, "reads": r.reads, "files": images, "measured": measured}
            _write_if_changed(DRAWN_DIR / f"{r.spec.id}.json",
                              (json.dumps(rec, indent=1, sort_keys=True) + "\n").encode())
        return out
    finally:
        for t in tmp.values():
            t.unlink(missing_ok=True)


def anchor(title: str) -> str:
    """The HTML anchor of a figure's heading on the figures page (MyST's own slug function)."""
    from myst_parser.mdit_to_docutils.base import default_slugify

    return default_slugify(title)


# the cross-reference targets of a figure (in its chapter; its entry on the Figures and data page)
# live with the page, which is written without importing the drawing code
from .figpage import data_label, label  # noqa: E402,F401


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class FigureDisplay:
    """What a notebook cell shows: a numbered MyST figure with alt text, caption, source line and links.

    The Markdown is a ``{figure}`` directive named :func:`label`, so Sphinx numbers it (Figure 2.3)
    and the prose can refer to it with ``{numref}``. The caption's first paragraph is the figure's
    one title; the legend holds the caption text, the source line and a link to the figure's entry
    on the Figures and data page. The image is the 300-dpi PNG of ``figures/``; the book's Sphinx
    extension serves it to the screen at screen resolution (``kazdiaspora.sphinxext``).
    """

    def __init__(self, r: Rendered, rel_figdir: str = "../figures", figures_page: str = "../book/figures.md"):
        self.r, self.rel, self.page = r, rel_figdir, figures_page

    def _repr_markdown_(self) -> str:
        r, fid = self.r, self.r.spec.id
        alt = _one_line(r.alt)
        return (f":::{{figure}} {self.rel}/{fid}.png\n"
                f":name: {label(fid)}\n"
                f":alt: {alt}\n"
                f":figclass: kaz-figure\n\n"
                f"{_one_line(r.spec.title)}\n\n"
                f"{_one_line(r.caption)} *{_one_line(r.source_line)}* "
                f"{{ref}}`Download PNG, SVG, PDF and the data (CSV), and cite this figure <{data_label(fid)}>`.\n"
                f":::\n")

    def __repr__(self) -> str:
        return f"Figure {self.r.spec.id}: {self.r.spec.title}"


def show(fig_id: str) -> FigureDisplay:
    """Render, export to figures/ and return the display object (call as the cell's last line).
    A figure whose drawing inputs are unchanged is not drawn again (:func:`reuse`); in the
    executor's kernels one that is drawn again is drawn meanwhile (:data:`DRAW_AHEAD`)."""
    import matplotlib.pyplot as plt

    spec = load_all()[fig_id] if fig_id not in REGISTRY else REGISTRY[fig_id]
    r = reuse(spec)
    if r is not None:
        export(r)
    elif spec.data is not None and os.environ.get(DRAW_AHEAD) and hasattr(os, "fork"):
        r = _draw_ahead(spec)  # drawn meanwhile: see DRAW_AHEAD
    else:
        r = render(fig_id)
        export(r)
        plt.close(r.fig)
    return FigureDisplay(r)


def main(argv: list[str] | None = None) -> int:
    """Regenerate every registered figure outside Jupyter, with progress on stderr."""
    import matplotlib.pyplot as plt

    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "paper":  # the paper edition: python -m kazdiaspora.figures paper --help
        from . import paper
        return paper.main(argv[1:])
    outdir = Path(argv[0]) if argv else paths.FIGURES_DIR
    specs = load_all()
    n = len(specs)
    t0 = time.perf_counter()
    for i, fid in enumerate(sorted(specs), 1):
        t = time.perf_counter()
        print(f"[{i:>2}/{n}] {fid} ...", end="", file=sys.stderr, flush=True)
        r = render(fid)
        export(r, outdir)
        plt.close(r.fig)
        print(f" {', '.join(FORMATS)} ({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
    from .figpage import write_page
    write_page(outdir)
    print(f"{n} figures in {outdir} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Run the function of the imported module, not of this __main__ copy: the chart modules
    # register their figures in ``kazdiaspora.figures.REGISTRY``.
    from kazdiaspora.figures import main as _main

    raise SystemExit(_main())
