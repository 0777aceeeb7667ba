"""Registry use cases, each in one transaction with its events, outbox rows and projections."""
