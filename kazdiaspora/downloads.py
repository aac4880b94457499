"""The whole data package as one deterministic zip: tables, datapackage.json, references.bib, READMEs, licences.

Entries are sorted, dated 1980-01-01 00:00, with fixed permissions, so building the zip twice from
the same files gives the same bytes. ``python -m kazdiaspora.downloads [OUT]`` writes it; the book
build writes it to ``_build/html/kazakh-diaspora-data.zip`` (see :mod:`kazdiaspora.explorer_sphinx`).
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from . import paths

ZIP_NAME = "kazakh-diaspora-data.zip"
PREFIX = "kazakh-diaspora-data/"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
TOP_FILES = ("references.bib", "LICENSE", "LICENSE-CONTENT.md", "CITATION.cff")


def members(root: Path | None = None) -> list[tuple[str, Path]]:
    """(name in the zip, file) for every file of the package, sorted by name."""
    root = Path(root or paths.ROOT)
    out = []
    for p in sorted((root / "data").rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            out.append((PREFIX + p.relative_to(root).as_posix(), p))
    for name in TOP_FILES:
        p = root / name
        if p.exists():
            out.append((PREFIX + name, p))
    return sorted(out)


def build(out: Path, root: Path | None = None) -> Path:
    """Write the zip to ``out`` (only if its bytes change); return ``out``."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, p in members(root):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            z.writestr(info, p.read_bytes())
    blob = buf.getvalue()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_bytes() != blob:
        out.write_bytes(blob)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else paths.BUILD_DIR / ZIP_NAME
    print(build(target))
