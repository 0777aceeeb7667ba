"""Registry HTTP API (public paths, reached through the gateway)."""
