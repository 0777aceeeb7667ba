"""Reference data of the fee service (a package so the YAML ships with it)."""
