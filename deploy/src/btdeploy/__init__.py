"""Starts PostgreSQL, Kafka, an SMTP sink and the five services on loopback, for `make run` and the tests."""
