"""``flwr-clientapp`` at a medval site: Flower's real ClientApp, run in medval's sandbox.

Flower's SuperExec starts ``flwr-clientapp --runtime-api-address HOST:PORT --token T ...``
for every message the SuperNode receives, found on its ``PATH``. At a medval site the first
``flwr-clientapp`` on that ``PATH`` is a two-line script in the site's ``bin/`` folder that
runs this module (``python -m medval.training.clientapp_sandbox --site SETTINGS ...``).
It:

1. puts the task's token in a file of a fresh channel folder (never on a command line of
   the sandbox), beside the launch settings, and relays a unix socket there to the
   SuperNode's Runtime API (:class:`~medval.training.channel.Channel`);
2. runs the ClientApp cube (:mod:`medval.training.clientapp_cube`) with the site's runner:
   the launcher inside checks the app's FAB against the pinned hash and starts Flower's
   own ``flwr-clientapp`` with no network but that socket;
3. says how it went in one line to its standard error, which the site reads
   (:data:`EVENT_PREFIX` then JSON, see :mod:`medval.training.site_progress`); what the
   app prints goes to a log file of its own, never to that stream. The channel refuses
   any call a ClientApp does not need (one ``call-refused`` line each) and reads the
   reply the app pushes (:mod:`medval.training.clientapp_reply`): its scalar metrics and
   round are said in a ``reply-metrics`` line, for the site to decide what leaves;
4. exits 0 when the ClientApp finished, non-zero otherwise.

Runtime dependency installation is never asked for at a site; should SuperExec ask, the
launch is refused.

SuperExec starts other commands too, for other kinds of task (``flwr-agentapp``,
``flwr-model``, ``flwr-connector``, ...), found on the same ``PATH``; and a ClientApp may
ask its SuperNode, through the Runtime API, for such a task. Started by Flower, any of them
would run on the host, outside the sandbox. So the site's ``bin/`` holds a stand-in for
each, which runs this module with ``--refuse NAME``: it starts nothing, says one line
(``task-refused``) and exits non-zero. Imports ``core``, ``runner`` and this room's modules.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from medval.core.errors import MedvalError, SandboxError
from medval.runner.interface import TaskFailed
from medval.runner.registry import runner_for
from medval.training.channel import Channel
from medval.training.clientapp_cube import (
    CHANNEL_MOUNT,
    DATA_MOUNT,
    LABELS_MOUNT,
    TASK,
    SiteLaunchSettings,
    clientapp_cube,
)
from medval.training.clientapp_launcher import (
    REFUSAL_PREFIX,
    SETTINGS_FILE,
    SOCKET_FILE,
    TOKEN_FILE,
)
from medval.training.clientapp_reply import ReplyReader
from medval.training.site_progress import EVENT_PREFIX, ProgressKind


def say(kind: ProgressKind, text: str, **details: object) -> None:
    """One event for the site, on this process's standard error."""
    line = json.dumps({"kind": kind.value, "text": text, **details})
    print(f"{EVENT_PREFIX}{line}", file=sys.stderr, flush=True)


def refuse(command: str) -> int:
    """A stand-in for a Flower command other than ``flwr-clientapp``: start nothing."""
    say(
        ProgressKind.TASK_REFUSED,
        f"refused to start {command}: a site runs only ClientApps, each in the sandbox",
    )
    return 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="flwr-clientapp (medval)")
    parser.add_argument("--site", type=Path, required=True)
    # Flower's own, as SuperExec passes them.
    parser.add_argument("--runtime-api-address", required=True)
    token = parser.add_mutually_exclusive_group(required=True)
    token.add_argument("--token")
    token.add_argument("--token-file", type=Path)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--root-certificates")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--allow-runtime-dependency-installation", action="store_true")
    return parser.parse_args(argv)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not a HOST:PORT address: {text!r}")
    return host.strip("[]"), int(port)


