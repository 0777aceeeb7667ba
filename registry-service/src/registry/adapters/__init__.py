"""Registry adapters: PostgreSQL read models and record-number counters."""
