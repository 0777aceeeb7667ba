"""The SMS whose delivery report never came (ADR 0038, "Lost reports"), against real PostgreSQL and the SMS
provider's sink as its own process, whose reports are dropped (`plan … silent`): the status check asks the
provider only once the SMS has waited long enough, settles it by the same rules as a report, asks again later
while the answer is not final, and gives up after its bound. The clock is moved, never waited for."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from notification_factories import envelope, result_received, submitted

from btdeploy.ports import free_port
from btdeploy.sms_sink import SmsSinkProcess
from btkernel import clock as service_clock
from btkernel import db
from btkernel.consumer import IdempotentConsumer
from civreg import topics
from notification.adapters.consumer import on_event
from notification.adapters.sms_http import SmsHttpSender
from notification.adapters.store import PgStore, PgTransactions
from notification.app import projection
from notification.app.delivery import Delivery
from notification.app.sms_status import StatusChecks
from notification.domain.delivery import RetryPolicy
from notification.domain.notification import DELIVERED, FAILED, PENDING, SENT, Notification
from notification.domain.sms_status import StatusPolicy

pytestmark = pytest.mark.integration

POLICY = StatusPolicy(first_after_s=900, max_interval_s=3600, give_up_after_s=6 * 3600)
RETRY = RetryPolicy(max_attempts=3, backoff_s=0.0, backoff_max_s=0.0, lease_s=30.0)


class Clock:
    """The moment every use case in a test sees; the test moves it. It starts at the service clock's now (a row is
    due from the database's now when queued), and every assertion is relative to where it started."""

    def __init__(self) -> None:
        self.start = self.at = service_clock.now()

    def __call__(self) -> dt.datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSinkProcess]:
    workdir: Path = tmp_path_factory.mktemp("sms-sink")
    process = SmsSinkProcess(
        workdir,
        free_port(),
        api_key=secrets.token_hex(16),
        callback_key=secrets.token_hex(32),
        callback_url=f"http://127.0.0.1:{free_port()}/sms-provider/reports",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def pool(make_database: Any) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(await make_database("notification"), max_size=6)
    await db.migrate(pool, "notification.migrations")
    try:
        yield pool
    finally:
        await pool.close()


def _sender(sink: SmsSinkProcess) -> SmsHttpSender:
    return SmsHttpSender(sink.url, sink.api_key, sender="BirTereze", timeout_s=5)


async def _handed_over(
    pool: asyncpg.Pool, sink: SmsSinkProcess, clock: Clock, statuses: list[int]
) -> tuple[str, str]:
    """A phone-only applicant's notice sent by the worker, the provider's report of it dropped; (app id, phone)."""
    phone = "+7701" + str(uuid.uuid4().int)[:7]
    await asyncio.to_thread(sink.script, "plan", {"phone": phone, "statuses": statuses, "silent": True})
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
    for env in (envelope(sub), envelope(result_received(sub.application_id))):
        await consumer.apply_once(env, record)
    clock.start = clock.at = service_clock.now()  # the row is due from the database's now, which has passed
    assert await _delivery(pool, sink, clock).run_once() == 1
    assert (await _row(pool, sub.application_id)).status == SENT
    return sub.application_id, phone


def _delivery(pool: asyncpg.Pool, sink: SmsSinkProcess, clock: Clock) -> Delivery:
    return Delivery(
        PgTransactions(pool),
        SimpleNamespace(),  # type: ignore[arg-type]  # no mail here
        sender="no-reply@bt.test",
        policy=RETRY,
        sms=_sender(sink),
        now=clock,
    )


def _checks(pool: asyncpg.Pool, sink: SmsSinkProcess, clock: Clock) -> StatusChecks:
    return StatusChecks(PgTransactions(pool), _sender(sink), policy=POLICY, retry=RETRY, now=clock)


async def _row(pool: asyncpg.Pool, application_id: str) -> Notification:
    async with pool.acquire() as conn:
        [row] = await PgStore(conn).list_for_application(application_id)
    return row


async def _events(pool: asyncpg.Pool, notification_id: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT envelope->>'type' AS t FROM outbox WHERE envelope->>'subject' = $1 ORDER BY id",
            notification_id,
        )
    return [r["t"] for r in rows]


async def test_a_delivered_sms_whose_report_was_lost_is_settled_by_asking_the_provider(
    pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    clock = Clock()
    application_id, phone = await _handed_over(pool, sink, clock, [1])
    [kept] = await asyncio.to_thread(sink.messages, phone)
    assert kept["reports"] == []  # the report was dropped

    clock.move(seconds=899)
    assert await _checks(pool, sink, clock).run_once() == 0  # not asked before it waited long enough
    clock.move(seconds=1)
    assert await _checks(pool, sink, clock).run_once() == 1
    row = await _row(pool, application_id)
    assert (row.status, row.delivered_at) == (DELIVERED, clock.at)
    assert await _events(pool, row.notification_id) == ["kz.civreg.notification.delivered.v1"]
    clock.move(hours=1)
    assert await _checks(pool, sink, clock).run_once() == 0  # settled: never asked about again


async def test_an_expired_sms_is_sent_again_as_a_report_would_have_it(
    pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    clock = Clock()
    application_id, phone = await _handed_over(pool, sink, clock, [3, 1])
    clock.move(minutes=15)
    assert await _checks(pool, sink, clock).run_once() == 1
    row = await _row(pool, application_id)
    assert (row.status, row.send_round) == (PENDING, 1)
    assert "expired" in (row.last_error or "")
    await _delivery(pool, sink, clock).run_once()
    assert [m["id"] for m in await asyncio.to_thread(sink.messages, phone)] == [
        row.notification_id,
        f"{row.notification_id}.1",
    ]


async def test_a_status_that_stays_interim_is_asked_again_later_then_given_up(
    pool: asyncpg.Pool, sink: SmsSinkProcess
) -> None:
    clock = Clock()
    application_id, _ = await _handed_over(pool, sink, clock, [0])  # "handed to the operator", never more
    clock.move(minutes=15)
    assert await _checks(pool, sink, clock).run_once() == 1
    row = await _row(pool, application_id)
    assert row.status == SENT
    assert row.next_attempt_at == clock.at + dt.timedelta(minutes=15)  # waited 15 min: the next in 15 min
    clock.move(minutes=14)
    assert await _checks(pool, sink, clock).run_once() == 0
    clock.move(minutes=1)
    assert await _checks(pool, sink, clock).run_once() == 1
    assert (await _row(pool, application_id)).next_attempt_at == clock.at + dt.timedelta(minutes=30)
    clock.move(hours=2)
    await _checks(pool, sink, clock).run_once()
    # The pause doubles up to its bound.
    assert (await _row(pool, application_id)).next_attempt_at == clock.at + dt.timedelta(hours=1)

    clock.at = clock.start + dt.timedelta(hours=6)
    assert await _checks(pool, sink, clock).run_once() == 1
    row = await _row(pool, application_id)
    assert row.status == FAILED
    assert row.last_error == (
        "SMS outcome unknown: no delivery report within 6 h and no final status from the provider (status 0)"
    )
    assert await _events(pool, row.notification_id) == ["kz.civreg.notification.failed.v1"]


async def test_two_instances_ask_about_each_sms_once(pool: asyncpg.Pool, sink: SmsSinkProcess) -> None:
    clock = Clock()
    application_id, _ = await _handed_over(pool, sink, clock, [1])
    clock.move(minutes=15)
    asked = await asyncio.gather(_checks(pool, sink, clock).run_once(), _checks(pool, sink, clock).run_once())
    assert sorted(asked) == [0, 1]
    row = await _row(pool, application_id)
    assert row.status == DELIVERED
    assert await _events(pool, row.notification_id) == ["kz.civreg.notification.delivered.v1"]


def test_the_policy_refuses_bounds_out_of_order() -> None:
    with pytest.raises(ValueError, match="first_after_s"):
        StatusPolicy(first_after_s=600, max_interval_s=60)
    with pytest.raises(ValueError, match="gives up"):
        StatusPolicy(first_after_s=600, max_interval_s=600, give_up_after_s=60)
