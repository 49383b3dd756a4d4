"""medval.demo."""
