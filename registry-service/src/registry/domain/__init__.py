"""Registry domain: the case and record aggregates and their rules; no I/O here."""
