"""medval.cli."""
