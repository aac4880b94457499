"""A kernel forked from the executor's zygote (kazdiaspora.kernels) behaves as a kernel started
afresh: same working directory, environment, import path, hash seed and package state, and it is
gone when its notebook is done."""
from __future__ import annotations

import json
import os
import time

import nbformat

from kazdiaspora import execute, kernels

PROBE = r"""
import json, os, sys
print(json.dumps({
    "cwd": os.getcwd(),
    "trace": os.environ.get("KAZDIASPORA_TRACE"),
    "probe": os.environ.get("KAZ_PROBE"),
    "path": sys.path,
    "hash": hash("kazakh diaspora"),
    "package_loaded": sorted(m for m in sys.modules if m.startswith("kazdiaspora")),
    "pid": os.getpid(),
}))
"""


def _run(tmp_path, zygote_sock=None) -> dict:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": execute.KERNEL, "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    extra = {"kernel_manager_class": kernels.kernel_manager_class(zygote_sock)} if zygote_sock else {}
    client = NotebookClient(nb, timeout=120, kernel_name=execute.KERNEL,
                            resources={"metadata": {"path": str(tmp_path)}}, **extra)
    env = dict(execute.kernel_env(), KAZDIASPORA_TRACE=str(tmp_path / "t.trace"), KAZ_PROBE="yes")
    client.execute(env=env)
    return json.loads(nb.cells[0].outputs[0]["text"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers signal 0: look at its state
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def test_a_forked_kernel_is_like_a_fresh_one_and_is_gone_after(tmp_path):
    fresh = _run(tmp_path)
    with kernels.zygote(execute.kernel_env()) as z:
        sock = z.socket()
        forked = _run(tmp_path, sock)
        forked2 = _run(tmp_path, sock)
        for d in (forked, forked2):
            t0 = time.monotonic()
            while _alive(d["pid"]) and time.monotonic() - t0 < 10:
                time.sleep(0.05)
            assert not _alive(d["pid"]), "a kernel outlived its notebook"
    assert forked["pid"] != forked2["pid"], "each notebook has a kernel of its own"
    for key in ("cwd", "trace", "probe", "path", "hash"):
        assert forked[key] == fresh[key], key
    # nothing of the book's package that reads files is imported before the notebook imports it
    assert set(forked["package_loaded"]) <= {"kazdiaspora", "kazdiaspora.startup"}, forked["package_loaded"]
