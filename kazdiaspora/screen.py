"""Screen images of the book's figures: small, deterministic WebP files made from the 300-dpi PNGs.

The PNG, SVG and PDF files of ``figures/`` are for print and download. A page shows each figure as
a WebP at screen resolution: ``screen`` 800 px wide (1x) and 1600 px (2x), ``thumb`` (the Figures
and data page) 360 and 720 px. The Sphinx extension writes them into the build
(``_build/html/_images/screen/``); they are made again only when their PNG changed (same bytes in,
same bytes out: Pillow's Lanczos resampling and libwebp are deterministic).
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

WIDTHS = {"screen": (800, 1600), "thumb": (360, 720)}
#: the ``sizes`` attribute: the width an image of each kind is shown at (the text column, or the
#: screen less the page margins on a phone)
SIZES = {"screen": "(max-width: 860px) calc(100vw - 2rem), 800px",
         "thumb": "(max-width: 400px) calc(100vw - 2rem), 360px"}
QUALITY = 88


def _encode(im, width: int) -> bytes:
    from PIL import Image

    w, h = im.size
    if width < w:
        im = im.resize((width, max(1, round(h * width / w))), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="WEBP", quality=QUALITY, method=4)
    return buf.getvalue()


def _flatten(src: Path):
    from PIL import Image

    im = Image.open(src)
    im.load()
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    return im.convert("RGB")


_FLAT: dict = {}


def _flattened(src: Path, digest: str):
    """:func:`_flatten` of ``src`` whose bytes have ``digest``, kept for the next kind of image of
    the same figure (a figure's thumbnail and its screen image are made one after the other)."""
    if digest not in _FLAT:
        _FLAT.clear()
        _FLAT[digest] = _flatten(src)
    return _FLAT[digest]


def _digest(src: Path) -> str:
    return hashlib.sha256(Path(src).read_bytes()).hexdigest()[:10]


def names(src: Path, kind: str) -> tuple[str, str]:
    """File names of the 1x and 2x images, with a short hash of the source so a stale file is never reused."""
    digest = _digest(src)
    w1, w2 = WIDTHS[kind]
    stem = Path(src).stem
    return f"{stem}.{w1}.{digest}.webp", f"{stem}.{w2}.{digest}.webp"


def make(src: Path, outdir: Path, kind: str = "screen") -> tuple[Path, Path, tuple[int, int]]:
    """Write (if missing) the 1x and 2x images of ``src``; return their paths and the 1x size in px."""
    from PIL import Image

    if kind not in WIDTHS:
        raise ValueError(f"unknown kind of screen image {kind!r} (one of {', '.join(WIDTHS)})")
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: figure image not found (run `make figures`)")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    n1, n2 = names(src, kind)
    p1, p2 = outdir / n1, outdir / n2
    if not (p1.is_file() and p2.is_file()):
        im = _flattened(src, _digest(src))
        for p, w in ((p1, WIDTHS[kind][0]), (p2, WIDTHS[kind][1])):
            tmp = p.with_suffix(f".{os.getpid()}.tmp")  # parallel writers never share a temporary file
            tmp.write_bytes(_encode(im, w))
            tmp.replace(p)
    with Image.open(p1) as im:
        size = im.size
    return p1, p2, size


def make_missing(srcs, outdir: Path) -> list[str]:
    """Make every missing image of ``srcs`` (PNG paths), both kinds; the names of the figures made."""
    made = []
    for src in srcs:
        n = [names(src, kind) for kind in WIDTHS]
        if all((Path(outdir) / f).is_file() for pair in n for f in pair):
            continue
        for kind in WIDTHS:
            make(src, outdir, kind)
        made.append(Path(src).stem)
    return made


def make_ahead(srcs, outdir: Path) -> int | None:
    """Start making the missing images of ``srcs`` in a forked process; its process id (None where
    processes cannot be forked). The book's build calls this before it reads the pages (the
    ``env-before-read-docs`` event): the images of a redrawn figure (about 0.7 s each) are made on
    the second processor while Sphinx reads, and :func:`make` finds them written when it needs
    them. The result is the same: :func:`make` writes what is missing itself, both write each file
    under a temporary name of their own and rename it, and a file's name holds the hash of the
    PNG it is made from. The most recently written PNGs first (those drawn again)."""
    if not hasattr(os, "fork"):
        return None
    srcs = sorted((Path(s) for s in srcs), key=lambda p: (-p.stat().st_mtime_ns, p.name))
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        make_missing(srcs, outdir)
    except BaseException:  # noqa: BLE001 - the build's own make() reports the error where it occurs
        code = 1
    finally:
        os._exit(code)


def width(path: Path) -> int:
    """The width in px of an image file."""
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0]
