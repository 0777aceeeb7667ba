"""SMS against real PostgreSQL and the SMS provider's sink as its own process (ADR 0038): the HTTP adapter's
requests, the provider's dedupe and refusals, the delivery worker's SMS rows, and the delivery-report route with
its signature (forged, unknown id, bad phone, duplicate) on the real app."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
from notification_factories import envelope, result_received, submitted

from btdeploy.ports import free_port
from btdeploy.sms_sink import SmsSinkProcess, sign
from btkernel import db
from btkernel.consumer import IdempotentConsumer
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers
from civreg import topics
from notification import main
from notification.adapters.consumer import on_event
from notification.adapters.sms_http import SIGNATURE_HEADER, SmsHttpSender
from notification.adapters.store import PgStore, PgTransactions
from notification.app import projection
from notification.app.delivery import Delivery
from notification.domain.delivery import DeliveryError, RetryPolicy
from notification.domain.notification import DELIVERED, FAILED, PENDING, SENT, SMS, Notification
from notification.domain.sms_reports import Sms
from notification.settings import NotificationSettings

pytestmark = pytest.mark.integration

CALLBACK_KEY = secrets.token_hex(32)


def _unique_phone() -> str:
    return "+7701" + str(uuid.uuid4().int)[:7]


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSinkProcess]:
    # Its reports go nowhere here (nothing listens on the callback port): the route is tested with reports
    # signed the sink's way; the end-to-end test has the sink report to the service process.
    workdir: Path = tmp_path_factory.mktemp("sms-sink")
    process = SmsSinkProcess(
        workdir,
        free_port(),
        api_key=secrets.token_hex(16),
        callback_key=CALLBACK_KEY,
        callback_url=f"http://127.0.0.1:{free_port()}/sms-provider/reports",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


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


def _sender(sink: SmsSinkProcess, api_key: str | None = None) -> SmsHttpSender:
    return SmsHttpSender(sink.url, api_key or sink.api_key, sender="BirTereze", timeout_s=5)


async def _queue_sms(pool: asyncpg.Pool, phone: str) -> tuple[str, str]:
    """A phone-only application's result-ready notice, through the real consumer; (application id, notice id)."""
    sub = submitted(email=None, phone=phone)
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
    env: Envelope
    for env in (envelope(sub), envelope(result_received(sub.application_id))):
        await consumer.apply_once(env, record)
    [row] = await _rows(pool, sub.application_id)
    return sub.application_id, row.notification_id


async def _rows(pool: asyncpg.Pool, application_id: str) -> list[Notification]:
    async with pool.acquire() as conn:
        return await PgStore(conn).list_for_application(application_id)


def _delivery(pool: asyncpg.Pool, sink: SmsSinkProcess) -> Delivery:
    return Delivery(
        PgTransactions(pool),
        SimpleNamespace(),  # type: ignore[arg-type]  # no mail in these tests
        sender="no-reply@bt.test",
        policy=RetryPolicy(max_attempts=3, backoff_s=0.0, backoff_max_s=0.0, lease_s=30.0),
        sms=_sender(sink),
    )


# -- the adapter against the sink --


async def test_the_provider_keeps_the_message_once_per_reference(sink: SmsSinkProcess) -> None:
    phone = _unique_phone()
    sms = Sms(str(uuid.uuid4()), phone, "Результат готов. / Нәтиже дайын.")
    await _sender(sink).send(sms)
    await _sender(sink).send(sms)  # an answer lost, the send repeated: still one SMS
    [kept] = await asyncio.to_thread(sink.messages, phone)
    assert (kept["id"], kept["phone"], kept["text"], kept["segments"]) == (
        sms.reference,
        phone.removeprefix("+"),
        sms.text,
        1,
    )


async def test_a_wrong_key_is_retried_and_a_wrong_number_is_not(sink: SmsSinkProcess) -> None:
    with pytest.raises(DeliveryError, match="error 2") as wrong_key:
        await _sender(sink, "not-the-key").send(Sms(str(uuid.uuid4()), _unique_phone(), "текст"))
    assert wrong_key.value.permanent is False
    with pytest.raises(DeliveryError, match="error 7") as wrong_number:
        await _sender(sink).send(Sms(str(uuid.uuid4()), "+7701123", "текст"))
    assert wrong_number.value.permanent is True


async def test_a_provider_answering_503_is_retried(sink: SmsSinkProcess) -> None:
    await asyncio.to_thread(sink.script, "fail", {"count": 1})
    with pytest.raises(DeliveryError, match="HTTP 503") as down:
        await _sender(sink).send(Sms(str(uuid.uuid4()), _unique_phone(), "текст"))
    assert down.value.permanent is False


async def test_the_status_query_answers_as_a_report(sink: SmsSinkProcess) -> None:
    phone, ref = _unique_phone(), str(uuid.uuid4())
    await _sender(sink).send(Sms(ref, phone, "текст"))
    answer = await _sender(sink).status(ref, phone)
    assert (answer.reference, answer.phone) == (ref, phone)
    assert answer.status in (-1, 1)  # waiting, or delivered once the sink reported
    with pytest.raises(DeliveryError, match="error 5") as unknown:
        await _sender(sink).status(str(uuid.uuid4()), phone)
    assert unknown.value.permanent is False


# -- the worker --


