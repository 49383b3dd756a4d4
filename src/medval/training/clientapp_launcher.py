"""Inside the sandbox: the ClientApp's one channel to the SuperNode, and the app's check.

This file runs inside medval's sandbox, as the task of the site's ClientApp cube
(:mod:`medval.training.clientapp_cube` copies it there as ``launcher.py``). It imports
only the standard library, ``h11`` and Flower's own protobuf classes: never medval, which
the sandbox does not hold.

The sandbox has no network but its own loopback. The launcher listens there, at the
address the ClientApp is told is the SuperNode's Runtime API, and carries each HTTP
exchange to the unix socket that medval binds into the sandbox (the site relays that
socket to the real SuperNode outside). Then it starts Flower's own ClientApp runtime
(what ``flwr-clientapp`` runs), whose only way out is this relay.

Why the app is checked here. Flower's ClientApp process asks the SuperNode for its task
(``/v1/runtime/pull-task-input``: the message's run, its context and the app bundle, the
FAB), unpacks the FAB and imports the app's code, all in one function. The FAB is the
aggregator's to choose: a training owner could start any app on the SuperLink, and the
SuperNode would hand it on. Outside the sandbox medval cannot look at it first: the task
can be pulled once only (the pull starts it), and the token to pull it belongs to this one
ClientApp. Inside Flower's function there is no seam before the import. So the launcher,
which every byte of that answer passes through, reads the FAB in it, and forwards the
answer only if the FAB's sha256 is the one the experiment pins. If it is not, the
ClientApp never receives it: the launcher kills it, says one line and exits with
:data:`REFUSED`; no line of the app's code was ever in the sandbox. Flower's SuperNode
then reports the message as failed to the aggregator when the task's heartbeat lapses.
An answer the launcher cannot read (not protobuf, compressed) is refused the same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import h11
from flwr.proto.runtime_pb2 import PullTaskInputResponse
from google.protobuf.message import DecodeError

# The address the ClientApp is given: the sandbox's own loopback, which nothing else uses.
LISTEN_HOST = "127.0.0.1"
LISTEN_PORT = 9094
# Files medval puts in the channel folder.
SOCKET_FILE = "runtime.sock"
TOKEN_FILE = "token"
SETTINGS_FILE = "launch.json"
# Where Flower installs the FAB and keeps its state: the sandbox's own fresh /tmp.
FLWR_HOME = "/tmp/flwr-home"
# Exit status when the app was refused (its first line says why).
REFUSED = 3
REFUSAL_PREFIX = "medval refused the training app"
_PULL_TASK_INPUT = b"/v1/runtime/pull-task-input"
_CHUNK = 1 << 16


class FabGate:
    """Lets the task's answer through only when its FAB is the pinned one."""

    def __init__(self, pinned_sha256: str, on_refusal: Callable[[], None]) -> None:
        self.pinned = pinned_sha256
        self.on_refusal = on_refusal
        self.refusal: str | None = None
        self._lock = threading.Lock()

    def admit(self, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
        """Whether the answer to a pull of the task input may reach the ClientApp."""
        encoding = dict(headers).get(b"content-encoding", b"identity").strip().lower()
        if encoding != b"identity":
            return self.refuse(
                f"the task's answer is encoded ({encoding.decode(errors='replace')})"
            )
        answer = PullTaskInputResponse()
        try:
            answer.ParseFromString(body)
        except DecodeError:
            return self.refuse("the task's answer is not a Flower task input")
        actual = hashlib.sha256(answer.fab.content).hexdigest()
        if actual != self.pinned:
            return self.refuse(
                f"its FAB has sha256 {actual}, but the experiment pins {self.pinned}"
            )
        return True

    def refuse(self, reason: str) -> bool:
        with self._lock:
            if self.refusal is None:
                self.refusal = f"{REFUSAL_PREFIX} before running it: {reason}"
        self.on_refusal()
        return False

    @property
    def closed(self) -> bool:
        return self.refusal is not None


def _next_event(connection: h11.Connection, peer: socket.socket) -> object:
    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        connection.receive_data(peer.recv(_CHUNK))


def _exchange(
    client: socket.socket,
    upstream: socket.socket,
    down: h11.Connection,
    up: h11.Connection,
    gate: FabGate,
) -> bool:
    """Carry one request and its answer; False when the connection is over."""
    event = _next_event(down, client)
    if not isinstance(event, h11.Request):
        return False
    checked = event.target == _PULL_TASK_INPUT
    upstream.sendall(up.send(event) or b"")
    while not isinstance(event, h11.EndOfMessage):
        event = _next_event(down, client)
        if not isinstance(event, h11.Data | h11.EndOfMessage):
            return False
        upstream.sendall(up.send(event) or b"")
    head: h11.Response | None = None
    held: list[bytes] = []
    while True:
        event = _next_event(up, upstream)
        if isinstance(event, h11.InformationalResponse):
            client.sendall(down.send(event) or b"")
        elif isinstance(event, h11.Response):
            head = event
            if not (checked and event.status_code == 200):
                client.sendall(down.send(event) or b"")
        elif isinstance(event, h11.Data):
            if checked and head is not None and head.status_code == 200:
                held.append(bytes(event.data))
            else:
                client.sendall(down.send(h11.Data(data=bytes(event.data))) or b"")
        elif isinstance(event, h11.EndOfMessage):
            break
        else:
            return False
    if checked and head is not None and head.status_code == 200:
        body = b"".join(held)
        if gate.closed or not gate.admit(list(head.headers), body):
            return False
        client.sendall(down.send(head) or b"")
        client.sendall(down.send(h11.Data(data=body)) or b"")
    client.sendall(down.send(h11.EndOfMessage()) or b"")
    both = (down.our_state, down.their_state, up.our_state, up.their_state)
    if any(state is not h11.DONE for state in both):
        return False
    down.start_next_cycle()
    up.start_next_cycle()
    return True


def _relay(client: socket.socket, socket_path: Path, gate: FabGate) -> None:
    """One connection of the ClientApp, carried to the SuperNode exchange by exchange."""
    with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
        try:
            upstream.connect(str(socket_path))
            down, up = h11.Connection(h11.SERVER), h11.Connection(h11.CLIENT)
            while not gate.closed and _exchange(client, upstream, down, up, gate):
                pass
        except (OSError, h11.ProtocolError):
            return


def _serve(listener: socket.socket, socket_path: Path, gate: FabGate) -> None:
    while not gate.closed:
        client, _ = listener.accept()
        if gate.closed:
            client.close()
            break
        threading.Thread(target=_relay, args=(client, socket_path, gate), daemon=True).start()


# Flower's ClientApp runtime, run by this Python (a container's Python image holds the
# installed packages but not the virtual environment's scripts): what Flower's
# ``flwr-clientapp`` command runs once it has read its arguments, given the same ones
# (plain HTTP on the sandbox's own loopback, which nothing else can reach; the token from
# its file; this process as the parent to outlive). Not the command itself: its module is
# imported through ``flwr.supernode.cli``, whose package imports the whole SuperNode too,
# about 0.9 s of CPU more for each ClientApp, that is for each message.
_CLIENTAPP = """import sys
from pathlib import Path
from flwr.supernode.runtime.run_clientapp import run_clientapp
address, token_file, parent = sys.argv[1:]
token = Path(token_file).read_text(encoding="utf-8").strip()
if not token:
    sys.exit("the token file holds no token")
run_clientapp(runtime_api_address=address, token=token, insecure=True, parent_pid=int(parent))
"""


def _clientapp_command(token_file: Path) -> list[str]:
    address = f"{LISTEN_HOST}:{LISTEN_PORT}"
    return [sys.executable, "-c", _CLIENTAPP, address, str(token_file), str(os.getpid())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    # The prepared labels' mount, when the site shows them apart (the app is told where).
    parser.add_argument("--labels", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = json.loads((args.channel / SETTINGS_FILE).read_text())
    child: subprocess.Popen[bytes] | None = None

    def stop_clientapp() -> None:
        if child is not None and child.poll() is None:
            child.kill()

    gate = FabGate(str(settings["pinned_fab_sha256"]), stop_clientapp)
    listener = socket.create_server((LISTEN_HOST, LISTEN_PORT))
    server = threading.Thread(
        target=_serve, args=(listener, args.channel / SOCKET_FILE, gate), daemon=True
    )
    server.start()
    environment = dict(os.environ)
    environment.update(
        {"FLWR_HOME": FLWR_HOME, "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1"}
    )
    child = subprocess.Popen(_clientapp_command(args.channel / TOKEN_FILE), env=environment)
    if gate.closed:  # Refused before the ClientApp was even known here.
        stop_clientapp()
    code = child.wait()
    if gate.refusal is not None:
        print(gate.refusal, file=sys.stderr, flush=True)
        return REFUSED
    return code


if __name__ == "__main__":
    sys.exit(main())
