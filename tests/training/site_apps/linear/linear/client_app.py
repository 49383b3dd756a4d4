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


@app.train()
def train(msg: Message, context: Context) -> Message:
    time.sleep(float(context.run_config["train-delay"]))
    x, y = load(context)
    w, b = (float(v) for v in msg.content["arrays"].to_numpy_ndarrays()[0])
    lr = float(context.run_config["lr"])
    for _ in range(int(context.run_config["local-epochs"])):
        error = w * x + b - y
        w -= lr * float(np.mean(error * x))
        b -= lr * float(np.mean(error))
    loss = float(np.mean((w * x + b - y) ** 2))
    metrics = {"train-loss": loss, "num-examples": len(x), **probes(context)}
    content = RecordDict(
        {"arrays": ArrayRecord([np.array([w, b])]), "metrics": MetricRecord(metrics)}
    )
    return Message(content=content, reply_to=msg)
