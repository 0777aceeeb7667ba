"""The gateway's transports on the one-pass pool (btkernel.http_pool), on a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from btkernel.http_pool import OnePassPool
from gateway.upstream import UpstreamClient


async def test_the_gateways_transports_are_one_pass_pools_with_their_limits() -> None:
    client = UpstreamClient.create(timeout_s=5.0, keepalive_s=7.0, max_connections=60)
    try:
        for transport, keepalive in ((client.pooled, 50), (client.fresh, 0)):
            pool = transport._pool  # type: ignore[attr-defined]
            assert type(pool) is OnePassPool
            assert pool._max_connections == 60
            assert pool._max_keepalive_connections == keepalive
        assert client.pooled._pool._keepalive_expiry == 7.0  # type: ignore[attr-defined]
    finally:
        await client.aclose()


class CountingServer:
    """A real HTTP/1.1 keep-alive server on 127.0.0.1 that answers each request with its path after a short wait,
    counting the connections it was given."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                path = head.split(b" ")[1]
                await asyncio.sleep(0.005)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))
                await writer.drain()
        finally:
            writer.close()


async def _relay_many(send: Callable[[int], Any], n: int) -> list[httpx.Response]:
    return list(await asyncio.gather(*(send(i) for i in range(n))))


async def test_requests_through_the_one_pass_pool_are_answered_on_reused_connections() -> None:
    """Bursts of replayable requests, more at once than the pool's limit: each answered with its own path; the
    pool never held more connections than its limit, and the bursts after the first reused them."""
    server = CountingServer()
    url = await server.start()
    client = UpstreamClient.create(timeout_s=5.0, keepalive_s=5.0, max_connections=8)
    try:
        for burst in range(3):

            async def send(i: int, burst: int = burst) -> httpx.Response:
                return await client.send("GET", f"{url}/r{burst}-{i}", content=None, headers={})

            responses = await _relay_many(send, 40)
            assert [r.text for r in responses] == [f"/r{burst}-{i}" for i in range(40)]
    finally:
        await client.aclose()
        await server.stop()
    assert server.connections <= 8
