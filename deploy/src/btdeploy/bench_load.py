"""Load for `make bench` (issue 13): a closed loop (N requests, C at a time: P1's throughput) and an open loop
(arrivals at a fixed rate whatever the answers: P2's latency and P4's sustained rate), both over a `send` that
submits application i and returns its id (None when refused), so the platform and the bare endpoint get the very
same load. An open loop's latency is counted from each arrival's scheduled moment, not from when the generator got
round to sending it, so a server that falls behind is not flattered (coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application
from btkernel.http_pool import OnePassTransport

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"
SUBMIT = "/api/v1/applications"

Send = Callable[[int], Awaitable[str | None]]


@dataclass
class Load:
    elapsed_s: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of accepted requests
    accepted_at: dict[str, float] = field(default_factory=dict)  # application id → perf_counter at its answer
    errors: int = 0
    late: int = 0  # open loop: arrivals not sent because too many were outstanding
    # Closed loop: CPU seconds of the load's client while it ran (this thread's: the event loop sending the load,
    # not the bench's memory sampler beside it). On a machine the load shares with what it measures, a client that
    # costs as much as the server holds the server's rate down.
    client_cpu_s: float = 0.0

    @property
    def accepted(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.accepted / self.elapsed_s if self.elapsed_s else 0.0


async def closed_loop(send: Send, n: int, concurrency: int, first: int = 0) -> Load:
    """Requests first..first+n-1, `concurrency` in flight at all times."""
    load = Load()
    numbers = iter(range(first, first + n))

    async def worker() -> None:
        for i in numbers:
            t0 = time.perf_counter()
            app_id = await send(i)
            t1 = time.perf_counter()
            if app_id is None:
                load.errors += 1
            else:
                load.latencies.append(t1 - t0)
                load.accepted_at[app_id] = t1

    start, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    load.elapsed_s = time.perf_counter() - start
    load.client_cpu_s = time.thread_time() - cpu
    return load


async def open_loop(
    send: Send, rate: float, seconds: float, first: int = 0, max_outstanding: int = 256
) -> Load:
    """Arrival k at start + k/rate for `seconds`; waits for every answer before returning."""
    load = Load()
    outstanding: set[asyncio.Task[None]] = set()
    count = max(1, round(rate * seconds))

    async def one(i: int, scheduled: float) -> None:
        app_id = await send(i)
        now = time.perf_counter()
        if app_id is None:
            load.errors += 1
        else:
            load.latencies.append(now - scheduled)
            load.accepted_at[app_id] = now

    start = time.perf_counter()
    for k in range(count):
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(outstanding) >= max_outstanding:
            load.late += 1
            continue
        task = asyncio.create_task(one(first + k, scheduled))
        outstanding.add(task)
        task.add_done_callback(outstanding.discard)
    await asyncio.gather(*list(outstanding))
    load.elapsed_s = time.perf_counter() - start
    return load


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    """The load's client, on the one-pass pool (btkernel.http_pool): on httpcore's own pool it spent 2.0–2.5 ms of
    CPU a request on these two cores, twice what the bare endpoint needs, and held the bare baseline to half its
    rate (400–500 against 775–850 a second, docs/adr/0043)."""
    limits = httpx.Limits(max_connections=concurrency + 4)
    return httpx.AsyncClient(base_url=base_url, timeout=60.0, transport=OnePassTransport(limits=limits))


def _body(i: int) -> dict[str, Any]:
    return birth_application(email=f"bench-{i}@example.kz")


def _key(i: int) -> dict[str, str]:
    """The desk sends one Idempotency-Key per form (ADR 0011), so a submission may be retried and rides the
    gateway's pooled connections; the load does as the desk does. The bare endpoint gets the header too and
    ignores it: the same requests on both sides."""
    return {"Idempotency-Key": f"bench-{RUN}-{i}"}


# Keys of one bench run never meet another run's (a second run against the same `--gateway`).
RUN = uuid.uuid4().hex[:12]


async def _application_id(request: Awaitable[httpx.Response]) -> str | None:
    """The submitted application's id, or None when it was refused — or when the connection broke or the request
    timed out: an overloaded platform (P4's highest steps, a gateway cutting connections whose headers it could not
    read in time) fails that step as an error, instead of ending the whole section and losing the rates found kept."""
    try:
        r = await request
    except httpx.TransportError:
        return None
    return str(r.json()["application_id"]) if r.status_code == 201 else None


async def gateway_sender(gw: Gateway) -> Send:
    """Submissions through the gateway as the centre's operator (token taken once, before timing)."""
    operator = dev_user("centre_operator", CENTRE)
    await gw.token(operator)

    async def send(i: int) -> str | None:
        return await _application_id(gw.as_(operator, "POST", SUBMIT, json=_body(i), headers=_key(i)))

    return send


def bare_sender(http: httpx.AsyncClient) -> Send:
    """The same bodies to the bare endpoint (or the bare proxy in front of it)."""

    async def send(i: int) -> str | None:
        return await _application_id(http.post(SUBMIT, json=_body(i), headers=_key(i)))

    return send


async def case_delays(registry_dsn: str, application_ids: list[str]) -> dict[str, float]:
    """Submission → the case committed in the registry, per application, from the registry's own rows: the case's
    `opened_at` minus the `submitted_at` its first event carries (both clocks are this machine's)."""
    conn = await asyncpg.connect(registry_dsn)
    try:
        rows = await conn.fetch(
            "SELECT c.application_id,"
            " extract(epoch FROM c.opened_at - (e.data->>'submitted_at')::timestamptz) AS d FROM cases c"
            " JOIN events e ON e.stream_id = c.case_id AND e.version = 1 WHERE c.application_id = ANY($1)",
            application_ids,
        )
    finally:
        await conn.close()
    return {str(r["application_id"]): float(r["d"]) for r in rows}


async def wait_for_cases(registry_dsn: str, application_ids: list[str], timeout_s: float) -> dict[str, float]:
    """`case_delays` once every case is open, or when `timeout_s` has passed (those not open are missing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        delays = await case_delays(registry_dsn, application_ids)
        if len(delays) >= len(application_ids) or time.monotonic() > deadline:
            return delays
        await asyncio.sleep(0.25)
