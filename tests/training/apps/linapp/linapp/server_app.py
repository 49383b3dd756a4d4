"""The aggregator side: FedAvg from zeros; the final weights go to final_model.npy in the
ServerApp's working directory (declared in pyproject's [tool.medval.training])."""

import numpy as np
from flwr.app import ArrayRecord, Context
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    config = context.run_config
    sites = int(config["min-nodes"])
    strategy = FedAvg(
        fraction_train=float(config["fraction-train"]),
        fraction_evaluate=1.0,
        min_train_nodes=sites,
        min_evaluate_nodes=sites,
        min_available_nodes=sites,
    )
    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord([np.zeros(2)]),
        num_rounds=int(config["num-server-rounds"]),
    )
    np.save("final_model.npy", result.arrays.to_numpy_ndarrays()[0])
