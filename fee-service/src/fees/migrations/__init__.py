"""SQL migrations of the fee service, applied in name order at start."""
