"""The server's connection limits (`btkernel.serve`) on a real uvicorn process started as every service is
(`btdeploy.processes.ServiceProcess`): idle and slow clients are cut, kept-alive connections expire, a trickling
body never reaches the app, and an overload is a 503 problem with Retry-After.

The timeouts are shrunk to a second through the environment; every assertion waits for the outcome with a
generous deadline (never "not yet closed after x s"), so a slow machine makes the tests slower, not red."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from btdeploy.ports import free_port
from btdeploy.processes import ServiceProcess

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
PATIENCE_S = 20.0  # how long we wait for something that should happen after ~1 s


def start(tmp_path: Path, name: str, **http: str) -> ServiceProcess:
    env = {
        "BT_SERVICE_NAME": name,
        "PYTHONPATH": str(HERE),
        **{f"BT_HTTP_{key.upper()}": value for key, value in http.items()},
    }
    process = ServiceProcess(name, "limits_app:app", free_port(), env, tmp_path / f"{name}.log")
    process.start()
    try:
        process.wait_ready(timeout=60)
    except Exception:
        process.stop()
        raise
    return process


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Header and body timeouts of 1 s; a long keep-alive, so only those two can close a connection."""
    process = start(
        tmp_path_factory.mktemp("strict"),
        "strict",
        header_timeout_s="1",
        body_timeout_s="1",
        keep_alive_s="600",
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def short_keep_alive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A keep-alive of 1 s and a long header timeout, so only the keep-alive can close an idle connection."""
    process = start(
        tmp_path_factory.mktemp("keepalive"), "keepalive", header_timeout_s="600", keep_alive_s="1"
    )
    yield process
    process.stop()


def connect(process: ServiceProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", process.port), timeout=PATIENCE_S)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails if it has not within PATIENCE_S)."""
    data = b""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the server kept the connection open; it sent {data!r}")


def test_connections_that_never_send_anything_are_closed(strict: ServiceProcess) -> None:
    idle = [connect(strict) for _ in range(200)]
    try:
        for sock in idle:
            assert read_until_closed(sock) == b""  # closed without a word, like an expired keep-alive
    finally:
        for sock in idle:
            sock.close()


def test_a_client_sending_its_headers_slowly_is_cut_with_408(strict: ServiceProcess) -> None:
    with connect(strict) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + PATIENCE_S
        answer = b""
        # One more header line every 0.2 s, for ever: the request never completes, each byte arrives in time.
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                answer = read_until_closed(sock)
                break
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            raise AssertionError("a slow-header client was never cut")
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"application/problem+json" in answer


def test_a_trickling_body_is_cut_and_never_reaches_the_app(strict: ServiceProcess) -> None:
    with httpx.Client(base_url=strict.url, timeout=PATIENCE_S) as client:
        before = client.get("/reached").json()["count"]
    with connect(strict) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 100\r\n\r\n" + b"x" * 10
        )
        answer = read_until_closed(sock)  # and the other 90 bytes never come
    assert answer.startswith(b"HTTP/1.1 408"), answer
    with httpx.Client(base_url=strict.url, timeout=PATIENCE_S) as client:
        assert client.get("/reached").json()["count"] == before
        # A whole body is fine, and reaches it.
        assert client.post("/echo", content=b"x" * 100).json() == {"size": 100}
        assert client.get("/reached").json()["count"] == before + 1


def test_an_oversized_body_is_refused_with_413_and_the_connection_closed(strict: ServiceProcess) -> None:
    with connect(strict) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"application/problem+json" in answer


def test_a_header_block_growing_past_16_kib_is_refused(strict: ServiceProcess) -> None:
    with connect(strict) as sock:
        # Still incomplete at 20 KB (and a slow client would keep sending): refused without waiting for the end.
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout(
    short_keep_alive: ServiceProcess,
) -> None:
    with connect(short_keep_alive) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert answer.endswith(b'{"status":"ok"}')


def test_over_the_concurrency_limit_requests_get_a_503_problem_with_retry_after(tmp_path: Path) -> None:
    process = start(tmp_path, "crowded", limit_concurrency="3", header_timeout_s="600")
    try:
        idle = [connect(process) for _ in range(3)]
        try:
            with httpx.Client(base_url=process.url, timeout=PATIENCE_S) as client:
                crowded = client.get("/health")
            assert crowded.status_code == 503
            assert crowded.headers["content-type"] == "application/problem+json"
            assert crowded.headers["retry-after"] == "1"
        finally:
            for sock in idle:
                sock.close()
        # Once the idle connections are gone, requests are served again.
        deadline = time.monotonic() + PATIENCE_S
        with httpx.Client(base_url=process.url, timeout=PATIENCE_S) as client:
            while client.get("/health").status_code != 200:
                assert time.monotonic() < deadline, "still refusing after the crowd left"
                time.sleep(0.1)
    finally:
        process.stop()
