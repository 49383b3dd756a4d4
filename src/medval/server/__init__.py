"""medval.server."""
