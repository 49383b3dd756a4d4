"""medval.client."""