@contextlib.contextmanager
def _channel_folder(settings: SiteLaunchSettings, token: str) -> Iterator[Path]:
    """A fresh folder for one launch: the token and the settings the launcher reads.

    Readable by the sandbox user (another uid when medval runs as root), so the site's
    workdir above it is what keeps it from everyone else.
    """
    folder = settings.launches_folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(mode=0o755, parents=True)
    folder.chmod(0o755)
    try:
        token_path = folder / TOKEN_FILE
        token_path.write_text(token)
        token_path.chmod(0o644)
        launch = {"pinned_fab_sha256": settings.pinned_fab_sha256}
        (folder / SETTINGS_FILE).write_text(json.dumps(launch))
        (folder / SETTINGS_FILE).chmod(0o644)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _end_with_parent(parent_pid: int | None) -> None:
    """Flower's own ClientApp ends when its parent does; so does this one (and with it
    the sandbox, which dies with its parent)."""
    if parent_pid is None:
        return

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            except PermissionError:
                pass

    threading.Thread(target=watch, daemon=True).start()


def _on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> int:
    settings = SiteLaunchSettings.read(args.site)
    if args.allow_runtime_dependency_installation:
        say(ProgressKind.CLIENTAPP_FAILED, "refused: a site never installs an app's dependencies")
        return 2
    token = args.token if args.token is not None else args.token_file.read_text().strip()
    host, port = _address(args.runtime_api_address)
    _end_with_parent(args.parent_pid)
    # Flower's own flwr-clientapp runs inside: a container's Python image must hold it.
    runner = runner_for(settings.runner_kind).with_python_packages("flwr")
    settings.logs_folder.mkdir(parents=True, exist_ok=True)
    log_path = (
        settings.logs_folder / f"clientapp-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    )
    reader = ReplyReader()

    def refused(call: str) -> None:
        say(
            ProgressKind.CALL_REFUSED,
            f"refused the ClientApp's call {call}: not one a ClientApp needs",
        )

    with (
        _channel_folder(settings, token) as channel,
        Channel(channel / SOCKET_FILE, host, port, reader, refused),
    ):
        mounts = {DATA_MOUNT: settings.dataset, CHANNEL_MOUNT: channel}
        if settings.labels is not None:
            mounts[LABELS_MOUNT] = settings.labels
        try:
            outcome = runner.run(
                settings.launcher_folder,
                clientapp_cube(settings.labels is not None),
                TASK,
                mounts,
                settings.limits,
                log_path=log_path,
            )
        except SandboxError as failure:
            last = failure.log_tail[-1] if isinstance(failure, TaskFailed) else ""
            if last.startswith(REFUSAL_PREFIX):  # The launcher's line: no app code ran.
                say(ProgressKind.APP_REFUSED, last)
            else:
                # In medval's words only (the app's own are in its log).
                said = failure.verdict or failure.message
                say(
                    ProgressKind.CLIENTAPP_FAILED, f"the ClientApp failed: {said} (log: {log_path})"
                )
            return 1
    say(
        ProgressKind.CLIENTAPP_FINISHED,
        f"the ClientApp finished in {outcome.duration_seconds:.1f} s",
    )
    reply = reader.reply()
    if reply is not None:
        where = "round unknown" if reply.round is None else f"round {reply.round}"
        said = ", ".join(f"{name}={value!r}" for name, value in reply.metrics.items()) or "none"
        say(
            ProgressKind.REPLY_METRICS,
            f"the ClientApp's {reply.message_kind} reply ({where}) reports metrics: {said}",
            message_kind=reply.message_kind,
            round=reply.round,
            metrics=reply.metrics,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--refuse"] and len(arguments) > 1:
        return refuse(arguments[1])
    signal.signal(signal.SIGTERM, _on_term)
    try:
        return run(_arguments(arguments))
    except (MedvalError, ValueError, OSError) as problem:
        text = problem.message if isinstance(problem, MedvalError) else str(problem)
        say(ProgressKind.CLIENTAPP_FAILED, f"the ClientApp could not start: {text}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
