"""Kernels for the executor, forked from one process that has already imported the libraries.

Starting a Jupyter kernel costs about 0.8 s on the book's machine (a new Python, ipykernel, IPython),
and a chapter's first cell another 0.4 s importing pandas and matplotlib: more than a second for
each notebook executed, most of what a small chapter takes. The executor therefore starts one
*zygote* (:func:`serve`) that imports ipykernel, IPython, numpy, pandas and matplotlib once, and
each kernel is a fork of it (:class:`ForkKernelManager`).

What a forked kernel shows is what a kernel started afresh shows:

* nothing of this package is imported before the fork, so the package's modules are imported by
  the notebook and what they read at import is recorded (:mod:`kazdiaspora.trace`);
* the child takes the notebook's environment (its trace file), working directory and arguments
  before the kernel starts; the zygote has the executor's fixed hash seed;
* the zygote runs no thread, so no lock is held in the child;
* nbval and JupyterLab use ordinary kernels, and they check the same stored outputs
  (``make test``).

Protocol: the kernel command jupyter_client launches is a small *launcher* (:func:`launch`) that
sends its arguments, environment and directory over a Unix socket; the zygote forks and answers
with the child's pid, and with its exit status when it exits. The launcher relays SIGINT and
SIGTERM to the child; if the launcher dies (killed by jupyter_client), the zygote kills the child.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

PRELOAD = ("ipykernel.kernelapp", "IPython", "numpy", "pandas", "matplotlib", "jsonschema", "yaml")
"""Imported by the zygote before it forks (nothing of this package)."""

_LAUNCHER = r"""
import json, os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"argv": sys.argv[2:], "env": dict(os.environ), "cwd": os.getcwd()}).encode() + b"\n")
f = s.makefile("rb")
pid = int(f.readline())
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda n, _frame: os.kill(pid, n))
line = f.readline()
sys.exit(int(line) if line.strip() else 1)
"""


def _child(req: dict) -> None:
    """In the forked child: become the kernel of ``req`` and never return."""
    code = 1
    try:
        os.setsid()
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        # ipykernel read JPY_PARENT_PID when the zygote imported it: the kernel's parent is the
        # zygote, and it exits when its parent does (as a kernel does whose launcher dies)
        sys.argv = ["ipykernel_launcher", *req["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 — reported, then the child exits
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(sock_path: str) -> None:
    """The zygote: import :data:`PRELOAD`, then fork a kernel for every launcher that connects."""
    # as ipykernel_launcher does: the working directory is not on the import path (IPython adds it
    # back when the kernel starts)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    from .startup import skip_iri_grammars

    skip_iri_grammars()
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    import matplotlib

    matplotlib.use("Agg")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path + ".new")
    srv.listen(16)
    os.replace(sock_path + ".new", sock_path)  # the executor waits for this name
    clients: dict[int, socket.socket] = {}  # child pid -> its launcher's connection

    def stop(_signum, _frame):
        _kill_children(clients)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        ready, _, _ = select.select([srv, *clients.values()], [], [], 0.05)
        while True:  # reap the kernels that exited; tell their launchers
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = clients.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass
                conn.close()
        for conn in ready:
            if conn is srv:
                c, _ = srv.accept()
                req = json.loads(c.makefile("rb").readline())
                pid = os.fork()
                if pid == 0:
                    srv.close()
                    for other in clients.values():
                        other.close()
                    c.close()
                    _child(req)
                c.sendall(f"{pid}\n".encode())
                clients[pid] = c
            else:  # a launcher closed its connection: it was killed, so is its kernel
                if conn.recv(1) == b"":
                    for pid, cc in list(clients.items()):
                        if cc is conn:
                            _kill_children([pid])


def _kill_children(clients) -> None:
    for pid in list(clients):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Zygote:
    """The zygote process, started at once; :meth:`socket` waits until it listens."""

    def __init__(self, env: dict[str, str], timeout: float = 120):
        self.tmp = tempfile.mkdtemp(prefix="kaz-kernels-")
        self.sock = str(Path(self.tmp) / "zygote.sock")
        self.timeout = timeout
        self.proc = subprocess.Popen([sys.executable, "-m", "kazdiaspora.kernels", "serve", self.sock], env=env,
                                     stdin=subprocess.DEVNULL)

    def socket(self) -> str:
        t0 = time.monotonic()
        while not os.path.exists(self.sock):  # bound under another name, renamed once listening
            if self.proc.poll() is not None or time.monotonic() - t0 > self.timeout:
                raise RuntimeError(f"the kernel zygote did not start (exit status {self.proc.poll()})")
            time.sleep(0.01)
        return self.sock

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in Path(self.tmp).iterdir():
            f.unlink()
        os.rmdir(self.tmp)


@contextmanager
def zygote(env: dict[str, str], timeout: float = 120):
    """Start the zygote with ``env`` (the fixed hash seed must be in it); yields it (its socket path
    is :meth:`Zygote.socket`). Its kernels are killed when it stops."""
    z = Zygote(env, timeout)
    try:
        yield z
    finally:
        z.stop()


def kernel_manager_class(sock: str):
    """An AsyncKernelManager class whose kernels are forks of the zygote listening on ``sock``."""
    from jupyter_client import AsyncKernelManager

    class ForkKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            # the kernelspec's `python -m ipykernel_launcher -f {connection_file}`: keep its arguments
            if "ipykernel_launcher" not in cmd:
                raise RuntimeError(f"unexpected kernel command {cmd!r} (expected ipykernel_launcher)")
            args = cmd[cmd.index("ipykernel_launcher") + 1:]
            return [sys.executable, "-I", "-S", "-c", _LAUNCHER, sock, *args]

    return ForkKernelManager


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "serve":
        serve(argv[1])
        return 0
    print("usage: python -m kazdiaspora.kernels serve SOCKET", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
