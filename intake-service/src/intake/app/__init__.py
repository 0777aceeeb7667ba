"""Intake use cases: each runs in one transaction that writes the events, the outbox rows and the projection."""
