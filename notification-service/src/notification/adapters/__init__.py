"""The notification service's outside world: PostgreSQL (projection, delivery log, outbox), SMTP, the Kafka
consumer's handler and the delivery worker's loop."""
