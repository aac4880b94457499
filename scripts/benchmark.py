"""Benchmark the book's build on this machine (`make benchmark`). Not a test: it prints figures.

Works in a temporary copy of the repository (the working tree is not touched) and measures:

1. pure notebook execution: every notebook executed once, one after another (`--jobs 1`);
2. clean build: no `_build/`, executor (default jobs) + strict `jupyter-book build`;
3. no-change rebuild: the same two commands again;
4. one data file changed: a value in one table changed, the same two commands; which notebooks
   were re-executed is printed (it must be only those that read the file);
6. what an author types: `make book` with nothing changed, after one data file is edited (a note
   added to), and after a value in it is corrected (the value and its text as printed); all with
   Python's default bytecode cache, and the correction once more with PYTHONDONTWRITEBYTECODE when
   the calling shell sets it; then a value corrected in a table of each other chapter
   (:data:`CORRECTIONS`), with the notebooks executed and the figures whose picture changed;
5. peak memory: the largest total resident memory of the build and all its child processes
   (kernels included), sampled from /proc every 0.1 s during every step;
7. the paper edition: every figure at both widths in every format (`python -m kazdiaspora.figures
   paper --force`, figures drawn two at once), then the same command without --force, which must
   redo nothing.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
JB = [PY, "-m", "kazdiaspora.jb"]  # the jupyter-book command as make runs it
CHANGED_FILE = "data/population/estimates.csv"
CORRECTIONS = [
    # (what, file, row id or None for the first row whose value is printed as the plain number)
    ("a figure of the Iran chapter", "data/iran/figures.csv", None),
    ("a repatriation figure", "data/repatriation/figures.csv", None),
    ("a figure of chapter 2's waves, drawn on no map", "data/migration/wave_figures.csv", None),
    ("a figure of chapter 2 drawn on a route map and the timeline", "data/migration/wave_figures.csv",
     "ret_iran_1993_taldykorgan_ehistory"),
]
"""The value corrections timed after the one in :data:`CHANGED_FILE`: one per chapter's tables."""


