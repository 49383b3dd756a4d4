"""The SuperLink's Control API, called in this process with Flower's own client.

Each call goes to the loopback SuperLink over the connection ``superlink.SuperLink``
(or the simulation's SuperLink) writes into its ``FLWR_HOME`` for the ``flwr`` CLI
(``config.toml``: the address, and its CA or ``insecure``), through Flower's
``ControlHttpClient`` (protobuf over HTTP, as ``flwr`` sends it, with the same headers).
Not the ``flwr`` command: each of those is a new Python process that imports Flower
(about 1.4 s of CPU), and an aggregator makes one call per site and per run. Flower's
refusals come back in Flower's own words, made by the function ``flwr`` uses for them
(``[code: N] message``). ``flwr run`` still runs as the command (``training_run``
follows its output), so ``argv`` and ``environment`` are here for it. Imports
``medval.core`` and ``medval.training`` only (Flower inside the calls: it is an
optional extra).
"""

from __future__ import annotations

import ssl
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from medval.core.errors import TrainingError
from medval.training.ca import node_public_key_pem
from medval.training.flower_env import FlowerInstall
from medval.training.superlink import CONNECTION_NAME

if TYPE_CHECKING:
    from flwr.supercore.control import ControlHttpClient

_TIMEOUT_SECONDS = 60
# Flower's error code for a node key already registered (now or before).
KEY_IN_USE = "[code: 23]"
# What the SuperLink is told about its caller: the component name Flower's own CLI gives.
_COMPONENT = "flwr CLI"

Answer = TypeVar("Answer")


class ControlRefused(TrainingError):
    """The SuperLink refused a Control API call; ``reason`` is Flower's own words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RunStatus:
    run_id: int
    status: str  # Flower's "status:sub-status", e.g. "finished:completed"
    fab_hash: str
    details: str


class Control:
    """The Control API of one SuperLink (given by its ``FLWR_HOME``)."""

    def __init__(self, flower: FlowerInstall, flwr_home: Path) -> None:
        self._flower = flower
        self._flwr_home = flwr_home

    def argv(self, *arguments: str) -> list[str]:
        """The ``flwr`` command with ``arguments`` (for ``flwr run``)."""
        return [self._flower.command("flwr"), *arguments]

    @property
    def environment(self) -> dict[str, str]:
        return self._flower.environment(self._flwr_home)

    def register_node(self, public_key: str, name: str) -> int:
        """Register the node key (OpenSSH text) as ``name``; its node id."""
        from flwr.proto.control_pb2 import RegisterNodeRequest

        key = node_public_key_pem(public_key)
        response = self._call(
            f"registering node {name}",
            lambda client: client.RegisterNode(RegisterNodeRequest(public_key=key, name=name)),
        )
        if not response.node_id:
            raise TrainingError(f"registering node {name}: the SuperLink gave no node id")
        return int(response.node_id)

    def unregister_node(self, node_id: int) -> None:
        from flwr.proto.control_pb2 import UnregisterNodeRequest

        self._call(
            f"unregistering node {node_id}",
            lambda client: client.UnregisterNode(UnregisterNodeRequest(node_id=node_id)),
        )

    def node_states(self) -> dict[int, str]:
        """Each node the SuperLink knows, by id: ``registered``, ``online``, ``offline``
        or ``unregistered`` (as ``flwr supernode list`` shows them, without the deleted)."""
        from flwr.proto.control_pb2 import ListNodesRequest

        response = self._call("listing nodes", lambda client: client.ListNodes(ListNodesRequest()))
        return {
            int(node.node_id): str(node.status)
            for node in response.nodes_info
            if node.status != "deleted"
        }

    def run_status(self, run_id: int) -> RunStatus:
        from flwr.proto.control_pb2 import ListRunsRequest

        response = self._call(
            f"reading run {run_id}",
            lambda client: client.ListRuns(ListRunsRequest(run_id=run_id)),
        )
        run = response.run_dict.get(run_id)
        if run is None:
            raise TrainingError(f"the SuperLink knows no run {run_id}")
        status = run.status
        return RunStatus(
            run_id=int(run.run_id),
            # As ``flwr list`` writes it: the sub-status after a colon, when there is one.
            status=f"{status.status}:{status.sub_status}" if status.sub_status else status.status,
            fab_hash=str(run.fab_hash),
            details=str(status.details or "N/A"),
        )

    def stop_run(self, run_id: int) -> None:
        from flwr.proto.control_pb2 import StopRunRequest

        response = self._call(
            f"stopping run {run_id}",
            lambda client: client.StopRun(StopRunRequest(run_id=run_id)),
        )
        if not response.success:
            reason = f"run {run_id} could not be stopped"
            raise ControlRefused(f"stopping run {run_id}: the SuperLink refused: {reason}", reason)

    def _call(self, doing: str, call: Callable[[ControlHttpClient], Answer]) -> Answer:
        import click
        import httpx
        from flwr.cli.utils import flwr_cli_exc_handler

        client = self._client(doing)
        try:
            # Flower's own translation of an HTTP error into its words, as flwr prints it.
            with flwr_cli_exc_handler():
                return call(client)
        except click.ClickException as error:
            cause = error.__context__
            if isinstance(cause, httpx.TimeoutException):
                raise TrainingError(
                    f"{doing}: the SuperLink did not answer in {_TIMEOUT_SECONDS} s"
                ) from None
            if isinstance(cause, httpx.RequestError):
                raise TrainingError(
                    f"{doing}: the SuperLink cannot be reached ({_one_line(str(cause))})"
                ) from None
            reason = _one_line(error.message)
            raise ControlRefused(f"{doing}: the SuperLink refused: {reason}", reason) from None
        except ValueError as error:  # Flower's client: not a protobuf answer
            raise TrainingError(
                f"{doing}: the SuperLink answered {_one_line(str(error))}"
            ) from None
        finally:
            client.close()

    def _client(self, doing: str) -> ControlHttpClient:
        from flwr.cli.cli_client_interceptor import CliClientHttpInterceptor
        from flwr.supercore.control import ControlHttpClient
        from flwr.supercore.interceptors.http.runtime_version import (
            RuntimeVersionHttpInterceptor,
        )

        address, verify = self._connection(doing)
        return ControlHttpClient(
            f"{'https' if verify else 'http'}://{address}",
            interceptors=[CliClientHttpInterceptor(), RuntimeVersionHttpInterceptor(_COMPONENT)],
            verify=verify,
            timeout=_TIMEOUT_SECONDS,
        )

    def _connection(self, doing: str) -> tuple[str, ssl.SSLContext | bool]:
        """The SuperLink's address, and how to check its certificate (``False``: plain
        HTTP), from the connection written for the ``flwr`` CLI."""
        path = self._flwr_home / "config.toml"
        try:
            connection = tomllib.loads(path.read_text())["superlink"][CONNECTION_NAME]
            address = str(connection["address"])
            if connection.get("insecure") is True:
                return address, False
            return address, ssl.create_default_context(cafile=connection["root-certificates"])
        except (OSError, ValueError, KeyError, TypeError, ssl.SSLError):
            raise TrainingError(
                f"{doing}: {path} names no SuperLink {CONNECTION_NAME} with its CA"
            ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300] or "nothing"
