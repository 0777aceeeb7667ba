"""Bir Tereze gateway: the single public entry point (auth, roles, routing, aggregated OpenAPI)."""
