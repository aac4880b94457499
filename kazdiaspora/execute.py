"""The project's notebook executor: deterministic outputs, re-execution only when inputs changed.

Jupyter Book's own cache does not notice a changed data file, so the book is built with
``execute_notebooks: off`` and this executor runs first (``make book`` does it). For each notebook
in the table of contents it keeps a stamp in ``.exec/<notebook>.json`` (committed with the notebook, so
that a fresh clone knows its committed outputs are current) holding the SHA-256 of every input:

* the notebook's code and Markdown (not its outputs),
* every module of the ``kazdiaspora`` package the notebook imported (listed by a last cell the
  executor adds while executing and removes before writing: :func:`kazdiaspora.trace.record_modules`),
* every project file the notebook read while executing (recorded through
  ``KAZDIASPORA_TRACE``: data tables, ``datapackage.json``, ``references.bib``, map layers); of a
  table loaded with only some columns (``data.load(name, columns=...)``: the evidence of each
  figure's rows, the key numbers, one row's figure), only those columns are hashed, so that an
  edit to another column (a note, say) executes nothing again. Validation reads every table but
  records nothing: a table that fails validation fails the build whatever was executed;
* ``requirements.txt``.

A notebook is executed when it has no stamp or any of these hashes differ; otherwise it is left
alone. After execution the per-cell timing metadata is removed, the kernel's Python patch version
is dropped from the notebook metadata, and the file is written only if its bytes changed, so
executing twice changes no byte.

A figure whose plotted rows and drawing inputs are unchanged is not drawn again while a notebook is
executed (:func:`kazdiaspora.figures.reuse`); ``--force`` executes every notebook and draws every
figure again.

Usage: ``python -m kazdiaspora.execute [--force] [--dry-run] [--jobs N] [NOTEBOOK ...]``
(``--dry-run`` lists what would be executed, and why, without executing anything)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .startup import skip_iri_grammars

skip_iri_grammars()  # before nbformat imports jsonschema

import nbformat  # noqa: E402

from . import paths, trace  # noqa: E402

STAMP_DIR = paths.ROOT / ".exec"
KERNEL = "python3"
TIMEOUT = 600


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def notebook_source_hash(nb) -> str:
    """Hash of what a notebook *is* (cells' type and source, kernel), not what it output."""
    h = hashlib.sha256()
    h.update(json.dumps(nb.metadata.get("kernelspec", {}), sort_keys=True).encode())
    for cell in nb.cells:
        h.update(cell.cell_type.encode() + b"\0" + cell.source.encode() + b"\0")
    return h.hexdigest()


def toc_notebooks() -> list[Path]:
    """Notebooks listed in _toc.yml (only those are part of the book)."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    if toc.get("root"):
        found.insert(0, toc["root"])  # the front page may be a notebook too
    walk(toc)
    out = []
    for f in found:
        p = paths.ROOT / (f if f.endswith(".ipynb") else f + ".ipynb")
        if p.exists():
            out.append(p)
    return out


def stamp_path(nb_path: Path) -> Path:
    return STAMP_DIR / (nb_path.stem + ".json")


RECORD_MODULES = ("import sys as _sys\n"
                  "_figs = _sys.modules.get('kazdiaspora.figures')\n"
                  "if _figs is not None:\n"
                  "    _figs.wait_drawn()\n"
                  "from kazdiaspora import trace as _trace\n"
                  "_trace.record_modules()")
"""The last cell added while executing: wait for the figures drawn meanwhile
(``kazdiaspora.figures.DRAW_AHEAD``; a notebook that imported no figure code drew none and does not
import it now), then record which of the package's modules the notebook imported."""


def current_inputs(nb_path: Path, recorded: list[str]) -> dict[str, str]:
    files = {}
    req = paths.ROOT / "requirements.txt"
    if req.exists():
        files["requirements.txt"] = sha256(req)
    files.update(trace.digests(recorded, paths.ROOT))
    return files


def is_stale(nb_path: Path) -> tuple[bool, str]:
    sp = stamp_path(nb_path)
    if not sp.exists():
        return True, "never executed here"
    stamp = json.loads(sp.read_text())
    nb = nbformat.read(nb_path, as_version=4)
    if stamp.get("notebook") != notebook_source_hash(nb):
        return True, "notebook changed"
    if stamp.get("output_sha") != sha256(nb_path):
        return True, "notebook outputs differ from the last execution"
    now = current_inputs(nb_path, stamp.get("read", []))
    changed = sorted(k for k in set(now) | set(stamp["inputs"]) if now.get(k) != stamp["inputs"].get(k))
    if changed:
        return True, "changed: " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
    return False, "up to date"


def normalise(nb) -> None:
    """Remove what changes from run to run without the content changing."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)
    li = nb.metadata.get("language_info")
    if li is not None:
        li.pop("version", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL}


def kernel_env() -> dict[str, str]:
    """The environment of every kernel: a fixed hash seed, the Agg backend."""
    return dict(os.environ, PYTHONHASHSEED="0", MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1")


def execute(nb_path: Path, redraw: bool = False, zygote: str | None = None) -> float:
    """Execute one notebook in place; returns seconds taken. Raises on a failing cell.
    ``redraw``: draw every figure again, even one whose inputs are unchanged (``--force``);
    ``zygote``: the socket of a kernel zygote (:mod:`kazdiaspora.kernels`) to fork the kernel from."""
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    nb = nbformat.read(nb_path, as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name") != KERNEL:
        raise RuntimeError(f"{nb_path.relative_to(paths.ROOT)}: kernelspec must be '{KERNEL}'")
    with tempfile.NamedTemporaryFile("w", suffix=".trace", delete=False) as tf:
        trace_file = tf.name
    # the trace file; figures drawn again are drawn while the notebook goes on (kazdiaspora.figures.DRAW_AHEAD)
    env = dict(kernel_env(), **{trace.ENV: trace_file, "KAZDIASPORA_DRAW_AHEAD": "1"})
    if redraw:
        env["KAZDIASPORA_REDRAW"] = "1"  # kazdiaspora.figures.REDRAW
    try:
        nb.cells.append(nbformat.v4.new_code_cell(RECORD_MODULES))
        extra = {}
        if zygote is not None:
            from .kernels import kernel_manager_class

            extra["kernel_manager_class"] = kernel_manager_class(zygote)
        client = NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL, record_timing=False,
                                allow_errors=False, resources={"metadata": {"path": str(nb_path.parent)}}, **extra)
        # the kernel gets this environment: trace file, fixed hash seed
        client.execute(env=env)
        nb.cells.pop()
        read = trace.entries(Path(trace_file).read_text(encoding="utf-8"), paths.ROOT)
    finally:
        os.unlink(trace_file)
    if "kazdiaspora/__init__.py" not in read:
        raise RuntimeError(f"{nb_path.relative_to(paths.ROOT)}: no module of the package was recorded "
                           "(the notebook must import kazdiaspora, and the package be the project's own)")
    normalise(nb)
    text = nbformat.writes(nb) + "\n"
    if not nb_path.exists() or nb_path.read_text(encoding="utf-8") != text:
        nb_path.write_text(text, encoding="utf-8")
    STAMP_DIR.mkdir(parents=True, exist_ok=True)
    stamp = {"notebook": notebook_source_hash(nb), "output_sha": sha256(nb_path), "read": read,
             "inputs": current_inputs(nb_path, read)}
    stamp_path(nb_path).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kazdiaspora.execute", description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in _toc.yml")
    ap.add_argument("--force", action="store_true",
                    help="execute even if up to date, and draw every figure again")
    ap.add_argument("--dry-run", action="store_true", help="say which notebooks would be executed, execute none")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="notebooks at once")
    args = ap.parse_args(argv)
    if args.dry_run:
        return _run(args, None)
    from .kernels import zygote

    with zygote(kernel_env()) as z:  # started at once: it imports the libraries while we look
        return _run(args, z)


def _run(args, z) -> int:
    nbs = [p.resolve() for p in args.notebooks] or toc_notebooks()
    todo = []
    for nb in nbs:
        stale, why = (True, "forced") if args.force else is_stale(nb)
        print(f"{nb.relative_to(paths.ROOT)}: {why}", file=sys.stderr)
        if stale:
            todo.append(nb)
    if args.dry_run:
        for nb in todo:
            print(f"would execute {nb.relative_to(paths.ROOT)}", file=sys.stderr)
        return 0
    if not todo:
        _write_figures_page()
        return 0
    took = _last_times()
    # the longest first (as long as the last time here, else by size), so that two at once finish together
    todo.sort(key=lambda nb: (-took.get(str(nb.relative_to(paths.ROOT)), nb.stat().st_size / 1e5), str(nb)))

    def run(nb: Path):
        try:
            secs = execute(nb, redraw=args.force, zygote=sock)
            print(f"executed {nb.relative_to(paths.ROOT)} in {secs:.1f} s", file=sys.stderr)
            took[str(nb.relative_to(paths.ROOT))] = round(secs, 1)
            return None
        except Exception as exc:  # report every failing notebook, then fail
            stamp_path(nb).unlink(missing_ok=True)
            return f"{nb.relative_to(paths.ROOT)}: execution failed:\n{exc}"

    sock = z.socket()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        errors = [e for e in pool.map(run, todo) if e]
    for e in errors:
        print(e, file=sys.stderr)
    _save_times(took)
    _write_figures_page()
    return 1 if errors else 0


TIMES = paths.BUILD_DIR / "execution-times.json"
"""Seconds each notebook took when last executed here (not committed: it orders the next run)."""


def _last_times() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(TIMES.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _save_times(took: dict[str, float]) -> None:
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    TIMES.write_text(json.dumps(took, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _write_figures_page() -> None:
    """The notebooks export their figures; the Figures and data page lists what was exported."""
    from .figpage import write_page

    if write_page():
        print("updated book/figures.md", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
