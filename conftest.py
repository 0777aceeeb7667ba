"""Root pytest configuration: the infrastructure fixtures (PostgreSQL, Kafka, SMTP sink, whole stack) for every package."""

pytest_plugins = ["btdeploy.testing"]
