"""Use cases of the notification service, each on a store protocol (and a mailer and a clock for delivery)."""
