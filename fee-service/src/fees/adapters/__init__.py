"""The fee service's outside world: PostgreSQL (decisions, outbox) and the Kafka consumer's handler."""