async def test_the_worker_sends_a_phone_only_applicants_notice_and_marks_it_sent(
    pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    phone = _unique_phone()
    application_id, nid = await _queue_sms(pool, phone)
    assert await _delivery(pool, sink).run_once() == 1
    [row] = await _rows(pool, application_id)
    assert (row.channel, row.status, row.attempts, row.recipient) == (SMS, SENT, 1, phone)
    [kept] = await asyncio.to_thread(sink.messages, phone)
    assert kept["id"] == nid
    assert "R-2025-000123" in kept["text"]
    assert kept["segments"] <= 3


# -- the report route, on the real app --


@pytest.fixture
async def client(dsn: str, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationSettings(
        database_url=dsn,
        relay_enabled=False,
        consumers_enabled=False,
        delivery_enabled=False,
        sms_callback_key=CALLBACK_KEY,
        delivery_max_attempts=2,
        delivery_backoff_s=0.0,
    )
    app = main.build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notification") as c:
            yield c


def _report(ref: str, phone: str, status: int, *, key: str = CALLBACK_KEY) -> dict[str, Any]:
    body = urlencode(
        {"id": ref, "phone": phone.removeprefix("+"), "status": status, "err": 0, "ts": 1}
    ).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        SIGNATURE_HEADER: sign(key.encode(), body),
    }
    return {"content": body, "headers": headers}


async def _sent(pool: asyncpg.Pool, sink: SmsSinkProcess) -> tuple[str, str, str]:
    phone = _unique_phone()
    application_id, nid = await _queue_sms(pool, phone)
    await _delivery(pool, sink).run_once()
    return application_id, nid, phone


async def test_a_signed_delivered_report_marks_the_sms_delivered_once(
    client: httpx.AsyncClient, pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    application_id, nid, phone = await _sent(pool, sink)
    r = await client.post("/sms-provider/reports", **_report(nid, phone, 1))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": nid, "outcome": "delivered"}
    again = await client.post("/sms-provider/reports", **_report(nid, phone, 1))
    assert again.json()["outcome"] == "duplicate"
    [row] = await _rows(pool, application_id)
    assert row.status == DELIVERED
    async with pool.acquire() as conn:
        types = await conn.fetch(
            "SELECT envelope->>'type' AS t FROM outbox WHERE envelope->>'subject' = $1", nid
        )
    assert [t["t"] for t in types] == ["kz.civreg.notification.delivered.v1"]
    # The delivery log shows it to the centre's operator.
    log = await client.get(
        "/api/v1/notifications",
        params={"application_id": application_id},
        headers=actor_headers("op", "centre_operator", "almaty-con-1"),
    )
    [item] = log.json()["items"]
    assert (item["channel"], item["status"], item["recipient"]) == ("sms", "delivered", phone)


async def test_a_forged_or_unsigned_report_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    application_id, nid, phone = await _sent(pool, sink)
    forged = await client.post("/sms-provider/reports", **_report(nid, phone, 1, key="not-the-key"))
    assert forged.status_code == 401
    assert SIGNATURE_HEADER in forged.json()["detail"]
    unsigned = _report(nid, phone, 1)
    del unsigned["headers"][SIGNATURE_HEADER]
    assert (await client.post("/sms-provider/reports", **unsigned)).status_code == 401
    # A user's internal token is no substitute for the signature.
    with_token = _report(nid, phone, 1, key="not-the-key")
    with_token["headers"] |= actor_headers("boss", "supervisor", None)
    assert (await client.post("/sms-provider/reports", **with_token)).status_code == 401
    [row] = await _rows(pool, application_id)
    assert row.status == SENT


@pytest.mark.parametrize(
    ("ref", "phone", "status", "code", "path"),
    [
        (str(uuid.uuid4()), "+77011234567", 1, 404, "body.id"),
        ("not-ours", "+77011234567", 1, 422, "body.id"),
        (None, "+79161234567", 1, 422, "body.phone"),
        (None, "+77011234567", 1, 404, "body.phone"),  # not the phone it was sent to
        (None, None, 99, 422, "body.status"),
    ],
)
async def test_a_report_naming_no_sms_of_ours_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    sink: SmsSinkProcess,
    ref: str | None,
    phone: str | None,
    status: int,
    code: int,
    path: str,
) -> None:
    _, nid, sent_to = await _sent(pool, sink)
    r = await client.post("/sms-provider/reports", **_report(ref or nid, phone or sent_to, status))
    assert r.status_code == code, r.text
    assert [e["path"] for e in r.json()["errors"]] == [path]


async def test_a_report_that_is_not_a_form_is_422(client: httpx.AsyncClient) -> None:
    body = b"\xff\xfe" * 10
    r = await client.post(
        "/sms-provider/reports", content=body, headers={SIGNATURE_HEADER: sign(CALLBACK_KEY.encode(), body)}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body"


async def test_a_phone_off_sends_again_then_fails_on_the_last_attempt(
    client: httpx.AsyncClient, pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    application_id, nid, phone = await _sent(pool, sink)
    first = await client.post("/sms-provider/reports", **_report(nid, phone, 3))
    assert first.json()["outcome"] == "sent_again"
    [row] = await _rows(pool, application_id)
    assert (row.status, row.send_round) == (PENDING, 1)
    await _delivery(pool, sink).run_once()  # backoff 0: due at once, sent as round 1
    assert [m["id"] for m in await asyncio.to_thread(sink.messages, phone)] == [nid, f"{nid}.1"]
    last = await client.post("/sms-provider/reports", **_report(f"{nid}.1", phone, 3))
    assert last.json()["outcome"] == "failed"
    [row] = await _rows(pool, application_id)
    assert row.status == FAILED
    assert "expired" in (row.last_error or "")
