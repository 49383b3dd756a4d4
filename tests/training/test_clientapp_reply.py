"""Reading a ClientApp's reply on its way out, from the bodies Flower 1.42's own ClientApp
process sends (built here as its ``push_message`` builds them)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.app.message import remove_content_from_message
from flwr.common.serde import message_to_proto
from flwr.proto.message_pb2 import PullObjectResponse, PushObjectRequest
from flwr.proto.node_pb2 import Node
from flwr.proto.runtime_pb2 import PushAppMessagesRequest
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects, get_object_tree

from medval.training.clientapp_reply import (
    PULL_OBJECT,
    PUSH_MESSAGES,
    PUSH_OBJECT,
    ClientAppReply,
    ReplyReader,
)


@pytest.fixture(autouse=True)
def task_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Flower's ClientApp process sets once it pulled its task (a process-wide class)."""
    from flwr.supercore.task_identity import TaskIdentity

    for name, value in (("_task_id", 5), ("_run_id", 1), ("_node_id", 7)):
        monkeypatch.setattr(TaskIdentity, name, value)


def received(config: dict[str, int | str], group_id: str = "") -> Message:
    """The message a strategy sends, as the ClientApp holds it once pulled."""
    content = RecordDict({"arrays": ArrayRecord([np.zeros(2)]), "config": ConfigRecord(config)})
    message = Message(content, dst_node_id=7, message_type="train", group_id=group_id)
    message.metadata.__dict__["_message_id"] = message.object_id
    message.metadata.__dict__["_src_node_id"] = 1
    return message


def pull(reader: ReplyReader, message: Message) -> None:
    """The app pulls each object of the message it was sent."""
    for content in (obj.deflate() for obj in get_all_nested_objects(message).values()):
        answer = PullObjectResponse(
            object_found=True, object_available=True, object_content=content
        )
        reader.read_answer(PULL_OBJECT, answer.SerializeToString())


def push(reader: ReplyReader, reply: Message) -> None:
    """What Flower's run_clientapp.push_message sends: the message, then its objects."""
    reply.metadata.__dict__["_message_id"] = reply.object_id
    request = PushAppMessagesRequest(
        messages_list=[message_to_proto(remove_content_from_message(reply))],
        message_object_trees=[get_object_tree(reply)],
    )
    reader.read_request(PUSH_MESSAGES, request.SerializeToString())
    for object_id, obj in get_all_nested_objects(reply).items():
        pushed = PushObjectRequest(
            node=Node(node_id=7), run_id=1, object_id=object_id, object_content=obj.deflate()
        )
        reader.read_request(PUSH_OBJECT, pushed.SerializeToString())


def test_a_train_reply_gives_its_scalar_metrics_and_the_round_it_was_sent_in() -> None:
    reader = ReplyReader()
    incoming = received({"server-round": 3, "lr": "0.1"})
    pull(reader, incoming)
    metrics = MetricRecord({"train-loss": 0.25, "num-examples": 200, "per-epoch": [1.0, 0.5]})
    content = RecordDict({"arrays": ArrayRecord([np.ones(2)]), "metrics": metrics})
    push(reader, Message(content, reply_to=incoming))
    assert reader.reply() == ClientAppReply("train", 3, {"train-loss": 0.25, "num-examples": 200})


def test_the_group_id_gives_the_round_when_no_config_says_it() -> None:
    reader = ReplyReader()
    incoming = received({}, group_id="2")
    pull(reader, incoming)
    reply = Message(RecordDict({"m": MetricRecord({"accuracy": 0.75})}), reply_to=incoming)
    push(reader, reply)
    assert reader.reply() == ClientAppReply("train", 2, {"accuracy": 0.75})


def test_no_reply_pushed_is_none_and_an_error_reply_has_no_metrics() -> None:
    reader = ReplyReader()
    assert reader.reply() is None
    reader.read_request(PUSH_MESSAGES, b"\xff not protobuf")
    reader.read_request(PUSH_OBJECT, b"\xff not protobuf")
    assert reader.reply() is None
    from flwr.app.error import Error

    incoming = received({"server-round": 1})
    push(reader, Message(Error(code=0, reason="failed"), reply_to=incoming))
    assert reader.reply() == ClientAppReply("train", None, {})


def test_metrics_of_every_metric_record_are_read_the_first_name_wins() -> None:
    reader = ReplyReader()
    incoming = received({"server-round": 1})
    pull(reader, incoming)
    content = RecordDict(
        {
            "metrics": MetricRecord({"loss": 1.5, "num-examples": 12}),
            "more": MetricRecord({"loss": 9.0, "auc": 0.5}),
            "config": ConfigRecord({"note": "a ConfigRecord is not metrics"}),
        }
    )
    push(reader, Message(content, reply_to=incoming))
    reply = reader.reply()
    assert reply is not None
    assert reply.metrics == {"loss": 1.5, "num-examples": 12, "auc": 0.5}
    assert reply.num_examples == 12
