"""Intake adapters: PostgreSQL projection and counters."""
