"""The gateway's HTTP client to the services, and when it may send a request a second time.

A service closes a keep-alive connection when it likes (its keep-alive timeout, after a response it could not
finish, on restart). A request that the gateway wrote onto such a connection just as it closed fails with
`httpx.RemoteProtocolError` ("Server disconnected without sending a response") or `httpx.ReadError`, though
the service never saw it. httpx cannot tell that case from a service that died while working on the request: it
does not say whether the connection was reused or whether the request was read. So the rule
(docs/adr/0011-outages-are-503.md) follows what the request allows, as Go's net/http does:

* A request that may be replayed — a safe method (GET, HEAD, OPTIONS), or any method with an `Idempotency-Key`,
  which the service answers once — is sent on a pooled keep-alive connection and, if the connection fails
  before a response arrived (connect, write, read or protocol error; not a timeout), sent once more on a fresh
  connection.
* Any other request (a POST without a key) is always sent on a fresh connection, never on a pooled one that
  might have gone stale; a failure before the connection was made (`httpx.ConnectError`: nothing was sent) is
  retried once, anything later is not: the service may have acted on it.

Pooled connections are dropped after `keepalive_s` idle, shorter than the services' own keep-alive timeout, so
the gateway lets go of an idle connection before the service does (btkernel.serve keeps them 30 s).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from btkernel import logging as btlog
from btkernel.http_pool import OnePassTransport
from gateway.balancer import Instances

log = btlog.get(__name__)

# RFC 9110 §9.2.1; PUT and DELETE are idempotent by definition but, like Go, not replayed on that alone: our
# DELETE answers 404 the second time, which would hide the first one's success.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The connection failed before any response came back; a timeout is not among them (the service may be working
# on it: that is the gateway's 504).
_BROKEN_CONNECTION = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
# Seconds for connect, write, read and a free pooled connection each (the gateway's BT_UPSTREAM_TIMEOUT_S).
DEFAULT_TIMEOUT_S = 15.0


def replayable(method: str, headers: Mapping[str, str]) -> bool:
    """May `method` with `headers` be sent twice without changing what happens?"""
    return method.upper() in SAFE_METHODS or any(name.lower() == "idempotency-key" for name in headers)


def may_retry(exc: httpx.HTTPError, *, replay_ok: bool) -> bool:
    """Send again after `exc`? A connect error means nothing was sent; other connection failures are retried
    only for requests that may be replayed."""
    if isinstance(exc, httpx.ConnectError):
        return True
    return replay_ok and isinstance(exc, _BROKEN_CONNECTION)


class UpstreamClient:
    """Relays on two transports: `pooled` keeps connections alive, `fresh` opens one per request (no keep-alive).

    A relayed request goes to the transport itself, not through an `httpx.AsyncClient`: the client's layers (URL
    merging, default headers, auth and redirect hooks, and a cookie jar that reads every response through the
    stdlib's cookie policy) were about a third of the gateway's own work per relayed request and do nothing the
    relay needs (issue 13); the cookie jar even kept a cookie one caller's answer set for the next caller's
    request. The transport is the same httpcore pool with the same limits, timeouts and httpx exceptions, so
    the rule above is unchanged. The gateway's own GETs (health probes, OpenAPI documents) use `http`, a client
    on the pooled transport."""

    def __init__(
        self,
        pooled: httpx.AsyncBaseTransport,
        fresh: httpx.AsyncBaseTransport,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.pooled = pooled
        self.fresh = fresh
        # What an httpx client puts on each request it sends: connect, read, write and pool timeouts alike.
        self._timeout = httpx.Timeout(timeout_s).as_dict()
        self.http = httpx.AsyncClient(transport=pooled, timeout=timeout_s, trust_env=False)

    @classmethod
    def create(
        cls,
        *,
        timeout_s: float,
        keepalive_s: float,
        max_connections: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> UpstreamClient:
        """`transport` replaces both (a test's fake network). No proxy from the environment applies: the services
        are on loopback, and an HTTP_PROXY meant for the outside must not reach them."""
        if transport is not None:
            return cls(transport, transport, timeout_s=timeout_s)
        # httpcore's pools with their bookkeeping in one pass (btkernel.http_pool): a gateway that fell behind paid
        # for each request by the square of the connections it held.
        pooled = OnePassTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=50, keepalive_expiry=keepalive_s
            ),
        )
        fresh = OnePassTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=0),
        )
        return cls(pooled, fresh, timeout_s=timeout_s)

    async def _exchange(
        self,
        transport: httpx.AsyncBaseTransport,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """One request and its whole response, as `AsyncClient.request` would send and read it."""
        request = httpx.Request(
            method, url, content=content, headers=headers, extensions={"timeout": self._timeout}
        )
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            # Read whole, which also hands the connection back to the pool (or closes a fresh one).
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def send(
        self, method: str, url: str, *, content: bytes | None, headers: Mapping[str, str]
    ) -> httpx.Response:
        """The service's response; raises the httpx error of the last attempt."""
        replay_ok = replayable(method, headers)
        first = self.pooled if replay_ok else self.fresh
        try:
            return await self._exchange(first, method, url, content, headers)
        except httpx.HTTPError as exc:
            if not may_retry(exc, replay_ok=replay_ok):
                raise
            log.info("upstream_retry", method=method, url=url, error=repr(exc))
        return await self._exchange(self.fresh, method, url, content, headers)

    async def send_balanced(
        self,
        instances: Instances,
        method: str,
        url: str,
        *,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """`send` over a service's instances (`url` starts with one of them, `instances.pick()`), with the same
        rule for a second attempt, and one more: a request that never reached an instance (connect error or
        connect timeout: nothing was sent) goes to the next instance, each tried once, and that instance is
        passed over for a while (gateway.balancer). A request that may be replayed and broke after it was sent
        is sent once more, to the next instance. With one instance this is exactly `send`."""
        first = instances.base_of(url)
        if first is None or len(instances) == 1:
            return await self.send(method, url, content=content, headers=headers)
        target = url[len(first) :]
        replay_ok = replayable(method, headers)
        replayed = False
        order = instances.failover_order(first)
        for attempt, base in enumerate(order):
            transport = self.pooled if replay_ok and attempt == 0 else self.fresh
            try:
                with instances.in_flight(base):
                    response = await self._exchange(transport, method, base + target, content, headers)
                instances.mark_present(base)
                return response
            except httpx.HTTPError as exc:
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if unsent:
                    instances.mark_away(base)
                last = attempt == len(order) - 1
                if last or not (unsent or (replay_ok and not replayed and may_retry(exc, replay_ok=True))):
                    raise
                replayed = replayed or not unsent
                log.info("upstream_failover", method=method, url=base + target, error=repr(exc))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def aclose(self) -> None:
        # The client closes the pooled transport it was given.
        await self.http.aclose()
        if self.fresh is not self.pooled:
            await self.fresh.aclose()
