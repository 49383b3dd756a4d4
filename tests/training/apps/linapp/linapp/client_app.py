"""The site side: train locally on the site's partition, and evaluate the global model."""

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from linapp.task import load_partition, loss, train

app = ClientApp()


def _data(context: Context) -> tuple[np.ndarray, np.ndarray]:
    partition = int(context.node_config["partition-id"])
    return load_partition(partition, int(context.run_config["seed"]))


@app.train()
def do_train(msg: Message, context: Context) -> Message:
    x, y = _data(context)
    params = msg.content.array_records["arrays"].to_numpy_ndarrays()[0]
    config = context.run_config
    new, train_loss = train(params, x, y, int(config["local-epochs"]), float(config["lr"]))
    content = RecordDict(
        {
            "arrays": ArrayRecord([new]),
            "metrics": MetricRecord({"train_loss": train_loss, "num-examples": len(x)}),
        }
    )
    return Message(content=content, reply_to=msg)


@app.evaluate()
def do_evaluate(msg: Message, context: Context) -> Message:
    x, y = _data(context)
    params = msg.content.array_records["arrays"].to_numpy_ndarrays()[0]
    metrics = MetricRecord({"eval_loss": loss(params, x, y), "num-examples": len(x)})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)
