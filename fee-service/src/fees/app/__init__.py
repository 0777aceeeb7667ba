"""Use cases of the fee service: each takes an event or a query and a store protocol, and returns domain results."""
