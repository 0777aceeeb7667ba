"""Restart PostgreSQL in the middle of a burst of submissions through the gateway (real processes).

Every answer is a receipt (201) or an outage (503 problem with Retry-After) — never a 500, never a 503 a client
cannot act on. Each refused submission is retried with its Idempotency-Key after Retry-After, as the counter
software does; in the end every key has exactly one application, and intake's database holds nothing
half-written: one application row, one idempotency record and one complete event stream per key, nothing for
anyone else (docs/adr/0011-outages-are-503.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.postgres import ExternalPostgres
from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

CONCURRENCY = 6
# Submissions before PostgreSQL goes down, so the restart meets requests in every stage of their transaction.
BEFORE_RESTART = 12
# An upper bound on the burst, whatever the speed of the machine.
MAX_SUBMISSIONS = 400
SUBMITTED = "kz.civreg.application.submitted.v1"
FORWARDED = "kz.civreg.application.forwarded.v1"


def _check_answer(response: httpx.Response) -> None:
    """What a client may get while the database restarts: a receipt or an actionable outage."""
    assert response.status_code in (201, 503), f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 503:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0, "a 503 without Retry-After"


async def _retry_until_accepted(gateway: Gateway, operator: Any, key: str, body: dict[str, Any]) -> str:
    deadline = time.monotonic() + 180
    while True:
        r = await gateway.as_(
            operator, "POST", "/api/v1/applications", json=body, headers={"Idempotency-Key": key}
        )
        _check_answer(r)
        if r.status_code == 201:
            return str(r.json()["application_id"])
        assert time.monotonic() < deadline, f"{key} never accepted"
        await asyncio.sleep(int(r.headers["retry-after"]))


async def test_a_database_restart_mid_burst_gives_only_503s_and_one_receipt_per_key(
    stack: Stack, gateway: Gateway
) -> None:
    if isinstance(stack.postgres, ExternalPostgres):
        pytest.skip("the test restarts PostgreSQL; a server of DATABASE_URL is not ours to restart")
    operator = dev_user("centre_operator", "almaty-con-1")
    for user in (operator, dev_user("supervisor")):
        await gateway.token(user)  # signed in before the gateway's own database goes away
    run = uuid.uuid4().hex[:8]
    bodies: dict[str, dict[str, Any]] = {}
    first: dict[str, httpx.Response] = {}
    restarted = asyncio.Event()
    counter = iter(range(MAX_SUBMISSIONS))

    async def worker() -> None:
        # New keys until the database is back: some meet it up, some going down, some down, some starting.
        while not restarted.is_set():
            i = next(counter, None)
            if i is None:
                return
            key = f"outage-{run}-{i}"
            bodies[key] = birth_application(email=f"{key}@example.kz")
            first[key] = await gateway.as_(
                operator, "POST", "/api/v1/applications", json=bodies[key], headers={"Idempotency-Key": key}
            )
            await asyncio.sleep(0.05)

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    await eventually(lambda: _at_least(first, BEFORE_RESTART), what="submissions before the restart")
    await asyncio.to_thread(stack.postgres.stop)  # fast shutdown: open transactions are cut
    await asyncio.to_thread(stack.postgres.start)
    restarted.set()
    await asyncio.gather(*workers)

    for response in first.values():
        _check_answer(response)
    refused = sorted(key for key, r in first.items() if r.status_code == 503)
    assert refused, "no submission met the outage: the test proved nothing"

    accepted = {key: str(r.json()["application_id"]) for key, r in first.items() if r.status_code == 201}
    for key in refused:
        accepted[key] = await _retry_until_accepted(gateway, operator, key, bodies[key])
    # A key that did get its receipt gets the same one again, marked as a replay (also through the gateway).
    some = sorted(key for key, r in first.items() if r.status_code == 201)[:3]
    for key in some:
        again = await gateway.as_(
            operator, "POST", "/api/v1/applications", json=bodies[key], headers={"Idempotency-Key": key}
        )
        assert again.status_code == 201
        assert again.json() == first[key].json()
        assert again.headers["idempotent-replayed"] == "true"

    await _assert_one_complete_application_per_key(stack, accepted, bodies)
    await _wait_until_the_platform_recovered(gateway, [accepted[key] for key in (*refused[:3], *some)])


async def _assert_one_complete_application_per_key(
    stack: Stack, accepted: dict[str, str], bodies: dict[str, dict[str, Any]]
) -> None:
    ids = sorted(set(accepted.values()))
    assert len(ids) == len(accepted), "two keys got the same application"
    iins = [body["applicant"]["iin"] for body in bodies.values()]
    db = await asyncpg.connect(stack.database_url("intake"))
    try:
        # One application row per key, and none for these applicants other than those.
        rows = await db.fetch("SELECT application_id FROM applications WHERE applicant_iin = ANY($1)", iins)
        assert sorted(r["application_id"] for r in rows) == ids
        # One idempotency record per key, holding the receipt the client got.
        stored = await db.fetch(
            "SELECT key, response->>'application_id' AS id FROM idempotency_keys WHERE key = ANY($1)",
            list(accepted),
        )
        assert {r["key"]: r["id"] for r in stored} == accepted
        # Every stream complete, each fact once, versions without gaps; no stream of these applicants without
        # its application row (an event written by a transaction that did not commit the rest).
        streams = await db.fetch(
            "SELECT stream_id, array_agg(event_type ORDER BY version) AS types, max(version) AS last,"
            " count(*) AS n FROM events WHERE stream_id IN (SELECT stream_id FROM events"
            " WHERE event_type = $2 AND data->'applicant'->>'iin' = ANY($1)) GROUP BY stream_id",
            iins,
            SUBMITTED,
        )
        assert sorted(s["stream_id"] for s in streams) == ids
        for s in streams:
            assert s["types"][:2] == [SUBMITTED, FORWARDED], s
            assert s["types"].count(SUBMITTED) == s["types"].count(FORWARDED) == 1, s
            assert s["last"] == s["n"], f"a gap in {s['stream_id']}"
        # Each event in the outbox exactly once: the relay will publish what was committed, and only that.
        outbox = await db.fetchval(
            "SELECT count(*) FROM outbox o JOIN events e ON e.event_id = o.event_id"
            " WHERE e.stream_id = ANY($1) AND e.event_type IN ($2, $3)",
            ids,
            SUBMITTED,
            FORWARDED,
        )
        assert outbox == 2 * len(ids)
    finally:
        await db.close()


async def _wait_until_the_platform_recovered(gateway: Gateway, application_ids: list[str]) -> None:
    """The relays and consumers wait the outage out (ADR 0007): applications accepted around the restart reach
    the fee service, and the next test gets a whole platform."""
    supervisor = dev_user("supervisor")

    async def reached(application_id: str) -> bool:
        r = await gateway.as_(supervisor, "GET", "/api/v1/fees", params={"application_id": application_id})
        return r.status_code == 200

    for application_id in application_ids:
        await eventually(
            lambda a=application_id: reached(a), timeout_s=120, what=f"{application_id} at the fee service"
        )


async def _at_least(done: dict[str, Any], n: int) -> bool:
    return len(done) >= n
