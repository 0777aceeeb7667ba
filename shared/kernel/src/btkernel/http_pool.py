"""httpx's pooled transport on httpcore's own pool, with the pass that hands out connections made cheap (issue 13).

httpcore 1.0.9's pool runs `_assign_requests_to_connections` when a request arrives and when one ends. That pass
cost three ways, each growing with the connections the pool holds:

* Every connection counts all of them again (`len([connection.is_idle() for connection in self._connections])`),
  and every queued request lists the available and idle connections anew: O(N² + N·M).
* Every idle connection is asked whether it expired, which polls its socket (through anyio's `extra` lookup and a
  `getpeername`, microseconds each): after a burst leaves 50 idle keep-alive connections, every request paid for
  100 polls until they expired.
* A connection promised to a request that has not begun on it yet is still idle, so the next pass hands it to
  another request too, or closes it as surplus; the request that loses fails on it, queues again and sets off
  another pass (5.2 passes a request instead of 2 in a burst).

Known upstream: encode/httpcore#1035 (open), fixed in the pydantic/httpx2 fork (pull requests 974 and 1075).
Measured against a stand-in service in another process (CPU of the client alone, docs/adr/0043): 2.0 → 0.7 ms a
request at 16 at once, 3.9 → 1.3 at 200 at once, and after a burst of 50, 2 at a time, 3.2 → 1.1. The gateway
relays every request on these pools (`gateway.upstream`); `make bench` sends its load on one, since a load client
that spends 2 ms a request held the bare baselines to half their rate on two cores.

`OnePassPool` makes httpcore's decisions in one pass (O(N + M)): closed connections dropped, expired ones closed,
idle ones closed while the pool holds more connections than `max_keepalive_connections` (httpcore compares the
count of all its connections, not of the idle ones, and so does this: the limits keep meaning what they meant);
then each queued request gets the first free connection able to take it, or a new one below `max_connections`, or
a new one in place of the first free idle one. It differs from httpcore in three ways: a promised connection is
neither handed to another request nor closed as surplus or to make room; each free connection goes to one request
of a pass; and idle connections are asked whether they expired every `SWEEP_S` and when one is about to be handed
out, not on every pass. `tests/test_http_pool.py` holds it to httpcore's decisions where those cannot differ (a
sweeping pass with at most one queued request), over random pools, and to the three differences. HTTP/1.1 only:
`OnePassTransport` offers no HTTP/2, whose connections take many requests at once.

It is httpcore's own class with that one method replaced, so requests, streams, timeouts and errors are httpcore's.
The method is private: `requirements.lock` pins httpcore, and a test fails when the version changes, so an upgrade
looks at this again (or drops it, should httpcore fix the pass).
"""

from __future__ import annotations

import time

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface

# The httpcore whose private pass `OnePassPool` replaces (see the module's docstring).
HTTPCORE_VERSION = "1.0.9"
# Seconds between passes that ask every idle connection whether it expired (httpcore: every pass). An idle
# connection is closed at most this much after its keep-alive ran out, and is asked again before it is handed out
# (a server may still close it just then, as it always could: gateway.upstream's rule for a second attempt).
SWEEP_S = 1.0


class OnePassPool(httpcore.AsyncConnectionPool):
    # When the pass last asked every idle connection whether it expired (monotonic seconds; 0: never).
    _swept_at = 0.0

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        """httpcore 1.0.9's `AsyncConnectionPool._assign_requests_to_connections` in one pass, each idle connection
        promised to one request at most, and idle ones asked whether they expired once every `SWEEP_S` or when one
        is about to be handed out: the connections kept, queued requests handed a connection; what to close
        returned, for the caller to close outside the pool's lock."""
        now = time.monotonic()
        sweep = now - self._swept_at >= SWEEP_S
        if sweep:
            self._swept_at = now
        # Promised: handed to a request that has not begun on it yet (the connection is still idle). httpcore
        # handed such a connection to the next queued request too, and closed it as surplus or to make room; the
        # request it was promised to then failed on it and went back to the queue, setting off another pass.
        promised = {id(r.connection) for r in self._requests if r.connection is not None}
        closing: list[AsyncConnectionInterface] = []
        kept: list[AsyncConnectionInterface] = []
        # httpcore walks its connections in order, dropping each one it closes, and closes an idle one while the
        # pool still holds more than max_keepalive_connections (all of them counted, those after it included).
        count = len(self._connections)
        for connection in self._connections:
            if connection.is_closed():
                count -= 1
            elif (sweep and connection.has_expired()) or (
                id(connection) not in promised
                and connection.is_idle()
                and count > self._max_keepalive_connections
            ):
                closing.append(connection)
                count -= 1
            else:
                kept.append(connection)
        self._connections = kept

        queued = [request for request in self._requests if request.is_queued()]
        if not queued:
            return closing
        # Free: idle and promised to no one. An HTTP/1.1 connection takes one request at a time (these pools speak
        # nothing else), so each goes to one request of this pass.
        free = [c for c in kept if id(c) not in promised and c.is_available()]
        for pool_request in queued:
            origin = pool_request.request.url.origin
            taken = self._take(free, origin, kept, closing, checked=sweep)
            if taken is None:
                if len(kept) >= self._max_connections:
                    if not free:
                        break  # full, and nothing idle to replace: the rest wait for a connection to come free
                    # An idle connection to another origin makes room, as in httpcore.
                    idle = free.pop(0)
                    kept.remove(idle)
                    closing.append(idle)
                taken = self.create_connection(origin)
                kept.append(taken)
            pool_request.assign_to_connection(taken)
        return closing

    @staticmethod
    def _take(
        free: list[AsyncConnectionInterface],
        origin: httpcore.Origin,
        kept: list[AsyncConnectionInterface],
        closing: list[AsyncConnectionInterface],
        *,
        checked: bool,
    ) -> AsyncConnectionInterface | None:
        """The first free connection to `origin`, taken out of `free`. Unless this pass swept (`checked`), it is
        asked first whether it expired — its keep-alive ran out, or the service closed it — and one that did is
        closed and the next one asked: httpcore asked every idle connection on every pass, a poll of its socket
        each, most of a pass's cost."""
        for connection in [c for c in free if c.can_handle_request(origin)]:
            free.remove(connection)
            if checked or not connection.has_expired():
                return connection
            kept.remove(connection)
            closing.append(connection)
        return None


class OnePassTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a `OnePassPool` made with the same settings as the pool it makes itself."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        made = self._pool
        if type(made) is not httpcore.AsyncConnectionPool:
            raise TypeError(
                f"expected httpx to make an httpcore.AsyncConnectionPool, got {type(made).__name__}"
            )
        # The same object in all but its class: every setting httpx gave it (TLS context, limits, network backend,
        # socket options) stays; `OnePassPool` adds only the moment of its last sweep, which starts as never.
        made.__class__ = OnePassPool
