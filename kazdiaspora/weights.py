"""Page weights of the built book: the bytes of the images each page loads, against a budget.

Counted for each HTML page of the build: every ``<img>`` the page shows from the build itself, at
1x (its ``src``; the 2x file of ``srcset`` is loaded only by high-density screens), each file once.
The theme's own images (``_static/``) are not counted: they are the same on every page and cached.
Budgets (issue 14): a chapter 1.5 MB, the Figures and data page 3 MB, any other page 1.5 MB.

``python -m kazdiaspora.weights [_build/html]`` prints one line per page, weight next to budget, and
exits with status 1 if a page is over its budget (``make benchmark`` runs it after the benchmark).
"""
from __future__ import annotations

import posixpath
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

MB = 1_000_000
BUDGETS = {"book/figures.html": 3 * MB}
DEFAULT_BUDGET = int(1.5 * MB)
SKIP = ("_static/", "_sources/", "_downloads/")


@dataclass
class Weight:
    page: str
    images: int
    bytes: int
    budget: int

    @property
    def over(self) -> bool:
        return self.bytes > self.budget


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.srcs.append(src)


def budget(rel: str) -> int:
    return BUDGETS.get(rel, DEFAULT_BUDGET)


def page_weight(root: Path, page: Path) -> Weight:
    root, page = Path(root), Path(page)
    rel = page.relative_to(root).as_posix()
    p = _Imgs()
    p.feed(page.read_text(encoding="utf-8"))
    files = set()
    for src in p.srcs:
        u = urlsplit(src)
        if u.scheme or u.netloc or src.startswith("data:"):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(u.path)))
        if target.startswith(SKIP) or target.startswith(".."):
            continue
        f = root / target
        if not f.is_file():
            raise FileNotFoundError(f"{rel}: image {src} not found in the build")
        files.add(f)
    return Weight(rel, len(files), sum(f.stat().st_size for f in files), budget(rel))


def weights(root: Path) -> list[Weight]:
    root = Path(root)
    pages = sorted(p for p in root.rglob("*.html")
                   if not p.relative_to(root).as_posix().startswith(SKIP))
    return [page_weight(root, p) for p in pages]


def report(ws: list[Weight]) -> str:
    lines = [f"{'page':48s} {'images':>6s} {'weight':>9s} {'budget':>9s}"]
    for w in ws:
        lines.append(f"{w.page:48s} {w.images:6d} {w.bytes / MB:7.2f} MB {w.budget / MB:6.2f} MB"
                     + ("  OVER BUDGET" if w.over else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    from . import paths

    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else paths.ROOT / "_build" / "html"
    if not (root / "index.html").is_file():
        print(f"error: no built book in {root} (run `make book`)", file=sys.stderr)
        return 2
    ws = weights(root)
    print(report(ws))
    return 1 if any(w.over for w in ws) else 0


if __name__ == "__main__":
    sys.exit(main())
