"""What a ClientApp sends back, read on its way out: the reply's scalar metrics and round.

Flower 1.42's ClientApp pushes its reply to the SuperNode in pieces, over the Runtime API
(protobuf over HTTP/1.1, see :mod:`medval.training.channel`):

- ``/v1/runtime/push-messages`` (a ``PushAppMessagesRequest``) carries the message without
  its content: its metadata (``message_type``: ``train``, ``evaluate`` or ``query``; its
  ``group_id``) and its object tree (the message, its RecordDict, each record...);
- ``/v1/runtime/push-object`` (a ``PushObjectRequest``), one per object of that tree: the
  RecordDict (a JSON map of record names to object ids), each MetricRecord, each array chunk.

The round is not in the reply. Flower 1.42's strategies (``flwr.serverapp.strategy``) put
it in the ConfigRecord they send, as ``server-round``, and leave the group id empty; its
older workflows set the group id to the round. So the reader also looks at what the app
pulls (``/v1/runtime/pull-object``, a ``PullObjectResponse``): the first ConfigRecord
holding an integer ``server-round`` gives the round, else a numeric group id does.

A reader is fed the bodies as the channel sees them, for one ClientApp (one message);
a body it cannot read is skipped (the SuperNode, not medval, decides what is valid).
Imports Flower's own classes and the standard library only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from flwr.app import ConfigRecord, MetricRecord, RecordDict
from flwr.proto.message_pb2 import (
    ObjectTree,
    PullObjectResponse,
    PushObjectRequest,
)
from flwr.proto.runtime_pb2 import PushAppMessagesRequest
from flwr.supercore.inflatable.inflatable_object import (
    get_object_body,
    get_object_head_values_from_object_content,
    get_object_id,
)
from google.protobuf.message import DecodeError

PULL_OBJECT = "/v1/runtime/pull-object"
PUSH_OBJECT = "/v1/runtime/push-object"
PUSH_MESSAGES = "/v1/runtime/push-messages"
ROUND_KEY = "server-round"
NUM_EXAMPLES = "num-examples"
# The objects of a reply worth keeping: a record dict and its metric records are small.
_KEPT_TYPES = frozenset({"RecordDict", "MetricRecord"})

Number = int | float


@dataclass(frozen=True)
class ClientAppReply:
    """A reply's kind (``train``, ``evaluate``...), its round when known, and the scalar
    metrics of its MetricRecords (by name, as the app named them)."""

    message_kind: str
    round: int | None
    metrics: dict[str, Number]

    @property
    def num_examples(self) -> Number | None:
        return self.metrics.get(NUM_EXAMPLES)


class ReplyReader:
    """Reads one ClientApp's exchanges (thread-safe: each connection has its thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._round: int | None = None
        self._kind: str | None = None
        self._group_id = ""
        self._tree: ObjectTree | None = None
        self._objects: dict[str, bytes] = {}

    def wants(self, target: str) -> bool:
        """Whether the body of a call to ``target`` (request or answer) is read."""
        return target in {PULL_OBJECT, PUSH_OBJECT, PUSH_MESSAGES}

    def read_request(self, target: str, body: bytes) -> None:
        try:
            if target == PUSH_MESSAGES:
                self._pushed_messages(PushAppMessagesRequest.FromString(body))
            elif target == PUSH_OBJECT:
                self._pushed_object(PushObjectRequest.FromString(body).object_content)
        except (DecodeError, ValueError):
            return

    def read_answer(self, target: str, body: bytes) -> None:
        if target != PULL_OBJECT:
            return
        try:
            self._pulled_object(PullObjectResponse.FromString(body).object_content)
        except (DecodeError, ValueError, KeyError, TypeError):
            return

    def _pulled_object(self, content: bytes) -> None:
        if not content or _object_type(content) != "ConfigRecord":
            return
        value = ConfigRecord.inflate(content).get(ROUND_KEY)
        if isinstance(value, int) and not isinstance(value, bool):
            with self._lock:
                if self._round is None:
                    self._round = value

    def _pushed_messages(self, request: PushAppMessagesRequest) -> None:
        if not request.messages_list or not request.message_object_trees:
            return
        metadata = request.messages_list[0].metadata
        with self._lock:
            self._kind = str(metadata.message_type)
            self._group_id = str(metadata.group_id)
            self._tree = request.message_object_trees[0]

    def _pushed_object(self, content: bytes) -> None:
        if content and _object_type(content) in _KEPT_TYPES:
            with self._lock:
                self._objects[get_object_id(content)] = content

    def reply(self) -> ClientAppReply | None:
        """The reply pushed so far, or None when no message was pushed."""
        with self._lock:
            if self._kind is None or self._tree is None:
                return None
            round_number = self._round
            if round_number is None and self._group_id.isdigit():
                round_number = int(self._group_id)
            return ClientAppReply(self._kind, round_number, self._metrics(self._tree))

    def _metrics(self, tree: ObjectTree) -> dict[str, Number]:
        """The scalar values of every MetricRecord of the message's RecordDict, in its order
        (a name found twice keeps its first value)."""
        found: dict[str, Number] = {}
        for child in tree.children:  # The message's content: one RecordDict, or none.
            content = self._objects.get(child.object_id)
            if content is None or _object_type(content) != "RecordDict":
                continue
            try:
                refs = json.loads(get_object_body(content, RecordDict).decode("utf-8"))
            except ValueError:
                continue
            for record_id in refs.values() if isinstance(refs, dict) else ():
                record = self._objects.get(str(record_id))
                if record is None or _object_type(record) != "MetricRecord":
                    continue
                for name, value in MetricRecord.inflate(record).items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        found.setdefault(str(name), value)
        return found


def _object_type(content: bytes) -> str:
    try:
        return get_object_head_values_from_object_content(content)[0]
    except (ValueError, UnicodeDecodeError):
        return ""
