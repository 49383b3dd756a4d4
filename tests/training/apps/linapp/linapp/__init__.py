"""A tiny Flower app: federated least squares of y = w x + b (numpy only)."""
