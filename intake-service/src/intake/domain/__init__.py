"""Intake domain: the application aggregate and its rules; no I/O here."""
