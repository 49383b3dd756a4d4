"""medval.core."""
