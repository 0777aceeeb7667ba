"""The delivery use case on fakes (delivery log, mailer, clock): what is sent when, what is recorded, and which
outcome is announced — the rules the worker applies, without PostgreSQL or SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from notification_factories import (
    FakeClock,
    MemoryDeliveryLog,
    MemoryStore,
    RecordingMailer,
    envelope,
    result_received,
    submitted,
)

from btkernel.envelope import Envelope
from civreg import topics
from notification.app import projection
from notification.app.delivery import Delivery
from notification.domain.delivery import MAX_ERROR_CHARS, DeliveryError, RetryPolicy
from notification.domain.notification import DELIVERED, FAILED, PENDING, Notification

START = dt.datetime(2025, 11, 5, 4, 0, tzinfo=dt.UTC)
SENDER = "no-reply@bir-tereze.test"


async def _queued(
    log: MemoryDeliveryLog, at: dt.datetime, *, email: str | None = "aigerim@example.kz"
) -> str:
    """A result-ready message queued by the projection use case, put into the fake log at `at`."""
    store = MemoryStore()
    sub = submitted(email=email)
    await projection.apply(envelope(sub), store)
    await projection.apply(envelope(result_received(sub.application_id)), store)
    [n] = store.notifications.values()
    return log.add(n, at=at).notification_id


def _delivery(log: MemoryDeliveryLog, mailer: RecordingMailer, clock: FakeClock, **policy: Any) -> Delivery:
    defaults: dict[str, Any] = {
        "max_attempts": 3,
        "backoff_s": 60.0,
        "backoff_max_s": 600.0,
        "lease_s": 120.0,
    }
    return Delivery(
        log,
        mailer,
        sender=SENDER,
        policy=RetryPolicy(**(defaults | policy)),
        now=clock.now,
    )


def _row(log: MemoryDeliveryLog, notification_id: str) -> Notification:
    return log.rows[notification_id]


async def test_a_due_message_is_sent_recorded_and_announced_at_the_clocks_time() -> None:
    log, mailer, clock = MemoryDeliveryLog(), RecordingMailer(), FakeClock(START)
    nid = await _queued(log, START)
    assert await _delivery(log, mailer, clock).run_once() == 1
    [message] = mailer.sent
    assert message["To"] == "aigerim@example.kz"
    assert message["Message-ID"] == f"<{nid}@bir-tereze.test>"
    assert message["Date"].datetime == START
    row = _row(log, nid)
    assert (row.status, row.attempts, row.delivered_at, row.last_attempt_at) == (DELIVERED, 1, START, START)
    [(topic, out)] = log.outbox
    assert topic == topics.NOTIFICATION
    assert out.type == "kz.civreg.notification.delivered.v1"
    assert out.subject == nid
    assert out.actor == "system:notification"
    assert out.causation_id == row.source_event_id
    assert dt.datetime.fromisoformat(out.data["delivered_at"]) == START
    assert out.data["attempts"] == 1
    assert await _delivery(log, mailer, clock).run_once() == 0  # nothing is sent twice


async def test_a_message_queued_for_later_waits_for_the_clock() -> None:
    log, mailer, clock = MemoryDeliveryLog(), RecordingMailer(), FakeClock(START)
    await _queued(log, START + dt.timedelta(seconds=10))
    delivery = _delivery(log, mailer, clock)
    assert await delivery.run_once() == 0
    assert mailer.sent == []
    clock.advance(10)
    assert await delivery.run_once() == 1
    assert len(mailer.sent) == 1


async def test_a_transient_failure_is_retried_after_its_backoff_then_fails_on_the_last_attempt() -> None:
    unavailable = DeliveryError("SMTP 127.0.0.1:25 unavailable", permanent=False)
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    mailer = RecordingMailer(unavailable, unavailable, unavailable)
    delivery = _delivery(log, mailer, clock, max_attempts=3, backoff_s=60.0)
    nid = await _queued(log, START)

    assert await delivery.run_once() == 1
    row = _row(log, nid)
    assert (row.status, row.attempts, row.last_error) == (PENDING, 1, "SMTP 127.0.0.1:25 unavailable")
    assert row.next_attempt_at == START + dt.timedelta(seconds=60)
    assert log.outbox == []  # a retry is not announced, only the outcome

    clock.advance(59)
    assert await delivery.run_once() == 0  # its backoff has not run out
    clock.advance(1)
    assert await delivery.run_once() == 1
    row = _row(log, nid)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=120)  # doubled

    clock.advance(120)
    assert await delivery.run_once() == 1
    row = _row(log, nid)
    assert (row.status, row.attempts, row.updated_at) == (FAILED, 3, clock.now())
    [(_, out)] = log.outbox
    assert out.type == "kz.civreg.notification.failed.v1"
    assert out.data["attempts"] == 3
    assert dt.datetime.fromisoformat(out.data["failed_at"]) == clock.now()
    assert "unavailable" in out.data["error"]
    clock.advance(3600)
    assert await delivery.run_once() == 0
    assert mailer.sent == []


async def test_a_permanent_refusal_fails_at_once() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    mailer = RecordingMailer(DeliveryError("SMTP 550: no such mailbox", permanent=True))
    nid = await _queued(log, START)
    assert await _delivery(log, mailer, clock, max_attempts=5).run_once() == 1
    row = _row(log, nid)
    assert (row.status, row.attempts, row.last_error) == (FAILED, 1, "SMTP 550: no such mailbox")
    assert [out.type for _, out in log.outbox] == ["kz.civreg.notification.failed.v1"]


async def test_a_bug_in_sending_is_retried_not_left_claimed_for_the_lease() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    mailer = RecordingMailer(RuntimeError("boom"))
    nid = await _queued(log, START)
    assert await _delivery(log, mailer, clock, backoff_s=5.0, lease_s=120.0).run_once() == 1
    row = _row(log, nid)
    assert row.status == PENDING
    assert row.last_error == "RuntimeError('boom')"
    assert row.next_attempt_at == START + dt.timedelta(seconds=5)  # the backoff, not the two-minute lease


async def test_a_long_error_is_kept_short_in_the_log() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    mailer = RecordingMailer(DeliveryError("x" * 5000, permanent=True))
    nid = await _queued(log, START)
    await _delivery(log, mailer, clock).run_once()
    assert _row(log, nid).last_error == "x" * MAX_ERROR_CHARS


async def test_a_last_attempt_lost_in_a_crash_fails_once_its_lease_runs_out() -> None:
    log, mailer, clock = MemoryDeliveryLog(), RecordingMailer(), FakeClock(START)
    nid = await _queued(log, START)
    # A worker claims the last allowed attempt and dies before recording its outcome.
    [claimed] = await log.claim_due(now=START, limit=10, max_attempts=1, lease_s=120)
    delivery = _delivery(log, mailer, clock, max_attempts=1, lease_s=120)
    assert await delivery.run_once() == 0  # still leased to the dead worker
    clock.advance(120)
    assert await delivery.run_once() == 1
    row = _row(log, nid)
    assert row.status == FAILED
    assert row.last_error is not None
    assert "interrupted" in row.last_error
    assert mailer.sent == []  # not tried again: that would exceed the attempts
    assert [out.type for _, out in log.outbox] == ["kz.civreg.notification.failed.v1"]
    # The dead worker's late outcome cannot overwrite the recorded one.
    assert await log.record_delivered(claimed, clock.now()) is False


async def test_an_outcome_for_a_reclaimed_attempt_is_dropped_and_not_announced() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _queued(log, START)

    class _SlowThenReclaimed(RecordingMailer):
        async def send(self, message: EmailMessage) -> None:
            # While this send ran past its lease, another worker claimed the message again.
            clock.advance(300)
            await log.claim_due(now=clock.now(), limit=10, max_attempts=5, lease_s=120)

    assert await _delivery(log, _SlowThenReclaimed(), clock).run_once() == 1
    row = _row(log, nid)
    assert (row.status, row.attempts) == (PENDING, 2)
    assert log.outbox == []


async def test_an_announcement_that_cannot_be_queued_rolls_the_outcome_back() -> None:
    class _OutboxDown(MemoryDeliveryLog):
        async def enqueue(self, topic: str, envelope: Envelope) -> None:
            raise ConnectionError("database away")

    log, mailer, clock = _OutboxDown(), RecordingMailer(), FakeClock(START)
    nid = await _queued(log, START)
    with pytest.raises(ConnectionError):
        await _delivery(log, mailer, clock).run_once()
    # The attempt stays on record (its claim committed before sending), the outcome does not: the lease brings
    # the message back.
    row = _row(log, nid)
    assert (row.status, row.attempts, row.delivered_at) == (PENDING, 1, None)
    assert log.rollbacks == 1


async def test_without_a_clock_the_use_case_reads_the_services_clock(
    clock_at: Callable[[dt.datetime], None],
) -> None:
    clock_at(START)
    log, mailer = MemoryDeliveryLog(), RecordingMailer()
    nid = await _queued(log, START)
    delivery = Delivery(log, mailer, sender=SENDER, policy=RetryPolicy())
    assert await delivery.run_once() == 1
    delivered_at = _row(log, nid).delivered_at
    assert delivered_at is not None
    assert abs((delivered_at - START).total_seconds()) < 60


def test_the_policy_gives_up_on_a_permanent_refusal_or_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up(a, permanent=False) for a in (1, 2, 3, 4)] == [False, False, True, True]
    assert policy.gives_up(1, permanent=True)
    assert RetryPolicy(backoff_s=2.0, backoff_max_s=10.0).retry_at(3, START) == START + dt.timedelta(
        seconds=8
    )
