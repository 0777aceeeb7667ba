"""The consumer's handler with an in-memory store: projection, queued messages, skipped ones, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from notification_factories import MemoryStore, envelope, person, refused, result_received, submitted

from civreg.events.case import ReviewExtended
from notification.app import projection
from notification.domain.notification import PENDING, SKIPPED_NO_ADDRESS


async def test_submission_keeps_contact_receipt_centre_and_both_service_names() -> None:
    store = MemoryStore()
    event = submitted()
    env = envelope(event)
    await projection.apply(env, store)
    app = store.applications[event.application_id]
    assert app.email == "aigerim@example.kz"
    assert app.phone == "+77011234567"
    assert app.receipt_number == "R-2025-000123"
    assert app.centre_id == "almaty-con-1"
    assert app.recipient_name == "Ахметова Айгерим Нурлановна"
    assert app.service_name_ru.startswith("Регистрация рождения")
    assert app.service_name_kk.startswith("Баланың тууын тіркеу")
    assert app.timezone == "Asia/Almaty"
    assert app.source_event_id == env.id
    assert store.notifications == {}  # a submission alone sends nothing


async def test_result_received_queues_one_pending_email_with_the_receipt_and_pickup_place() -> None:
    store = MemoryStore()
    sub = submitted()
    await projection.apply(envelope(sub), store)
    env = envelope(result_received(sub.application_id, pickup_place="ЦОН №1, Желтоксан 120"))
    await projection.apply(env, store)
    [n] = store.notifications.values()
    assert (n.status, n.channel, n.recipient, n.template) == (
        PENDING,
        "email",
        "aigerim@example.kz",
        "result_ready",
    )
    assert n.source_event_id == env.id
    assert n.correlation_id == "corr-1"
    assert "R-2025-000123" in n.subject
    assert "ЦОН №1, Желтоксан 120" in n.body


async def test_the_same_event_again_yields_the_same_notification_id_and_no_second_message() -> None:
    store = MemoryStore()
    sub = submitted()
    await projection.apply(envelope(sub), store)
    env = envelope(result_received(sub.application_id))
    await projection.apply(env, store)
    await projection.apply(env, store)
    assert len(store.notifications) == 1


async def test_no_email_but_a_kazakh_mobile_queues_a_short_sms_instead() -> None:
    store = MemoryStore()
    sub = submitted(email=None, phone="8 (701) 123-45-67")
    await projection.apply(envelope(sub), store)
    await projection.apply(envelope(result_received(sub.application_id)), store)
    [n] = store.notifications.values()
    assert (n.status, n.channel, n.recipient) == (PENDING, "sms", "+77011234567")
    assert "R-2025-000123" in n.body
    # Nothing personal beyond the receipt number: no name, no pickup address.
    assert "Айгерим" not in n.body
    assert "Zheltoksan" not in n.body


async def test_a_phone_that_cannot_take_an_sms_is_logged_as_skipped_with_the_reason() -> None:
    store = MemoryStore()
    sub = submitted(email=None, phone="+77272501234")  # an Almaty landline
    await projection.apply(envelope(sub), store)
    await projection.apply(envelope(result_received(sub.application_id)), store)
    [n] = store.notifications.values()
    assert n.status == SKIPPED_NO_ADDRESS
    assert n.recipient == ""
    assert n.last_error is not None
    assert "not a Kazakh mobile number" in n.last_error


async def test_neither_email_nor_phone_is_skipped_too() -> None:
    store = MemoryStore()
    sub = submitted(email=None, phone=None)
    await projection.apply(envelope(sub), store)
    await projection.apply(envelope(result_received(sub.application_id)), store)
    [n] = store.notifications.values()
    assert n.status == SKIPPED_NO_ADDRESS
    assert n.last_error == "no e-mail address or phone number given"


async def test_a_representatives_own_email_is_used_when_the_application_gives_none() -> None:
    rep = {
        "person": person("Ахметов", "Нурлан", None, "650101300111"),
        "contact": {"email": "nurlan@example.kz"},
        "power_of_attorney": {"number": "POA-1", "issued_on": "2025-10-01", "notary": "Нотариус Б."},
    }
    store = MemoryStore()
    sub = submitted(email=None, representative=rep)
    await projection.apply(envelope(sub), store)
    app = store.applications[sub.application_id]
    assert app.email == "nurlan@example.kz"
    assert app.recipient_name == "Ахметов Нурлан"


async def test_a_result_for_an_application_never_seen_is_an_error_for_the_dead_letter_topic() -> None:
    with pytest.raises(projection.UnknownApplication):
        await projection.apply(envelope(result_received("never-submitted")), MemoryStore())


async def test_refusal_makes_the_projection_row_and_queues_the_refusal_with_missing_documents() -> None:
    store = MemoryStore()
    event = refused(centre_id="almaty-con-2")
    await projection.apply(envelope(event), store)
    app = store.applications[event.application_id]
    assert app.status == "acceptance_refused"
    assert app.centre_id == "almaty-con-2"
    assert app.receipt_number is None
    [n] = store.notifications.values()
    assert n.template == "acceptance_refused"
    assert n.status == PENDING
    assert "RR-2025-000007" in n.subject
    assert "Медицинское свидетельство о рождении" in n.body
    assert "Туу туралы медициналық куәлік" in n.body


async def test_events_without_a_correlation_id_correlate_to_themselves() -> None:
    store = MemoryStore()
    sub = submitted()
    await projection.apply(envelope(sub), store)
    env = envelope(result_received(sub.application_id), correlation_id=None)
    await projection.apply(env, store)
    [n] = store.notifications.values()
    assert n.correlation_id == env.id


async def test_an_extension_queues_the_notice_the_applicant_is_owed_in_both_languages() -> None:
    store = MemoryStore()
    sub = submitted()
    await projection.apply(envelope(sub), store)
    at = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    extended = ReviewExtended(
        case_id="k1",
        extended_at=at,
        extended_by="head1",
        reason="запрос в МВД",
        days=30,
        previous_due_at=at,
        review_due_at=dt.datetime(2026, 12, 24, 12, 30, tzinfo=dt.UTC),
        applicant_notice_due_at=at + dt.timedelta(days=3),
        application_id=sub.application_id,
    )
    await projection.apply(envelope(extended), store)
    [n] = store.notifications.values()
    assert n.template == "review_extended"
    assert n.status == PENDING
    assert "R-2025-000123" in n.subject
    # The new due date is the applicant's local date; the reason is named (S002 §2.2).
    assert "24.12.2026" in n.body
    assert "запрос в МВД" in n.body
    assert "күнтізбелік" in n.body


async def test_an_extension_without_its_application_is_left_alone() -> None:
    store = MemoryStore()
    at = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    await projection.apply(
        envelope(
            ReviewExtended(
                case_id="k1",
                extended_at=at,
                extended_by="head1",
                reason="x",
                days=5,
                previous_due_at=at,
                review_due_at=at,
                applicant_notice_due_at=at,
            )
        ),
        store,
    )
    assert store.notifications == {}
