"""The ServerApp: FedAvg over the sites; writes the final weights and each round's
aggregated training metrics to run_config["result-path"] (JSON)."""

import json
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, Context
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    config = context.run_config
    nodes = int(config["min-nodes"])
    strategy = FedAvg(
        fraction_train=1.0,
        fraction_evaluate=float(config["fraction-evaluate"]),
        min_train_nodes=nodes,
        min_evaluate_nodes=nodes,
        min_available_nodes=nodes,
    )
    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord([np.zeros(2)]),
        num_rounds=int(config["num-server-rounds"]),
        timeout=float(config["round-timeout"]),
    )
    weights = [float(v) for v in result.arrays.to_numpy_ndarrays()[0]]
    metrics = {
        str(server_round): {key: float(value) for key, value in record.items()}
        for server_round, record in result.train_metrics_clientapp.items()
    }
    print(f"medval-test: final weights {weights}", flush=True)
    if config["result-path"]:
        result_file = Path(str(config["result-path"]))
        result_file.write_text(json.dumps({"weights": weights, "train-metrics": metrics}))
