"""medval.stats."""
