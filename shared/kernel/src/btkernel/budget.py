"""The time budget of one request: a service gives up, rolls back and says 503 before the gateway gives up on it.

Why: the gateway stops waiting after `BT_UPSTREAM_TIMEOUT_S` and answers 504, but the service used to go on and
commit — the client was told "failed" and the application existed anyway (issue 7: a 100 MB body ended in 504 and
was committed). A service whose own budget (`BT_REQUEST_TIMEOUT_S`, shorter than the gateway's) runs out cancels
the handler; cancellation rolls back its transaction (asyncpg's `transaction()` exits on the exception and the pool
resets the connection), so the caller's 503 means "nothing happened, retry".

One window stays: a budget that ends while COMMIT itself is on the wire. The caller then sees 503 for work that
was done; the same `Idempotency-Key` on the retry returns that work's result, never a second one.

A pure ASGI middleware, innermost of the kernel's: the body has already been read whole by the request screen
(`btkernel.limits`), so a slow upload does not eat the handler's budget.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from btkernel import logging as btlog
from btkernel.problems import problem_response

log = btlog.get(__name__)

# How long a caller should wait before retrying work that ran out of time: the load that slowed it needs a moment.
RETRY_AFTER_S = 5


class RequestBudget:
    def __init__(self, app: ASGIApp, *, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.timeout_s <= 0:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            log.warning("request_budget_exceeded", path=scope.get("path"), budget_s=self.timeout_s)
            if started:
                # Half a response is out: nothing honest can follow; closing the connection tells the client.
                raise
            response = problem_response(
                503,
                "Service unavailable",
                f"the request could not be completed within {self.timeout_s:g} s and was not carried out; "
                "retry later with the same Idempotency-Key",
                scope.get("path"),
                code="request_timeout",
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
            await response(scope, receive, send)
