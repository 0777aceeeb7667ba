"""HTTP routers of the fee service: parse, call a use case, map the result to HTTP."""
