"""SQL migrations of the notification service, applied in name order at start."""
