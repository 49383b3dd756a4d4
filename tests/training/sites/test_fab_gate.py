"""The launcher's gate, alone: the task's answer passes only with the pinned FAB in it."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from flwr.proto.fab_pb2 import Fab
from flwr.proto.runtime_pb2 import PullTaskInputResponse

from medval.training.clientapp_launcher import REFUSAL_PREFIX, FabGate

pytestmark = pytest.mark.flower

APP = b"PK\x03\x04 the pinned app"
PIN = hashlib.sha256(APP).hexdigest()
OTHER_APP = b"PK\x03\x04 another app"
PROTOBUF = [(b"content-type", b"application/protobuf")]


def answer(content: bytes) -> bytes:
    return PullTaskInputResponse(fab=Fab(content=content)).SerializeToString()


class Refusals:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_the_pinned_fab_passes() -> None:
    refusals = Refusals()
    gate = FabGate(PIN, refusals)
    assert gate.admit(PROTOBUF, answer(APP))
    assert (gate.refusal, gate.closed, refusals.count) == (None, False, 0)


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        (
            PROTOBUF,
            answer(OTHER_APP),
            f"its FAB has sha256 {hashlib.sha256(OTHER_APP).hexdigest()}, "
            f"but the experiment pins {PIN}",
        ),
        (PROTOBUF, b"\xff\xff\xff", "the task's answer is not a Flower task input"),
        (
            [*PROTOBUF, (b"content-encoding", b"gzip")],
            gzip.compress(answer(APP), mtime=0),  # the same bytes on every xdist worker
            "the task's answer is encoded (gzip)",
        ),
    ],
    ids=["another-app", "not-a-task-input", "gzip-encoded"],
)
def test_anything_else_is_refused_once_and_for_all(
    headers: list[tuple[bytes, bytes]], body: bytes, reason: str
) -> None:
    refusals = Refusals()
    gate = FabGate(PIN, refusals)
    assert not gate.admit(headers, body)
    assert gate.refusal == f"{REFUSAL_PREFIX} before running it: {reason}"
    assert gate.closed
    assert refusals.count == 1
