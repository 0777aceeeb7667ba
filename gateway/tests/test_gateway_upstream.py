"""The upstream client's retry rule (gateway.upstream), on fakes and on a real socket whose server closes a
kept-alive connection under the next request — what uvicorn does after a response it could not finish; and its
transports on the one-pass pool (btkernel.http_pool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from btkernel.http_pool import OnePassPool
from gateway.upstream import UpstreamClient, may_retry, replayable

REQUEST = httpx.Request("GET", "http://intake.test/")


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("OPTIONS", {}, True),
        ("POST", {"Idempotency-Key": "k"}, True),
        ("PUT", {"idempotency-key": "k"}, True),
        ("POST", {}, False),
        ("PUT", {}, False),
        ("DELETE", {}, False),
    ],
)
def test_which_requests_may_be_replayed(method: str, headers: dict[str, str], expected: bool) -> None:
    assert replayable(method, headers) is expected


@pytest.mark.parametrize(
    ("error", "replay_ok", "expected"),
    [
        # nothing was sent: always
        (httpx.ConnectError("refused", request=REQUEST), False, True),
        # the connection broke before a response: only what may be replayed
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True, True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), False, False),
        (httpx.ReadError("reset"), True, True),
        (httpx.ReadError("reset"), False, False),
        (httpx.WriteError("broken pipe"), True, True),
        # the service may be working on it: never (that is a 504)
        (httpx.ReadTimeout("slow"), True, False),
        (httpx.ConnectTimeout("slow"), True, False),
        (httpx.PoolTimeout("busy"), True, False),
    ],
)
def test_which_failures_are_retried(error: httpx.HTTPError, replay_ok: bool, expected: bool) -> None:
    assert may_retry(error, replay_ok=replay_ok) is expected


class Flaky:
    """A MockTransport handler that fails its first `failures` calls with `error`, then answers 200."""

    def __init__(self, error: Exception, failures: int = 1) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return httpx.Response(200, json={"attempt": self.calls})


def _clients(pooled: Flaky, fresh: Flaky) -> UpstreamClient:
    return UpstreamClient(httpx.MockTransport(pooled), httpx.MockTransport(fresh))


async def test_a_replayable_request_goes_pooled_and_is_retried_once_on_a_fresh_connection() -> None:
    pooled = Flaky(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    fresh = Flaky(RuntimeError("unused"), failures=0)
    client = _clients(pooled, fresh)

    response = await client.send(
        "POST", "http://intake.test/x", content=b"{}", headers={"Idempotency-Key": "k"}
    )

    assert response.status_code == 200
    assert (pooled.calls, fresh.calls) == (1, 1)


async def test_a_post_without_key_always_takes_a_fresh_connection_and_is_not_sent_twice() -> None:
    pooled = Flaky(RuntimeError("unused"), failures=0)
    fresh = Flaky(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    client = _clients(pooled, fresh)

    with pytest.raises(httpx.RemoteProtocolError):
        await client.send("POST", "http://intake.test/x", content=b"{}", headers={})

    assert (pooled.calls, fresh.calls) == (0, 1)


async def test_a_post_without_key_is_retried_when_the_connection_was_never_made() -> None:
    fresh = Flaky(httpx.ConnectError("refused"))
    client = _clients(Flaky(RuntimeError("unused"), failures=0), fresh)

    response = await client.send("POST", "http://intake.test/x", content=b"{}", headers={})

    assert response.status_code == 200
    assert fresh.calls == 2


async def test_only_one_retry() -> None:
    pooled = Flaky(httpx.ReadError("reset"))
    fresh = Flaky(httpx.ReadError("reset again"))
    client = _clients(pooled, fresh)

    with pytest.raises(httpx.ReadError, match="again"):
        await client.send("GET", "http://intake.test/x", content=None, headers={})

    assert (pooled.calls, fresh.calls) == (1, 1)


async def test_a_timeout_is_not_retried() -> None:
    pooled = Flaky(httpx.ReadTimeout("slow"))
    fresh = Flaky(RuntimeError("unused"), failures=0)
    client = _clients(pooled, fresh)

    with pytest.raises(httpx.ReadTimeout):
        await client.send("GET", "http://intake.test/x", content=None, headers={})

    assert fresh.calls == 0


class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1 (a free port), counting the connections it was given; `_serve` answers."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._serve(reader, writer)
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class ClosingServer(LoopbackServer):
    """Answers the first request of each connection with keep-alive, and closes the connection, without answering,
    as soon as a second request arrives on it."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: list[bytes] = []
        self.dropped = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await _read_request(reader)
        self.answered.append(first)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        if await _read_request(reader):
            self.dropped += 1


class PathServer(LoopbackServer):
    """Keeps connections alive and answers each request with its path, after a short wait."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await _read_request(reader):
            path = request.split(b" ")[1]
            await asyncio.sleep(0.005)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))
            await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's bytes, or b"" when the client closed the connection instead."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    lengths = [
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    ]
    return head + (await reader.readexactly(lengths[0]) if lengths else b"")


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[ClosingServer, str]]:
    server = ClosingServer()
    url = await server.start()
    yield server, url
    await server.stop()


async def test_a_connection_closed_under_the_next_request_is_no_failure(
    closing_server: tuple[ClosingServer, str],
) -> None:
    server, url = closing_server
    client = UpstreamClient.create(timeout_s=5.0, keepalive_s=5.0)
    try:
        # Each call after the first finds a pooled connection the server will drop under it.
        for i in range(3):
            response = await client.send("GET", f"{url}/r{i}", content=None, headers={})
            assert response.status_code == 200
        keyed = await client.send("POST", f"{url}/k", content=b"{}", headers={"Idempotency-Key": "k-1"})
        unkeyed = await client.send("POST", f"{url}/p", content=b"{}", headers={})
    finally:
        await client.aclose()

    assert keyed.status_code == unkeyed.status_code == 200
    # The server did drop requests on reused connections, and the client answered every call anyway; the POST
    # without a key was sent exactly once, on a connection of its own.
    assert server.dropped >= 1
    assert sum(b" /p " in r for r in server.answered) == 1


async def test_the_same_server_defeats_a_plain_pooled_client(
    closing_server: tuple[ClosingServer, str],
) -> None:
    """The failure the retry rule exists for: without it, the second request fails though nothing processed it."""
    server, url = closing_server
    async with httpx.AsyncClient(timeout=5.0) as plain:
        assert (await plain.get(f"{url}/a")).status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await plain.get(f"{url}/b")
    assert server.dropped == 1


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


async def test_requests_through_the_one_pass_pool_are_answered_on_reused_connections() -> None:
    """Bursts of replayable requests, more at once than the pool's limit: each answered with its own path, and the
    server given no more connections than the limit over all three bursts."""
    server = PathServer()
    url = await server.start()
    client = UpstreamClient.create(timeout_s=5.0, keepalive_s=5.0, max_connections=8)
    try:
        for burst in range(3):
            paths = [f"/r{burst}-{i}" for i in range(40)]
            responses = await asyncio.gather(
                *(client.send("GET", url + path, content=None, headers={}) for path in paths)
            )
            assert [r.text for r in responses] == paths
    finally:
        await client.aclose()
        await server.stop()
    assert server.connections <= 8
