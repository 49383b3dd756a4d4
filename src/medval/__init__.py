"""medval: federated evaluation of medical AI."""

__version__ = "0.1.0"
