"""`make lab` starts JupyterLab on the chapters with the book's kernel (checked headless).

The test runs the real target with `--no-browser` on a free loopback port, polls the server's
/api/status (bounded), asks which kernels it offers and which notebooks it sees, starts the
default kernel and checks it is the book's environment, then stops the server it started.
Executing each notebook in a kernel and comparing with the stored outputs (what "Run all" in
JupyterLab does) is done by `pytest --nbval` over notebooks/ (see pyproject.toml), and byte for
byte by tests/test_book.py; it is not repeated here.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kazdiaspora import paths

TOKEN = "kazdiaspora-lab-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(base, path, method="GET", body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read() or b"null")


@pytest.mark.slow
def test_make_lab_starts_headless_on_the_chapters_with_the_books_kernel(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --IdentityProvider.token={TOKEN}"
    log = open(tmp_path / "lab.log", "w+")
    # -o: never reinstall the venv from inside the test (it may run offline)
    proc = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "lab", f"LAB_ARGS={args}"],
                            cwd=paths.ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime")))
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = _get(base, "/api/status")[1]
                break
            except OSError:
                time.sleep(0.5)
        log.seek(0)
        assert status is not None, f"JupyterLab did not answer within 90 s:\n{log.read()[-3000:]}"
        assert "started" in status

        code, specs = _get(base, "/api/kernelspecs")
        assert specs["default"] == "python3"
        argv = specs["kernelspecs"]["python3"]["spec"]["argv"]
        assert Path(argv[0]).resolve() == Path(sys.executable).resolve(), \
            f"the python3 kernel runs {argv[0]}, not the book's environment {sys.executable}"

        _, listing = _get(base, "/api/contents/notebooks")
        names = {c["name"] for c in listing["content"]}
        assert {p.name for p in paths.NOTEBOOKS_DIR.glob("*.ipynb")} <= names

        code, kernel = _get(base, "/api/kernels", "POST", {"name": "python3"})
        assert code == 201 and kernel["name"] == "python3"
        _get(base, f"/api/kernels/{kernel['id']}", "DELETE")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