def correct_value(path: Path, row_id: str | None = None) -> str:
    """Add 1 to a value and to its text as printed (the data checks accept both together); the row's id."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    v, p = rows[0].index("value"), rows[0].index("as_printed")
    if row_id is None:
        row = next(r for r in rows[1:] if r[v] and r[p] == f"{int(float(r[v])):,}")
        row[v] = str(int(float(row[v])) + 1)
        row[p] = f"{int(row[v]):,}"
    else:
        row = next(r for r in rows[1:] if r[0] == row_id)
        old = str(int(float(row[v])))
        if old not in row[p]:
            raise SystemExit(f"{path}: row {row_id}: its text as printed does not hold {old}")
        row[v] = str(int(old) + 1)
        row[p] = row[p].replace(old, row[v], 1)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return row[0]


def drawn_since(repo: Path, t0: float) -> list[str]:
    """The figures whose SVG was written after ``t0`` (drawn again, and not the same picture)."""
    return sorted(p.stem for p in (repo / "figures").glob("*.svg") if p.stat().st_mtime > t0)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Peak:
    def __init__(self):
        self.peak = 0

    def run(self, cmd, cwd, env) -> tuple[float, str]:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = threading.Event()

        def sample():
            while not done.is_set():
                self.peak = max(self.peak, _rss(_descendants(proc.pid)))
                done.wait(0.1)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        out, err = proc.communicate()
        done.set()
        th.join()
        secs = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{out[-3000:]}\n{err[-3000:]}")
        return secs, err


def main() -> int:
    peak = Peak()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", "*.egg-info"))
        env = dict(os.environ, PYTHONPATH=str(repo))
        # Python's default: compiled modules are cached in __pycache__. A shell that sets
        # PYTHONDONTWRITEBYTECODE (this machine's does) makes every process compile the package
        # again; the value correction is measured that way too (below).
        no_bytecode = env.pop("PYTHONDONTWRITEBYTECODE", None)
        execute = [PY, "-m", "kazdiaspora.execute"]
        build = [*JB, "build", ".", "-W", "-n", "--keep-going"]

        t_exec, _ = peak.run([*execute, "--force", "--jobs", "1"], repo, env)
        shutil.rmtree(repo / "_build", ignore_errors=True)
        t1, _ = peak.run(execute, repo, env)
        t2, _ = peak.run(build, repo, env)
        clean = t1 + t2
        t1, _ = peak.run(execute, repo, env)
        t2, _ = peak.run(build, repo, env)
        nochange = t1 + t2
        path = repo / CHANGED_FILE
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        j = rows[0].index("note")
        rows[1][j] = (rows[1][j] + " (benchmark edit)").strip()
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        t1, err = peak.run(execute, repo, env)
        t2, _ = peak.run(build, repo, env)
        onefile = t1 + t2
        reexecuted = [line.split()[1] for line in err.splitlines() if line.startswith("executed ")]

        # what an author types: `make book` (the copy uses this environment's venv)
        make = ["make", "-s", "book", f"VENV={Path(PY).parents[1]}"]
        peak.run(make, repo, env)
        t_make_nochange, _ = peak.run(make, repo, env)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        rows[1][j] = rows[1][j] + " (second benchmark edit)"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        t_make_onefile, err = peak.run(make, repo, env)
        reexecuted_make = [line.split()[1] for line in err.splitlines() if line.startswith("executed ")]
        # a figure corrected: a value and its text as printed (every chapter reads this table's values)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        v, p = rows[0].index("value"), rows[0].index("as_printed")
        row = next(r for r in rows[1:] if r[v] and r[p] == f"{int(float(r[v])):,}")
        row[v] = str(int(float(row[v])) + 1)
        row[p] = f"{int(row[v]):,}"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        t_make_value, err = peak.run(make, repo, env)
        reexecuted_value = [line.split()[1] for line in err.splitlines() if line.startswith("executed ")]
        corrections = []
        for what, rel, row_id in CORRECTIONS:
            rid = correct_value(repo / rel, row_id)
            t0 = time.time()
            t, err = peak.run(make, repo, env)
            corrections.append((what, rel, rid, t, [line.split()[1] for line in err.splitlines()
                                                    if line.startswith("executed ")], drawn_since(repo, t0)))
        t_make_value_nobc = None
        if no_bytecode:  # the same correction again (the value back), each process compiling the package
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
            row = next(r for r in rows[1:] if r[0] == row[0])
            row[v] = str(int(row[v]) - 1)
            row[p] = f"{int(row[v]):,}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            path.write_text(buf.getvalue(), encoding="utf-8")
            t_make_value_nobc, _ = peak.run(make, repo, dict(env, PYTHONDONTWRITEBYTECODE=no_bytecode))

        # the paper edition: all figures x both widths x every format, then nothing changed
        paper = [PY, "-m", "kazdiaspora.figures", "paper", "--outdir", str(Path(tmp) / "paper")]
        t_paper, err = peak.run([*paper, "--force"], repo, env)
        n_paper = err.strip().splitlines()[-1]
        t_paper_again, err = peak.run(paper, repo, env)
        n_paper_again = err.strip().splitlines()[-1]

    print(f"pure notebook execution (serial): {t_exec:6.1f} s")
    print(f"clean build (execute + build):   {clean:6.1f} s  ({clean / t_exec:.2f} x execution; target <= 1.3)")
    print(f"no-change rebuild:               {nochange:6.1f} s  (executor + build run by hand; `make book` skips both)")
    print(f"one data file changed:           {onefile:6.1f} s  ({CHANGED_FILE}; re-executed: {', '.join(reexecuted) or 'none'})")
    print(f"make book, nothing changed:      {t_make_nochange:6.2f} s  (target <= 1.5 s)")
    print(f"make book, one data file edited: {t_make_onefile:6.1f} s  (target <= 10 s; a note edited; re-executed: "
          f"{', '.join(reexecuted_make) or 'none'})")
    print(f"make book, one value corrected:  {t_make_value:6.1f} s  (target <= 10 s; {CHANGED_FILE}; re-executed: "
          f"{', '.join(reexecuted_value) or 'none'})")
    if t_make_value_nobc is not None:
        print(f"  the same, PYTHONDONTWRITEBYTECODE set: {t_make_value_nobc:6.1f} s  (as this shell sets it: every "
              "process compiles the package again)")
    for what, rel, rid, t, ex, drawn in corrections:
        print(f"make book, value corrected:      {t:6.1f} s  (target <= 10 s; {what}: {rel}, row {rid}; "
              f"re-executed: {', '.join(ex) or 'none'}; figures changed: {', '.join(drawn) or 'none'})")
    print(f"paper edition, every figure:     {t_paper:6.1f} s  (target <= 180 s; {n_paper})")
    print(f"paper edition, nothing changed:  {t_paper_again:6.1f} s  ({n_paper_again})")
    print(f"peak memory (build + kernels):   {peak.peak / 2**20:6.0f} MiB (target <= 1536 MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
