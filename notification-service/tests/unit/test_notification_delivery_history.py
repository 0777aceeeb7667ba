"""The delivery log's row is the fold of its stream (ADR 0027): the queued row with each change laid over it, and a
stream that does not open with the queued row is refused, never taken as pending."""

from __future__ import annotations

import datetime as dt

import pytest

from notification.domain.delivery_history import (
    DeliveryAttemptClaimed,
    DeliveryAttemptFailed,
    DeliveryRecorded,
    NotificationQueued,
    fold,
)

AT = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def _queued() -> NotificationQueued:
    return NotificationQueued(
        notification_id="n-1",
        application_id="a-1",
        source_event_id="e-1",
        channel="email",
        recipient="a@example.kz",
        template="result_ready",
        subject="s",
        body="b",
        status="pending",
        attempts=0,
        last_error=None,
        next_attempt_at=AT,
        last_attempt_at=None,
        delivered_at=None,
        correlation_id="c",
        created_at=AT,
        updated_at=AT,
        send_round=0,
    )


def test_each_change_sets_its_columns_and_nothing_else() -> None:
    row = fold(
        [
            _queued(),
            DeliveryAttemptClaimed(
                attempts=1, last_attempt_at=AT, next_attempt_at=AT + MINUTE, updated_at=AT
            ),
            DeliveryAttemptFailed(last_error="421", next_attempt_at=AT + 2 * MINUTE, updated_at=AT + MINUTE),
            DeliveryAttemptClaimed(
                attempts=2, last_attempt_at=AT + 2 * MINUTE, next_attempt_at=AT + 3 * MINUTE, updated_at=AT
            ),
            DeliveryRecorded(
                status="delivered", delivered_at=AT + 3 * MINUTE, last_error=None, updated_at=AT
            ),
        ]
    )
    assert (row.status, row.attempts, row.last_error, row.delivered_at) == (
        "delivered",
        2,
        None,
        AT + 3 * MINUTE,
    )
    assert (row.last_attempt_at, row.next_attempt_at, row.created_at) == (
        AT + 2 * MINUTE,
        AT + 3 * MINUTE,
        AT,
    )
    assert (row.recipient, row.body) == ("a@example.kz", "b")


def test_a_stream_without_its_queued_row_is_refused() -> None:
    claimed = DeliveryAttemptClaimed(attempts=1, last_attempt_at=AT, next_attempt_at=AT, updated_at=AT)
    with pytest.raises(ValueError, match="opens with NotificationQueued"):
        fold([claimed])
    with pytest.raises(ValueError, match="not a change of a queued notification"):
        fold([_queued(), _queued()])
