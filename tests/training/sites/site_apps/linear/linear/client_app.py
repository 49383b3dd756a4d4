"""The ClientApp: trains on the site's data at node_config["data-path"] and reports, as
metrics, what it could reach and read beyond it (each probe: 1.0 reached, 0.0 not)."""

import socket
import time
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

print("medval-test: the linear ClientApp was imported", flush=True)

app = ClientApp()


def load(context: Context) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(str(context.node_config["data-path"]))
    table = np.loadtxt(folder / "data.csv", delimiter=",", skiprows=1)
    return table[:, 0], table[:, 1]


def probes(context: Context) -> dict[str, float]:
    found: dict[str, float] = {}
    targets = [t for t in str(context.run_config["probe-targets"]).split(",") if t]
    for number, target in enumerate(targets):
        host, port = target.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=3):
                reached = 1.0
        except OSError as error:
            reached = 0.0
            print(f"medval-test: probe {target}: {error}", flush=True)
        found[f"probe-{number}"] = reached
    paths = [p for p in str(context.run_config["read-paths"]).split(",") if p]
    for number, path in enumerate(paths):
        try:
            Path(path).read_bytes()
            read = 1.0
        except OSError as error:
            read = 0.0
            print(f"medval-test: read {path}: {error}", flush=True)
        found[f"read-{number}"] = read
    return found


def spawn(context: Context) -> dict[str, float]:
    """Ask the SuperNode, with this task's own token, to start another kind of task."""
    kind = str(context.run_config["spawn-task"])
    if not kind:
        return {}
    from flwr.proto.runtime_pb2 import CreateTaskRequest
    from flwr.supercore.interceptors import (
        RuntimeTokenHttpInterceptor,
        RuntimeVersionHttpInterceptor,
    )
    from flwr.supercore.runtime import RuntimeHttpClient

    token = Path("/mlcube_io/channel/token").read_text().strip()
    client = RuntimeHttpClient.from_server_address(
        server_address="127.0.0.1:9094",
        insecure=True,
        root_certificates=None,
        interceptors=[
            RuntimeVersionHttpInterceptor(component_name="flwr-clientapp"),
            RuntimeTokenHttpInterceptor(token),
        ],
    )
    fab_hash = str(context.run_config["spawn-fab-hash"])
    try:
        created = client.CreateTask(CreateTaskRequest(type=kind, fab_hash=fab_hash))
    except Exception as error:  # Whatever the SuperNode answered, said...
        print(f"medval-test: spawn {kind}: {error}", flush=True)
        return {"spawn-accepted": 0.0}
    print(f"medval-test: spawn {kind}: task {created.task_id}", flush=True)
    return {"spawn-accepted": 1.0}


@app.train()
def train(msg: Message, context: Context) -> Message:
    time.sleep(float(context.run_config["train-delay"]))
    if context.run_config["fail-with"]:
        raise RuntimeError(str(context.run_config["fail-with"]))
    x, y = load(context)
    w, b = (float(v) for v in msg.content["arrays"].to_numpy_ndarrays()[0])
    lr = float(context.run_config["lr"])
    for _ in range(int(context.run_config["local-epochs"])):
        error = w * x + b - y
        w -= lr * float(np.mean(error * x))
        b -= lr * float(np.mean(error))
    loss = float(np.mean((w * x + b - y) ** 2))
    metrics = {"train-loss": loss, "num-examples": len(x), **probes(context), **spawn(context)}
    content = RecordDict(
        {"arrays": ArrayRecord([np.array([w, b])]), "metrics": MetricRecord(metrics)}
    )
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    x, y = load(context)
    w, b = (float(v) for v in msg.content["arrays"].to_numpy_ndarrays()[0])
    loss = float(np.mean((w * x + b - y) ** 2))
    metrics = MetricRecord({"eval-loss": loss, "num-examples": len(x)})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)
