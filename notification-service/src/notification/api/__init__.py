"""HTTP routers of the notification service: parse, call a use case, map the result to HTTP."""
