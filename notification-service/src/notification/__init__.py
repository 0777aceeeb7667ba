"""Notification service: tells applicants their result is ready or their package was refused, with a delivery log."""
