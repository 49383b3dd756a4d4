"""The process ``tests/warm_cli.py`` forks medval's commands from: it imports every module
a command may load (a command imports its parts where it uses them), then forks one child
per request on its socket and runs nothing itself. It stays single-threaded, so that
forking it is safe, and ends when the test process that started it does.

    python -m tests.warm_cli_zygote SOCKET
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import pkgutil
import signal
import socket
import sys

from tests.cpu_time import process_cpu_seconds

PRELOADED = ("medval.cli", "medval.client", "medval.core", "medval.runner", "medval.trust")


def _preload() -> None:
    for package_name in PRELOADED:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            importlib.import_module(module.name)


def _command(connection: socket.socket) -> None:
    """In the forked child: become ``python -m medval ARGS`` and exit as it would."""
    request = json.loads(connection.makefile("r").readline())
    connection.sendall(f"{os.getpid()}\n".encode())
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    for fd, name, flags in ((0, "stdin", os.O_RDONLY), (1, "stdout", os.O_WRONLY | os.O_CREAT),
                            (2, "stderr", os.O_WRONLY | os.O_CREAT)):  # fmt: skip
        opened = os.open(request[name], flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (the process's own)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    import medval
    from medval.cli.main import main

    sys.argv = [os.path.join(os.path.dirname(medval.__file__), "__main__.py"), *request["args"]]
    code = 1
    try:
        code = main(request["args"])
    finally:
        atexit._run_exitfuncs()  # what the interpreter's own exit would run
        sys.stdout.flush()
        sys.stderr.flush()
        # With the exit code, the CPU the command used (its own, and that of what it
        # started and waited for): the zygote, not the test, is its parent, so the test's
        # CPU account (tests/cpu_time.py) would not see it otherwise.
        connection.sendall(f"{code} {process_cpu_seconds():.3f}\n".encode())
        os._exit(code)


def serve(address: str) -> None:
    _preload()
    parent = os.getppid()
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(address)
    listening.listen(64)
    listening.settimeout(1.0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children reaped as they end
    print("ready", flush=True)
    while os.getppid() == parent:  # the test process is gone: so is this
        try:
            connection, _ = listening.accept()
        except TimeoutError:
            continue
        if os.fork() == 0:
            listening.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a command waits for its own
            connection.settimeout(None)
            _command(connection)
        connection.close()


if __name__ == "__main__":
    serve(sys.argv[1])
