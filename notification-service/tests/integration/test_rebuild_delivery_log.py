"""The delivery log (`notifications`) rebuilt from its messages' streams (ADR 0027, issue 10) equals, row for row,
what the consumer and the delivery worker wrote — a letter delivered, one failed then retried and delivered, one
failed for good, an SMS sent, reported off, sent again and reported delivered, a message without an address, one
queued and not yet tried, one claimed by a worker that stopped mid-send, a row from before the history (its
stream back-filled by migration 041) — and the rebuild sends and announces nothing: the mailer and the SMS
provider get nothing, the outbox and the history keep their counts, the chain verifies, and afterwards the worker
sends exactly what it would have sent without it."""

from __future__ import annotations

import asyncio
import importlib.resources
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from notification_factories import RecordingSms, envelope, result_received, submitted

from btkernel import db, rebuild
from btkernel.consumer import IdempotentConsumer
from btkernel.history import backfill, verify
from civreg import topics
from notification.adapters import delivery_history
from notification.adapters.consumer import on_event
from notification.adapters.store import PgTransactions
from notification.app import projection
from notification.app.delivery import Delivery
from notification.app.sms_reports import take_report
from notification.domain.delivery import DeliveryError, RetryPolicy
from notification.domain.sms_reports import DeliveryReport
from notification.projections import PROJECTIONS

pytestmark = pytest.mark.integration

LOG = next(p for p in PROJECTIONS if p.name == "delivery_log")
POLICY = RetryPolicy(max_attempts=3, backoff_s=0.0, backoff_max_s=0.0, lease_s=30.0)


@pytest.fixture
async def dsn(make_database: Any) -> str:
    dsn: str = await make_database("notifrebuild")
    return dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=8)
    await db.migrate(pool, "notification.migrations")
    try:
        yield pool
    finally:
        await pool.close()


class ScriptedMailer:
    """Keeps each letter sent; a recipient's scripted failures come first, one per attempt."""

    def __init__(self, failures: dict[str, list[DeliveryError]] | None = None) -> None:
        self.failures = failures or {}
        self.sent: list[str] = []

    async def send(self, message: EmailMessage) -> None:
        if self.failures.get(message["To"]):
            raise self.failures[message["To"]].pop(0)
        self.sent.append(message["To"])


async def _queue(pool: asyncpg.Pool, **contact: Any) -> str:
    """A result-ready notice of a new application, through the live consumer; the application's id."""
    sub = submitted(**contact)
    consumer = IdempotentConsumer(
        pool=pool,
        kafka={"bootstrap_servers": "unused:0"},
        group_id=projection.GROUP,
        topics=[topics.APPLICATION],
        handler=on_event,
        service="notification",
        event_types=projection.EVENT_TYPES,
    )
    record = SimpleNamespace(topic=topics.APPLICATION, partition=0, offset=0)
    for env in (envelope(sub), envelope(result_received(sub.application_id))):
        assert await consumer.apply_once(env, record) == "applied"
    return sub.application_id


def _email() -> dict[str, Any]:
    return {"email": f"r-{uuid.uuid4().hex[:10]}@example.kz", "phone": None}


def _phone() -> dict[str, Any]:
    return {"email": None, "phone": "+7701" + str(uuid.uuid4().int)[:7]}


async def _row(pool: asyncpg.Pool, application_id: str) -> dict[str, Any]:
    [row] = await pool.fetch("SELECT * FROM notifications WHERE application_id = $1", application_id)
    return dict(row)


async def _rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {str(r["notification_id"]): dict(r) for r in await pool.fetch("SELECT * FROM notifications")}


async def _report(pool: asyncpg.Pool, application_id: str, status: int) -> str:
    row = await _row(pool, application_id)
    ref = str(row["notification_id"]) + (f".{row['send_round']}" if row["send_round"] else "")
    async with PgTransactions(pool)() as tx:
        report = DeliveryReport(reference=ref, phone=row["recipient"], status=status, error_code=None)
        return await take_report(
            report, tx, policy=POLICY, now=row["updated_at"], actor="system:notification"
        )


