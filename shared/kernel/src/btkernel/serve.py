"""Run a service's ASGI app under uvicorn with limits a slow or idle client cannot exhaust.

`python -m btkernel.serve <module>:<app> --host 127.0.0.1 --port 8001 [--no-access-log]`, in this very process
(no fork: the launcher waits on and stops this pid). uvicorn alone closes idle kept-alive connections but has no
timeout for a connection that sends nothing, sends its headers a byte at a time, or trickles its body: 1,000 idle
and 200 slow-header connections stayed open for ever. `GuardedH11Protocol` adds those timeouts. Every number is
an environment setting (`BT_HTTP_*`, `ServerSettings`) so tests can shrink them; the defaults are justified
below and in docs/adr/0010-server-limits.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any, Literal

import h11
import uvicorn
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from btkernel.problems import problem_response


class ServerSettings(BaseSettings):
    """How one service process treats its connections (`BT_HTTP_*`)."""

    model_config = SettingsConfigDict(env_prefix="BT_HTTP_", extra="ignore")

    # A new connection (or a kept-alive one that has started its next request) must deliver its complete request
    # line and headers within this. A real client sends them in one packet within milliseconds; 10 s allows for a
    # congested mobile link, and bounds how long a slowloris connection holds a slot.
    header_timeout_s: float = 10.0
    # From the end of the headers to the end of the body. Bodies are at most 256 KiB (BT_MAX_BODY_BYTES): 30 s is
    # ~70 kbit/s, slower than any link a service centre has; a body that trickles slower is cut, never handed on.
    body_timeout_s: float = 30.0
    # Idle time allowed between requests on a kept-alive connection. None = by role: the gateway faces browsers
    # and scripts, so 5 s (uvicorn's default: enough for a page's burst of calls). The services behind it are
    # called only by the gateway, whose connection pool drops idle connections after 5 s (httpx's
    # keepalive_expiry): a service must keep them longer (30 s), or the gateway can reuse a connection the
    # service is closing at that moment and see a false failure.
    keep_alive_s: float | None = None
    # Open connections plus running requests beyond which a new request gets an immediate 503 with Retry-After
    # instead of queueing without bound. A service answers from a pool of 10 database connections, and the
    # gateway holds at most 200 connections to all services together: 512 never refuses the gateway's own
    # traffic and stops a flood long before memory or the event loop suffer. The gateway itself: 1024.
    limit_concurrency: int | None = None
    # Connections the kernel queues before we accept() them: enough to absorb a burst of new connections within
    # one event-loop turn; the kernel's somaxconn (4096 on this platform) caps it anyway.
    backlog: int = 1024
    # Request line plus headers: a bearer token is ~0.5 KB, our own headers a few hundred bytes. h11's 16 KiB (as
    # nginx's 4 × 8 KB) is generous; a header block still incomplete past it is refused with 400, so a client
    # cannot make us buffer headers without end (a bigger block arriving whole in one read is parsed).
    max_header_bytes: int = 16 * 1024
    # Time given to running requests on SIGTERM before their connections are cut, shorter than the launcher's
    # stop timeout (15 s) so the process still exits on its own.
    graceful_shutdown_s: int = 10
    # The event loop: uvloop (libuv; a dependency of the kernel) unless a run asks for asyncio's own, to compare.
    # It does the same work with less interpreter overhead per socket event; every service and the bench's bare
    # endpoint run on the same one (issue 13).
    loop: Literal["uvloop", "asyncio"] = "uvloop"


def keep_alive_for(service: str, configured: float | None) -> float:
    if configured is not None:
        return configured
    return 5.0 if service == "gateway" else 30.0


def limit_for(service: str, configured: int | None) -> int:
    if configured is not None:
        return configured
    return 1024 if service == "gateway" else 512


_TIMEOUT_BODY = b'{"type":"about:blank","title":"Request timeout","status":408,"detail":"%s"}'


def _timeout_response(detail: str) -> bytes:
    body = _TIMEOUT_BODY % detail.encode("ascii")
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    return head + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a header timeout, a body timeout and a problem+json 503 when overloaded.

    One timer per connection, re-armed as the peer's state moves: IDLE (waiting for a request's headers, unless
    uvicorn's own keep-alive timer is waiting for the first byte) → SEND_BODY (body on its way) → DONE (the app
    is working: no client timer; the app's own timeouts apply).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_s: float = getattr(config, "header_timeout_s", 10.0)
        self.body_timeout_s: float = getattr(config, "body_timeout_s", 30.0)
        self._guard: asyncio.TimerHandle | None = None
        self._guarding: str | None = None
        # uvicorn answers an overload with a plain-text 503 without Retry-After; we make the same check (connections
        # and running requests, this one included) and answer with a problem that tells the client when to retry.
        limit, self.limit_concurrency = self.limit_concurrency, None
        if limit is not None:
            self.app = _overload_guard(self.app, limit, server_state)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        if self.transport.is_closing():
            self._disarm()
            return
        state = self.conn.their_state
        if state is h11.IDLE and self.timeout_keep_alive_task is None:
            self._arm("headers", self.header_timeout_s)
        elif state is h11.SEND_BODY:
            self._arm("body", self.body_timeout_s)
        else:
            self._disarm()

    def _arm(self, what: str, after: float) -> None:
        if self._guarding == what:
            return  # the time runs from the start of the phase, not from the last byte (slowloris)
        self._disarm()
        self._guarding = what
        self._guard = self.loop.call_later(after, self._expired)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
        self._guard = None
        self._guarding = None

    def _expired(self) -> None:
        what, self._guard, self._guarding = self._guarding, None, None
        if self.transport.is_closing():
            return
        # A connection that never sent a byte is closed silently, like an idle kept-alive one; a client part-way
        # through a request is told why (unless the app has already answered it: then the body is just cut).
        answered = self.cycle is not None and self.cycle.response_started
        if what == "body" and not answered:
            self.transport.write(
                _timeout_response(f"the request body did not arrive within {self.body_timeout_s:g} s")
            )
        elif what == "headers" and self.conn.trailing_data[0]:
            self.transport.write(
                _timeout_response(f"the request headers did not arrive within {self.header_timeout_s:g} s")
            )
        self.logger.debug("closing a connection: %s timeout", what)
        self.transport.close()


def _overload_guard(app: Any, limit: int, state: ServerState) -> Any:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (len(state.connections) > limit or len(state.tasks) > limit):
            response = problem_response(
                503, "Service overloaded", "too many requests at once; retry shortly", scope.get("path")
            )
            response.headers["Retry-After"] = "1"
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return guarded


class ServerConfig(uvicorn.Config):
    """uvicorn's Config plus the two timeouts its protocol lacks (read by `GuardedH11Protocol`)."""

    def __init__(self, app: Any, *, header_timeout_s: float, body_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(app, http=GuardedH11Protocol, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s


def config(
    app: Any, *, host: str, port: int, access_log: bool = True, settings: ServerSettings | None = None
) -> ServerConfig:
    s = settings or ServerSettings()
    service = os.environ.get("BT_SERVICE_NAME", "")
    return ServerConfig(
        app,
        host=host,
        port=port,
        access_log=access_log,
        header_timeout_s=s.header_timeout_s,
        body_timeout_s=s.body_timeout_s,
        timeout_keep_alive=keep_alive_for(service, s.keep_alive_s),
        limit_concurrency=limit_for(service, s.limit_concurrency),
        backlog=s.backlog,
        h11_max_incomplete_event_size=s.max_header_bytes,
        timeout_graceful_shutdown=s.graceful_shutdown_s,
        loop=s.loop,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m btkernel.serve", description=__doc__.splitlines()[0])
    parser.add_argument("app", help="the ASGI app, <module>:<attribute>")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    args = parser.parse_args(argv)
    # Like the uvicorn command: the app's module is found from the working directory too.
    sys.path.insert(0, os.getcwd())
    uvicorn.Server(config(args.app, host=args.host, port=args.port, access_log=args.access_log)).run()


if __name__ == "__main__":
    main()
