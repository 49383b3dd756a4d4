"""medval's test app: FedAvg of a two-parameter linear model (numpy only)."""
