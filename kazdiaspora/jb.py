"""Jupyter Book's command line as the book runs it: ``python -m kazdiaspora.jb build . -W -n --keep-going``.

The same program as the ``jupyter-book`` command, started without the grammar compilation that
:mod:`kazdiaspora.startup` explains (about 1 s of every build). ``make build``, ``make pdf``, the
tests and the benchmark all build through here.

``python -m kazdiaspora.jb book -W -n --keep-going`` is what ``make book`` runs: it checks the data
(``kazdiaspora.data validate``) and executes the notebooks that need it (``kazdiaspora.execute``)
while the build starts at the same time. The build process imports Sphinx and the extensions,
reads the configuration and loads the previous build's environment, then waits (:data:`GATE`)
before it looks at any page: it goes on only when both have succeeded, and stops without building
otherwise. Nothing it has done before the gate depends on what the executor writes (the
notebooks, ``figures/``, ``book/figures.md``): Sphinx finds the pages and compares their times
after the gate. The pages built are the same as a build started after execution (tested:
``tests/test_book.py``); the start-up of the build (about 2.5 s) overlaps the execution.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys

from .startup import skip_iri_grammars

NICE = 10
"""How much lower the build's scheduling priority is than the executor's while it waits at the gate."""

GATE = "KAZDIASPORA_BUILD_GATE"
"""Set to ``stdin`` in a build's environment: Sphinx's build waits for a line on standard input,
``go`` to build, anything else (or end of input) to exit with status 1 without building."""


def _gate_build() -> None:
    """Make :meth:`sphinx.application.Sphinx.build` wait for the gate (see :data:`GATE`)."""
    from sphinx.application import Sphinx

    build = Sphinx.build

    @functools.wraps(build)
    def gated(self, *args, **kwargs):
        if "kazdiaspora.sphinxext" in self.extensions:  # the pages filled from data, made meanwhile
            from . import explorer_sphinx

            explorer_sphinx.warm(self)
        line = sys.stdin.readline().strip()
        if line != "go":
            print("kazdiaspora.jb: the data check or the execution failed; the book is not built",
                  file=sys.stderr, flush=True)
            raise SystemExit(1)
        return build(self, *args, **kwargs)

    Sphinx.build = gated


def _memo_pybtex_plugins() -> None:
    """pybtex looks up a plugin (a style) by scanning every installed package's entry points, on
    each citation the bibliography domain resolves (about 15 ms each, 0.7 s per build). Plugins do
    not change while a build runs: each lookup's answer is kept for the process. A plugin
    registered later (``register_plugin``) empties the memory."""
    import pybtex.plugin as plugin

    if getattr(plugin.find_plugin, "_kaz_memo", False):
        return
    find = plugin.find_plugin
    register = plugin.register_plugin
    memo: dict = {}

    @functools.wraps(find)
    def find_plugin(plugin_group, name=None, filename=None):
        key = (plugin_group, name, filename)
        if key not in memo:
            memo[key] = find(plugin_group, name, filename)
        return memo[key]

    @functools.wraps(register)
    def register_plugin(*args, **kwargs):
        memo.clear()
        return register(*args, **kwargs)

    find_plugin._kaz_memo = True  # type: ignore[attr-defined]
    plugin.find_plugin = find_plugin
    plugin.register_plugin = register_plugin


JOBS = "KAZDIASPORA_BUILD_JOBS"
"""Processes that write the HTML pages (default: 2 where the machine has two processors or more;
``1`` writes them in the build's own process)."""


def _write_in_parallel(jobs: int) -> None:
    """Let Sphinx write the pages in ``jobs`` processes (the build's own resolves each page and
    hands it to a forked writer), and read them in one. Reading stays serial: the environment
    that the book's extensions keep (the generated pages' digests) is not merged back from reading
    processes, and one of Jupyter Book's extensions does not say whether it may be read in
    parallel. The pages written are the same as a serial build's (tested: tests/test_book.py)."""
    import jupyter_book.sphinx as jbs
    from sphinx.application import Sphinx

    if jobs < 2 or getattr(jbs.build_sphinx, "_kaz_jobs", None):
        return
    allowed = Sphinx.is_parallel_allowed

    @functools.wraps(allowed)
    def is_parallel_allowed(self, typ):
        return False if typ == "read" else allowed(self, typ)

    Sphinx.is_parallel_allowed = is_parallel_allowed
    build_sphinx = functools.partial(jbs.build_sphinx, jobs=jobs)
    build_sphinx._kaz_jobs = jobs  # type: ignore[attr-defined]
    jbs.build_sphinx = build_sphinx


def main() -> None:
    skip_iri_grammars()
    if len(sys.argv) > 1 and sys.argv[1] == "book":
        raise SystemExit(book(sys.argv[2:]))
    _memo_pybtex_plugins()
    _write_in_parallel(int(os.environ.get(JOBS) or min(2, os.cpu_count() or 1)))
    if os.environ.get(GATE) == "stdin":
        # the start-up before the gate has time until the last notebook is executed: it yields the
        # processors to the executor and the kernels (after the gate nothing else runs)
        os.nice(NICE)
        _gate_build()
    from jupyter_book.cli.main import main as jupyter_book

    jupyter_book()


def _exit(code) -> None:
    """Leave as ``sys.exit(code)`` would, without the interpreter's tear-down (``python -m
    kazdiaspora.jb`` only; :func:`main` called from Python raises SystemExit): freeing a build's
    objects one by one takes about 0.6 s, and the operating system frees them at once. The exit
    handlers run and the standard streams are flushed first; every file Sphinx writes is closed
    when its build returns."""
    import atexit

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def book(build_flags: list[str], validate_cmd: list[str] | None = None, execute_cmd: list[str] | None = None) -> int:
    """Check the data and execute the notebooks, with the build waiting at the gate meanwhile;
    build when both succeeded. The exit status is the first failure's (data check, execution,
    build). What the build prints is held back until the gate: shown if it builds, left out if
    the data check or the execution failed (their own messages say why; the build's start-up,
    which loads the same data, would only repeat them). The two commands can be replaced (for
    the tests)."""
    import threading

    py = sys.executable
    env = dict(os.environ)
    env.pop(GATE, None)
    build = subprocess.Popen([py, "-m", "kazdiaspora.jb", "build", ".", *build_flags], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**env, GATE: "stdin"})
    held: list[bytes] = []
    state = {"mode": "hold"}
    lock = threading.Lock()

    def relay():
        for line in iter(build.stdout.readline, b""):
            with lock:
                if state["mode"] == "hold":
                    held.append(line)
                elif state["mode"] == "show":
                    sys.stdout.buffer.write(line)
                    sys.stdout.buffer.flush()

    def release(mode: str) -> None:
        with lock:
            state["mode"] = mode
            if mode == "show":
                sys.stdout.buffer.write(b"".join(held))
                sys.stdout.buffer.flush()
            held.clear()

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        validate = subprocess.Popen(validate_cmd or [py, "-m", "kazdiaspora.data", "validate"], env=env)
        execute = subprocess.Popen(execute_cmd or [py, "-m", "kazdiaspora.execute"], env=env)
        rc_execute, rc_validate = execute.wait(), validate.wait()
        ok = rc_execute == 0 and rc_validate == 0
        release("show" if ok else "drop")
        try:
            build.stdin.write(b"go\n" if ok else b"stop\n")
            build.stdin.close()
        except BrokenPipeError:  # the build failed before the gate (its configuration)
            pass
        rc_build = build.wait()
        reader.join()
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    for rc in (rc_validate, rc_execute, rc_build):
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    try:
        main()
        _code = 0
    except SystemExit as _exc:
        _code = _exc.code
    _exit(_code)
