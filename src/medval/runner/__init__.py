"""medval.runner."""
