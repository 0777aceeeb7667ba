"""Receipt numbers per centre and year: consecutive, without gaps or duplicates, under concurrent submissions and
when a submission fails after its number was taken (S004 p.9(2); issue 13: the number is taken late and the
writes after it are batched, which must not buy speed with a gap)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel.testing import actor_headers

pytestmark = pytest.mark.integration

CENTRE = "almaty-con-1"
OPERATOR = actor_headers("op-almaly-1", "centre_operator", CENTRE, "Сейткали Айгерим Нурлановна")


def _sequence(number: str) -> int:
    prefix, _, seq = number.rpartition("-")
    assert prefix.startswith(CENTRE.upper() + "-"), number
    return int(seq)


async def _numbers(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT receipt_number FROM applications WHERE centre_id = $1", CENTRE)
    finally:
        await conn.close()
    return sorted(_sequence(r["receipt_number"]) for r in rows)


async def test_concurrent_submissions_of_one_centre_get_consecutive_numbers(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake

    async def one(i: int) -> httpx.Response:
        # Every fifth package is incomplete: a refusal receipt takes a number from the same counter.
        documents = (
            ["identity_document"] if i % 5 == 0 else ["identity_document", "medical_birth_certificate"]
        )
        body = birth_application(email=f"n{i}@example.kz", documents=documents)
        return await client.post("/api/v1/applications", json=body, headers=OPERATOR)

    responses = await asyncio.gather(*(one(i) for i in range(30)))
    assert [r.status_code for r in responses] == [201] * 30
    issued = sorted(
        _sequence((r.json()["receipt"] or r.json()["refusal_receipt"])["number"]) for r in responses
    )
    assert issued == list(range(1, 31))
    assert await _numbers(dsn) == issued
    # Each submission's events, outbox rows and history journal entries were written with it, in event order.
    conn = await asyncpg.connect(dsn)
    try:
        counts: Any = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM outbox) AS outbox,"
            " (SELECT count(*) FROM history_journal) AS journal"
        )
        disorder = await conn.fetchval(
            "SELECT count(*) FROM outbox a JOIN outbox b ON a.envelope->>'subject' = b.envelope->>'subject'"
            " JOIN events ea ON ea.event_id = a.event_id JOIN events eb ON eb.event_id = b.event_id"
            " WHERE a.id < b.id AND ea.version > eb.version"
        )
    finally:
        await conn.close()
    accepted = sum(1 for r in responses if r.json()["receipt"] is not None)
    assert counts["events"] == counts["outbox"] == counts["journal"] == 2 * accepted + (30 - accepted)
    assert disorder == 0


async def test_a_submission_failing_after_its_number_leaves_no_gap(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, dsn = intake
    first = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    assert first.status_code == 201
    # A fault of the database in the submission's last write, the one sent with the commit after the number
    # was taken: the whole transaction rolls back, the counter's increment with it.
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """
            CREATE FUNCTION fail_marked() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.applicant_name LIKE 'Сбой%' THEN RAISE EXCEPTION 'injected fault'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_marked BEFORE INSERT ON applications FOR EACH ROW EXECUTE FUNCTION fail_marked();
            """
        )
    finally:
        await conn.close()
    failing = birth_application()
    failing["applicant"]["name"]["surname"] = "Сбой"
    # The in-process transport hands the server's error to the caller (a process would answer 500).
    with pytest.raises(asyncpg.RaiseError, match="injected fault"):
        await client.post("/api/v1/applications", json=failing, headers=OPERATOR)
    # A ticket that cannot be served fails before the counter moves.
    r = await client.post(
        "/api/v1/applications", json={**birth_application(), "ticket_id": "no-such-ticket"}, headers=OPERATOR
    )
    assert 400 <= r.status_code < 500, r.text
    last = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    assert last.status_code == 201
    assert _sequence(first.json()["receipt"]["number"]) == 1
    assert _sequence(last.json()["receipt"]["number"]) == 2
    assert await _numbers(dsn) == [1, 2]