async def _legacy(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, mailer: ScriptedMailer) -> str:
    """A letter queued and delivered by the code before the history (no events), then migration 041 run again (it
    is idempotent) and the chain's back-fill, as `btkernel.migrate` does on an upgrade."""

    async def before_history(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as m:
        m.setattr(delivery_history, "append", before_history)
        application_id = await _queue(pool, **_email())
        await Delivery(PgTransactions(pool), mailer, sender="no-reply@bt.test", policy=POLICY).run_once()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        sql = importlib.resources.files("notification.migrations").joinpath("041_delivery_history.sql")
        await conn.execute(sql.read_text())
        assert await backfill.backfill(conn) == 1
    return application_id


async def _counts(pool: asyncpg.Pool) -> tuple[int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM outbox"),
        await pool.fetchval("SELECT count(*) FROM events"),
    )


async def test_the_delivery_log_rebuilt_equals_the_live_one_and_sends_nothing(
    pool: asyncpg.Pool, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = ScriptedMailer()
    legacy = await _legacy(pool, monkeypatch, mailer)
    retried, failing = _email(), _email()
    mailer.failures = {
        retried["email"]: [DeliveryError("421 try again later", permanent=False)],
        failing["email"]: [DeliveryError("550 no such mailbox", permanent=True)],
    }
    sms = RecordingSms()
    worker = Delivery(PgTransactions(pool), mailer, sender="no-reply@bt.test", policy=POLICY, sms=sms)
    delivered = await _queue(pool, **_email())
    retried_id = await _queue(pool, **retried)
    failed_id = await _queue(pool, **failing)
    sms_id = await _queue(pool, **_phone())
    skipped = await _queue(pool, email=None, phone=None)
    await worker.run_once()  # delivered, retried (failed for now), failed for good, SMS handed over
    await worker.run_once()  # the retry delivered
    assert await _report(pool, sms_id, 3) == "sent_again"  # the phone was off: the next round
    await worker.run_once()
    assert await _report(pool, sms_id, 1) == "delivered"
    claimed = await _queue(pool, **_email())
    async with PgTransactions(pool)() as tx:  # a worker that claimed it and stopped before sending
        [_] = await tx.claim_due(
            now=(await _row(pool, claimed))["next_attempt_at"], limit=1, max_attempts=3, lease_s=3600
        )
    waiting = await _queue(pool, **_email())

    live = await _rows(pool)
    by_app = {r["application_id"]: (r["status"], r["attempts"], r["send_round"]) for r in live.values()}
    assert by_app[legacy] == ("delivered", 1, 0)
    assert by_app[delivered] == ("delivered", 1, 0)
    assert by_app[retried_id] == ("delivered", 2, 0)
    assert by_app[failed_id] == ("failed", 1, 0)
    assert by_app[sms_id] == ("delivered", 2, 1)
    assert by_app[skipped][0] == "skipped_no_address"
    assert by_app[claimed] == ("pending", 1, 0)
    assert by_app[waiting] == ("pending", 0, 0)
    assert len(live) == 8
    before = (await _counts(pool), list(mailer.sent), dict(sms.sent))

    report = await rebuild.rebuild(dsn, LOG, batch=3)
    assert report.events == await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_type = 'notification'"
    )
    assert await _rows(pool) == live
    assert (await _counts(pool), mailer.sent, sms.sent) == before
    async with pool.acquire() as conn:
        found = await verify.verify(conn)
    assert found.ok, found.findings
    # The foreign key to the applications came along with the swapped-in table.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.notifications'::regclass AND contype = 'f'"
        )
        == 1
    )

    # The worker, after the swap, sends the one message waiting and nothing delivered, failed or claimed.
    await worker.run_once()
    assert mailer.sent == [*before[1], (await _row(pool, waiting))["recipient"]]


async def test_a_rebuild_while_the_worker_sends_loses_nothing_and_sends_nothing_twice(
    pool: asyncpg.Pool, dsn: str
) -> None:
    mailer = ScriptedMailer()
    worker = Delivery(PgTransactions(pool), mailer, sender="no-reply@bt.test", policy=POLICY, batch_size=3)
    for _ in range(10):
        await _queue(pool, **_email())
    stop = asyncio.Event()
    queued = 10

    async def consume() -> None:
        nonlocal queued
        while not stop.is_set():
            await _queue(pool, **_email())
            queued += 1
            await asyncio.sleep(0)

    async def deliver() -> None:
        while not stop.is_set():
            await worker.run_once()
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(consume()), asyncio.create_task(deliver())]
    try:
        for _ in range(2):
            await rebuild.rebuild(dsn, LOG, batch=4, workers=2)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    while await worker.run_once():
        pass
    rows = await _rows(pool)
    assert len(rows) == queued > 10
    assert {r["status"] for r in rows.values()} == {"delivered"}
    assert sorted(mailer.sent) == sorted({r["recipient"] for r in rows.values()})
    await rebuild.rebuild(dsn, LOG)
    assert await _rows(pool) == rows
