"""Against real PostgreSQL and a real SMTP sink: idempotent consumption, delivery, retries, crash recovery, API."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from notification_factories import envelope, refused, result_received, submitted

from btkernel import clock, db
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers
from civreg import topics
from notification import main
from notification.adapters.consumer import on_event
from notification.adapters.smtp import SmtpMailer
from notification.adapters.store import PgStore, PgTransactions
from notification.app import projection
from notification.app.delivery import Delivery
from notification.domain.delivery import DeliveryError, RetryPolicy
from notification.domain.notification import DELIVERED, FAILED, PENDING, SKIPPED_NO_ADDRESS, Notification
from notification.settings import NotificationSettings

pytestmark = pytest.mark.integration

SENDER = "no-reply@bir-tereze.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unique_email() -> str:
    return f"applicant-{uuid.uuid4().hex[:10]}@example.kz"


@pytest.fixture
async def dsn(make_database: Any) -> str:
    dsn: str = await make_database("notification")
    return dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=6)
    await db.migrate(pool, "notification.migrations")
    try:
        yield pool
    finally:
        await pool.close()


def _consumer(pool: asyncpg.Pool) -> IdempotentConsumer:
    # The kernel's consumer, applied without Kafka: the same transaction, processed_events row and handler.
    return IdempotentConsumer(
        pool=pool,
        kafka={"bootstrap_servers": "unused:0"},
        group_id=projection.GROUP,
        topics=[topics.APPLICATION],
        handler=on_event,
        service="notification",
        event_types=projection.EVENT_TYPES,
    )


async def _consume(pool: asyncpg.Pool, env: Envelope) -> bool:
    record = SimpleNamespace(topic=topics.APPLICATION, partition=0, offset=0)
    outcome = await _consumer(pool).apply_once(env, record)
    return outcome == "applied"


async def _queue_result_ready(
    pool: asyncpg.Pool, email: str | None, phone: str | None = "+77011234567"
) -> tuple[str, Envelope]:
    sub = submitted(email=email, phone=phone)
    await _consume(pool, envelope(sub))
    env = envelope(result_received(sub.application_id))
    await _consume(pool, env)
    return sub.application_id, env


async def _rows(pool: asyncpg.Pool, application_id: str) -> list[Notification]:
    async with pool.acquire() as conn:
        return await PgStore(conn).list_for_application(application_id)


async def _outbox(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, envelope FROM outbox ORDER BY id")
    return [{"topic": r["topic"], **r["envelope"]} for r in rows]


def _worker(pool: asyncpg.Pool, mailer: Any, **policy: Any) -> Delivery:
    defaults: dict[str, Any] = {"max_attempts": 3, "backoff_s": 0.0, "backoff_max_s": 0.0, "lease_s": 30.0}
    return Delivery(PgTransactions(pool), mailer, sender=SENDER, policy=RetryPolicy(**(defaults | policy)))


async def test_the_same_event_twice_writes_one_row(pool: asyncpg.Pool) -> None:
    application_id, env = await _queue_result_ready(pool, _unique_email())
    assert await _consume(pool, env) is False  # recognised by its event id
    # Even without the consumer's guard (a handler run twice), the table holds one message per event.
    for _ in range(2):
        async with pool.acquire() as conn, conn.transaction():
            await on_event(conn, env, RequestContext(correlation_id="rerun"))
    rows = await _rows(pool, application_id)
    assert len(rows) == 1
    assert rows[0].status == PENDING
    assert rows[0].attempts == 0


async def test_pending_message_is_delivered_over_smtp_and_announced(
    pool: asyncpg.Pool, smtp_sink: Any
) -> None:
    email = _unique_email()
    application_id, env = await _queue_result_ready(pool, email)
    worker = _worker(pool, SmtpMailer(smtp_sink.host, smtp_sink.port, timeout_s=5))
    assert await worker.run_once() == 1
    [mail] = smtp_sink.messages_to(email)
    assert "R-2025-000123" in mail.subject
    assert "документ, удостоверяющий личность" in mail.text()
    assert "қолхат" in mail.text()
    [row] = await _rows(pool, application_id)
    assert row.status == DELIVERED
    assert row.attempts == 1
    assert row.delivered_at is not None
    assert mail.message["Message-ID"] == f"<{row.notification_id}@bir-tereze.test>"
    [out] = await _outbox(pool)
    assert out["topic"] == topics.NOTIFICATION
    assert out["type"] == "kz.civreg.notification.delivered.v1"
    assert out["subject"] == row.notification_id
    assert out["correlation_id"] == "corr-1"
    assert out["causation_id"] == env.id
    assert out["data"]["attempts"] == 1
    assert out["data"]["recipient"] == email
    assert await worker.run_once() == 0  # nothing is sent twice
    assert len(smtp_sink.messages_to(email)) == 1


async def test_smtp_unreachable_is_retried_then_marked_failed(pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    worker = _worker(pool, SmtpMailer("127.0.0.1", _free_port(), timeout_s=2), max_attempts=3)
    for attempt in (1, 2):
        await worker.run_once()
        [row] = await _rows(pool, application_id)
        assert (row.status, row.attempts) == (PENDING, attempt)
        assert row.last_error is not None
        assert "unavailable" in row.last_error
        assert await _outbox(pool) == []  # retries are not announced, only the outcome
    await worker.run_once()
    [row] = await _rows(pool, application_id)
    assert (row.status, row.attempts) == (FAILED, 3)
    [out] = await _outbox(pool)
    assert out["type"] == "kz.civreg.notification.failed.v1"
    assert out["data"]["attempts"] == 3
    assert "unavailable" in out["data"]["error"]
    assert await worker.run_once() == 0


async def test_retries_wait_for_their_backoff(pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    worker = _worker(
        pool, SmtpMailer("127.0.0.1", _free_port(), timeout_s=2), backoff_s=60.0, backoff_max_s=60.0
    )
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # not due for another minute
    [row] = await _rows(pool, application_id)
    assert row.attempts == 1
    assert (row.next_attempt_at - row.updated_at).total_seconds() > 50


class _RefusingMailer:
    async def send(self, message: EmailMessage) -> None:
        raise DeliveryError("SMTP 550: no such mailbox", permanent=True)


async def test_a_permanent_refusal_fails_at_once(pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    await _worker(pool, _RefusingMailer(), max_attempts=5).run_once()
    [row] = await _rows(pool, application_id)
    assert (row.status, row.attempts, row.last_error) == (FAILED, 1, "SMTP 550: no such mailbox")
    assert [o["type"] for o in await _outbox(pool)] == ["kz.civreg.notification.failed.v1"]


async def test_no_address_is_logged_as_skipped_and_never_sent(pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, None, phone=None)
    sent: list[EmailMessage] = []

    class _Recording:
        async def send(self, message: EmailMessage) -> None:
            sent.append(message)

    assert await _worker(pool, _Recording()).run_once() == 0
    [row] = await _rows(pool, application_id)
    assert row.status == SKIPPED_NO_ADDRESS
    assert sent == []


async def test_a_worker_that_died_mid_send_leaves_a_record_and_the_message_goes_again(
    pool: asyncpg.Pool, smtp_sink: Any
) -> None:
    email = _unique_email()
    application_id, _ = await _queue_result_ready(pool, email)
    async with pool.acquire() as conn, conn.transaction():
        [claimed] = await PgStore(conn).claim_due(now=clock.now(), limit=10, max_attempts=3, lease_s=30)
    # ...and the worker dies here. The attempt is on record; the row waits for its lease to run out.
    worker = _worker(pool, SmtpMailer(smtp_sink.host, smtp_sink.port, timeout_s=5))
    assert await worker.run_once() == 0
    async with pool.acquire() as conn:
        await conn.execute("UPDATE notifications SET next_attempt_at = now() - interval '1 second'")
    assert await worker.run_once() == 1
    [row] = await _rows(pool, application_id)
    assert (row.status, row.attempts) == (DELIVERED, 2)
    assert len(smtp_sink.messages_to(email)) == 1
    # The dead worker's late outcome cannot overwrite the newer one.
    async with pool.acquire() as conn, conn.transaction():
        assert await PgStore(conn).record_failed(claimed, "late", clock.now()) is False


async def test_a_last_attempt_lost_in_a_crash_is_marked_failed(pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE notifications SET attempts = 3, next_attempt_at = now() - interval '1 second'"
        )
    await _worker(pool, _RefusingMailer(), max_attempts=3).run_once()
    [row] = await _rows(pool, application_id)
    assert row.status == FAILED
    assert row.last_error is not None
    assert "interrupted" in row.last_error
    assert [o["type"] for o in await _outbox(pool)] == ["kz.civreg.notification.failed.v1"]


async def test_two_workers_never_send_the_same_message(pool: asyncpg.Pool) -> None:
    ids = [(await _queue_result_ready(pool, _unique_email()))[0] for _ in range(12)]
    sent: list[str] = []

    class _Slow:
        async def send(self, message: EmailMessage) -> None:
            await asyncio.sleep(0.05)
            sent.append(str(message["To"]))

    workers = [_worker(pool, _Slow()) for _ in range(2)]
    for w in workers:
        w.batch_size = 5
    while len(sent) < 12:
        await asyncio.gather(*(w.run_once() for w in workers))
    assert len(sent) == len(set(sent)) == 12
    statuses = [r.status for app_id in ids for r in await _rows(pool, app_id)]
    assert statuses == [DELIVERED] * 12


async def test_refusal_is_sent_with_missing_documents(pool: asyncpg.Pool, smtp_sink: Any) -> None:
    email = _unique_email()
    await _consume(pool, envelope(refused(email=email)))
    await _worker(pool, SmtpMailer(smtp_sink.host, smtp_sink.port, timeout_s=5)).run_once()
    [mail] = smtp_sink.messages_to(email)
    assert "RR-2025-000007" in mail.subject
    assert "Медицинское свидетельство о рождении" in mail.text()


# -- the HTTP API, on the real app with consumers, relay and delivery off --


@pytest.fixture
async def client(dsn: str, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationSettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, delivery_enabled=False
    )
    app = main.build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notification") as c:
            yield c


def _as(role: str, site: str | None = None) -> dict[str, str]:
    return actor_headers(f"user-{role}", role, site)


async def test_api_lists_the_delivery_log_for_the_applications_centre(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    for headers in (_as("supervisor"), _as("centre_operator", "almaty-con-1")):
        r = await client.get(
            "/api/v1/notifications", params={"application_id": application_id}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["application_id"] == application_id
        [item] = body["items"]
        assert item["status"] == "pending"
        assert item["template"] == "result_ready"
        assert item["attempts"] == 0


async def test_api_hides_another_centres_application(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    application_id, _ = await _queue_result_ready(pool, _unique_email())
    r = await client.get(
        "/api/v1/notifications",
        params={"application_id": application_id},
        headers=_as("centre_operator", "almaty-con-2"),
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    unknown = await client.get(
        "/api/v1/notifications", params={"application_id": "nope"}, headers=_as("supervisor")
    )
    assert unknown.status_code == 404


async def test_api_refuses_other_roles_and_bad_queries(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/notifications", params={"application_id": "a"}, headers=_as("registry_head", "almaty-almaly")
    )
    assert r.status_code == 403
    r = await client.get("/api/v1/notifications", headers=_as("supervisor"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "query.application_id"
    r = await client.get(
        "/api/v1/notifications", params={"application_id": "bad id!"}, headers=_as("supervisor")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "query.application_id"
    r = await client.get("/api/v1/notifications", params={"application_id": "a"})
    assert r.status_code == 401


async def test_the_app_runs_its_delivery_worker(dsn: str, pool: asyncpg.Pool, smtp_sink: Any) -> None:
    # Consumers stay off: the session's Kafka is shared, and the real consumer group belongs to the stack.
    settings = NotificationSettings(
        database_url=dsn,
        relay_enabled=False,
        consumers_enabled=False,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_from=SENDER,
        delivery_poll_interval_s=0.05,
    )
    app = main.build(settings)
    email = _unique_email()
    async with app.router.lifespan_context(app):
        application_id, _ = await _queue_result_ready(pool, email)
        await asyncio.to_thread(smtp_sink.wait_for, email, 1, 30.0)
        # The mail arrives before the worker records it: wait for the record too, while the worker runs.
        for _ in range(200):
            [row] = await _rows(pool, application_id)
            if row.status == DELIVERED:
                break
            await asyncio.sleep(0.05)
    assert row.status == DELIVERED
