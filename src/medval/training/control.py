"""The SuperLink's Control API, through Flower's own ``flwr`` CLI.

Each call runs ``flwr ... --format json`` against the loopback SuperLink (the connection
``superlink.SuperLink`` writes into its ``FLWR_HOME``) and turns Flower's answer into a
value or one line: ``flwr`` prints ``{"success": false, "error-message": ...}`` and
still exits 0, so the answer, not the exit code, is what is read. Imports ``medval.core``
and ``medval.training`` only.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medval.core.errors import TrainingError
from medval.training.flower_env import FlowerInstall
from medval.training.superlink import CONNECTION_NAME

_TIMEOUT_SECONDS = 60
# Flower's error code for a node key already registered (now or before).
KEY_IN_USE = "[code: 23]"


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
    """The ``flwr`` CLI of one SuperLink (given by its ``FLWR_HOME``)."""

    def __init__(self, flower: FlowerInstall, flwr_home: Path, cwd: Path) -> None:
        self._flower = flower
        self._flwr_home = flwr_home
        self._cwd = cwd

    def argv(self, *arguments: str) -> list[str]:
        return [self._flower.command("flwr"), *arguments]

    @property
    def environment(self) -> dict[str, str]:
        return self._flower.environment(self._flwr_home)

    def register_node(self, public_key: str, name: str) -> int:
        """Register the node key (OpenSSH text) as ``name``; its node id."""
        with tempfile.TemporaryDirectory(prefix="medval-node-") as scratch:
            key_file = Path(scratch) / "node.pub"
            key_file.write_text(public_key + "\n")
            answer = self._call(
                f"registering node {name}",
                "supernode",
                "register",
                str(key_file),
                CONNECTION_NAME,
                "--name",
                name,
            )
        return int(answer["node-id"])

    def unregister_node(self, node_id: int) -> None:
        self._call(
            f"unregistering node {node_id}",
            "supernode",
            "unregister",
            str(node_id),
            CONNECTION_NAME,
        )

    def node_states(self) -> dict[int, str]:
        """Each node the SuperLink knows, by id: ``registered``, ``online``, ``offline``
        or ``unregistered``."""
        answer = self._call("listing nodes", "supernode", "list", CONNECTION_NAME)
        return {int(node["node-id"]): str(node["status"]) for node in answer.get("nodes", [])}

    def run_status(self, run_id: int) -> RunStatus:
        answer = self._call(
            f"reading run {run_id}", "list", CONNECTION_NAME, "--run-id", str(run_id)
        )
        runs = answer.get("runs", [])
        if not runs:
            raise TrainingError(f"the SuperLink knows no run {run_id}")
        run = runs[0]
        return RunStatus(
            run_id=int(run["run-id"]),
            status=str(run["status"]),
            fab_hash=str(run["fab-hash"]),
            details=str(run.get("status-details", "")),
        )

    def stop_run(self, run_id: int) -> None:
        self._call(f"stopping run {run_id}", "stop", str(run_id), CONNECTION_NAME)

    def _call(self, doing: str, *arguments: str) -> dict[str, Any]:
        argv = self.argv(*arguments, "--format", "json")
        try:
            result = subprocess.run(
                argv,
                cwd=self._cwd,
                env=self.environment,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TrainingError(
                f"{doing}: the SuperLink did not answer in {_TIMEOUT_SECONDS} s"
            ) from None
        answer = _json_answer(result.stdout)
        if answer is None:
            raise TrainingError(
                f"{doing}: flwr answered {_one_line(result.stdout + result.stderr)}"
            )
        if not answer.get("success", False):
            reason = _flower_reason(str(answer.get("error-message", "")))
            raise ControlRefused(f"{doing}: the SuperLink refused: {reason}", reason)
        return answer


def _json_answer(stdout: str) -> dict[str, Any] | None:
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        value = json.loads(stdout[start:])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _flower_reason(message: str) -> str:
    # Flower's message starts with "Using SuperLink: ..." lines; the reason comes last.
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith("Using SuperLink")]
    return _one_line(" ".join(meaningful)) if meaningful else "no reason given"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300] or "nothing"
