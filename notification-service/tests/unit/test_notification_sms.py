"""SMS to applicants reachable by phone only (ADR 0038): Kazakh mobile numbers, segment counting, the texts of every
template within three segments in both languages, the channel choice, sending through the delivery use case, and
the provider's delivery reports (idempotent, unknown id, earlier rounds, retry and failure by the policy)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from notification_factories import (
    FakeClock,
    MemoryDeliveryLog,
    MemoryStore,
    RecordingMailer,
    RecordingSms,
    envelope,
    refused,
    result_received,
    submitted,
)

from civreg.events.case import ReviewExtended
from notification.app import projection, sms_reports
from notification.app.delivery import Delivery
from notification.domain import messages, sms_texts
from notification.domain.applicant import ApplicationContact
from notification.domain.delivery import DeliveryError, RetryPolicy
from notification.domain.notification import (
    DELIVERED,
    EMAIL,
    FAILED,
    PENDING,
    SENT,
    SMS,
    Address,
    email_when_there_is_an_address_else_sms,
)
from notification.domain.phone import InvalidPhone, display, normalise_kz_mobile
from notification.domain.sms_length import GSM7, MAX_SEGMENTS, UCS2, segments
from notification.domain.sms_reports import DeliveryReport, UnreadableReport, parse_reference, reference

START = dt.datetime(2025, 11, 5, 4, 0, tzinfo=dt.UTC)
PHONE = "+77011234567"

# -- phones --


@pytest.mark.parametrize(
    "raw", ["+77011234567", "+7 701 123 45 67", "8 (701) 123-45-67", "77011234567", "+7 (747) 123 45 67"]
)
def test_a_kazakh_mobile_in_any_usual_spelling_is_written_one_way(raw: str) -> None:
    assert normalise_kz_mobile(raw).startswith("+77")
    assert len(normalise_kz_mobile(raw)) == 12


def test_the_normalised_number_keeps_its_digits() -> None:
    assert normalise_kz_mobile("8 (701) 123-45-67") == PHONE
    assert display(PHONE) == "+7 701 123 45 67"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("+79161234567", "not a Kazakh mobile"),  # Russia shares +7
        ("+77272501234", "not a Kazakh mobile"),  # an Almaty landline
        ("+7701123456", "of the form"),  # a digit short
        ("+770112345678", "of the form"),
        ("+7701١٢٣٤٥٦٧", "of the form"),  # digits of another script
        ("aigerim@example.kz", "of the form"),
        ("+7" + "0" * 40, "at most"),
    ],
)
def test_anything_else_is_refused_with_the_reason(raw: str, why: str) -> None:
    with pytest.raises(InvalidPhone, match=why):
        normalise_kz_mobile(raw)


# -- segments --


def test_gsm7_fits_160_in_one_segment_and_153_per_part() -> None:
    assert segments("a" * 160) == segments("a" * 160).__class__(GSM7, 1, 160)
    assert segments("a" * 161).count == 2
    assert segments("a" * 306).count == 2
    assert segments("a" * 307).count == 3


def test_gsm7_extension_characters_take_two_septets_and_are_not_split() -> None:
    assert segments("€" * 80).units == 160
    assert segments("€" * 80).count == 1
    # 76 escape pairs fill 152 septets of the first part; the 77th does not fit its last septet.
    assert segments("€" * 77 + "a" * 76).count == 2
    assert segments("a" * 152 + "€").count == 1  # 154 septets: one message
    # Packed naively, 306 septets are two parts; the pair that does not fit part one's last septet makes three.
    assert segments("a" * 152 + "€" + "a" * 152).count == 3


def test_cyrillic_and_kazakh_letters_force_ucs2_70_then_67_per_part() -> None:
    assert segments("Нәтиже").encoding == UCS2
    assert segments("Результат").encoding == UCS2
    assert segments("ә" * 70).count == 1
    assert segments("ә" * 71).count == 2
    assert segments("ә" * 201).count == 3
    assert segments("ә" * 202).count == 4


def test_a_character_outside_the_basic_plane_takes_two_ucs2_units() -> None:
    assert segments("😀").units == 2
    assert segments("a" * 66 + "😀" + "a" * 3).count == 2


# -- the texts --

# The longest values a text can quote: a number at its bound and a date.
LONGEST = {"number": "Я" * 60, "refused_on": "31.12.2026", "due_on": "31.12.2026"}
SMS_TEMPLATES = {
    messages.RESULT_READY: {},
    messages.ACCEPTANCE_REFUSED: {"refused_on": LONGEST["refused_on"]},
    messages.REGISTRY_REFUSAL: {},
    messages.REVIEW_EXTENDED: {"due_on": LONGEST["due_on"]},
    messages.COMPLAINT_ANSWERED: {},
    messages.COMPLAINT_REVIEW_REFUSED: {},
}
KAZAKH_LETTERS = set("әғқңөұүһі")


def test_every_applicant_message_has_an_sms_text() -> None:
    for template in (*messages.TEMPLATES, messages.REVIEW_EXTENDED, *SMS_TEMPLATES):
        assert sms_texts.has_text(template), template


@pytest.mark.parametrize("template", sorted(SMS_TEMPLATES))
def test_each_text_at_its_longest_takes_at_most_three_ucs2_segments(template: str) -> None:
    text = sms_texts.render(template, number=LONGEST["number"], **SMS_TEMPLATES[template])
    counted = segments(text)
    assert counted.encoding == UCS2
    assert 2 <= counted.count <= MAX_SEGMENTS == 3
    assert "\n" not in text


@pytest.mark.parametrize("template", sorted(SMS_TEMPLATES))
def test_each_text_is_in_russian_then_kazakh_and_each_half_fits_two_segments(template: str) -> None:
    text = sms_texts.render(template, number="ALMATY-CON-1-2026-000123", **SMS_TEMPLATES[template])
    russian, _, kazakh = text.partition(" / ")
    assert russian
    assert kazakh
    assert not KAZAKH_LETTERS & set(russian)
    assert KAZAKH_LETTERS & set(kazakh)
    assert "ALMATY-CON-1-2026-000123" in russian
    assert "ALMATY-CON-1-2026-000123" in kazakh
    assert segments(russian).count <= 2
    assert segments(kazakh).count <= 2


def test_a_number_over_the_bound_keeps_its_end() -> None:
    text = sms_texts.render(messages.RESULT_READY, number="X" * 50 + "-000123")
    assert "…" + "X" * (sms_texts.MAX_NUMBER_CHARS - 8) + "-000123" in text


def test_a_text_over_the_segment_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A template made longer than its bound: simulated by a bound of one segment.
    monkeypatch.setattr(sms_texts, "MAX_SEGMENTS", 1)
    with pytest.raises(sms_texts.SmsTooLong, match="more than 1"):
        sms_texts.render(messages.RESULT_READY, number="1")


# -- the channel --


def _contact(email: str | None, phone: str | None) -> ApplicationContact:
    return ApplicationContact(
        application_id="a1",
        service_id="birth_registration",
        service_name_ru="Регистрация рождения",
        service_name_kk="Тууды тіркеу",
        centre_id="almaty-con-1",
        status="submitted",
        receipt_number="R-1",
        applicant_name="А",
        recipient_name="А",
        email=email,
        phone=phone,
        timezone="Asia/Almaty",
        source_event_id="e1",
    )


def test_an_address_means_email_even_with_a_phone() -> None:
    assert email_when_there_is_an_address_else_sms(_contact("a@example.kz", PHONE)) == Address(
        EMAIL, "a@example.kz"
    )


def test_a_phone_only_means_sms_to_the_normalised_number() -> None:
    assert email_when_there_is_an_address_else_sms(_contact(None, "8 701 123 45 67")) == Address(SMS, PHONE)


def test_no_channel_is_a_reason() -> None:
    assert email_when_there_is_an_address_else_sms(_contact(None, None)) == (
        "no e-mail address or phone number given"
    )
    reason = email_when_there_is_an_address_else_sms(_contact(None, "+79161234567"))
    assert isinstance(reason, str)
    assert "not a Kazakh mobile number" in reason


async def test_a_refusal_by_sms_quotes_the_refusal_number_and_the_local_date() -> None:
    store = MemoryStore()
    await projection.apply(envelope(refused(email=None)), store)
    [n] = store.notifications.values()
    assert n.channel == SMS
    assert "RR-2025-000007" in n.body
    assert "04.11.2025" in n.body  # 20:30 UTC on the 3rd is the 4th in Almaty
    assert "неполный пакет" not in n.body  # the reason is on the refusal receipt, not in the SMS


async def test_an_extension_by_sms_quotes_the_new_local_due_date() -> None:
    store = MemoryStore()
    sub = submitted(email=None)
    await projection.apply(envelope(sub), store)
    at = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
    extended = ReviewExtended(
        case_id="k1",
        extended_at=at,
        extended_by="head1",
        reason="запрос в МВД",
        days=30,
        previous_due_at=at,
        review_due_at=dt.datetime(2026, 12, 24, 20, 30, tzinfo=dt.UTC),
        applicant_notice_due_at=at + dt.timedelta(days=3),
        application_id=sub.application_id,
    )
    await projection.apply(envelope(extended), store)
    [n] = store.notifications.values()
    assert n.channel == SMS
    assert "25.12.2026" in n.body
    assert "R-2025-000123" in n.body


# -- sending --


async def _queued_sms(log: MemoryDeliveryLog) -> str:
    store = MemoryStore()
    sub = submitted(email=None)
    await projection.apply(envelope(sub), store)
    await projection.apply(envelope(result_received(sub.application_id)), store)
    [n] = store.notifications.values()
    return log.add(n, at=START).notification_id


def _delivery(log: MemoryDeliveryLog, sms: RecordingSms | None, clock: FakeClock, **policy: Any) -> Delivery:
    defaults: dict[str, Any] = {
        "max_attempts": 3,
        "backoff_s": 60.0,
        "backoff_max_s": 600.0,
        "lease_s": 120.0,
    }
    return Delivery(
        log,
        RecordingMailer(),
        sender="no-reply@bt.test",
        policy=RetryPolicy(**(defaults | policy)),
        now=clock.now,
        sms=sms,
    )


async def test_an_accepted_sms_is_sent_not_delivered_and_announces_nothing_yet() -> None:
    log, sms, clock = MemoryDeliveryLog(), RecordingSms(), FakeClock(START)
    nid = await _queued_sms(log)
    assert await _delivery(log, sms, clock).run_once() == 1
    [(ref, sent)] = sms.sent.items()
    assert ref == nid  # the first round's reference is the notification id
    assert sent.phone == PHONE
    assert segments(sent.text).count <= MAX_SEGMENTS
    row = log.rows[nid]
    assert (row.status, row.attempts) == (SENT, 1)
    assert log.outbox == []
    assert await _delivery(log, sms, clock).run_once() == 0  # not claimed again


async def test_a_provider_away_is_retried_with_the_same_reference() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    sms = RecordingSms(DeliveryError("SMS provider HTTP 503", permanent=False))
    nid = await _queued_sms(log)
    await _delivery(log, sms, clock).run_once()
    assert (log.rows[nid].status, log.rows[nid].last_error) == (PENDING, "SMS provider HTTP 503")
    clock.advance(60)
    await _delivery(log, sms, clock).run_once()
    assert list(sms.sent) == [nid]
    assert sms.calls == 2
    assert log.rows[nid].status == SENT


async def test_without_a_provider_an_sms_fails_its_attempts_saying_so() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _queued_sms(log)
    await _delivery(log, None, clock, max_attempts=1).run_once()
    assert log.rows[nid].status == FAILED
    assert "no SMS provider" in (log.rows[nid].last_error or "")


# -- delivery reports --

POLICY = RetryPolicy(max_attempts=3, backoff_s=60.0, backoff_max_s=600.0, lease_s=120.0)


async def _sent_sms(log: MemoryDeliveryLog, clock: FakeClock) -> str:
    nid = await _queued_sms(log)
    await _delivery(log, RecordingSms(), clock).run_once()
    return nid


async def _take(log: MemoryDeliveryLog, clock: FakeClock, ref: str, status: int, phone: str = PHONE) -> str:
    async with log() as tx:
        return await sms_reports.take_report(
            DeliveryReport(ref, phone, status, 0), tx, policy=POLICY, now=clock.now(), actor="system:test"
        )


async def test_a_delivered_report_settles_the_sms_once() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    clock.advance(5)
    assert await _take(log, clock, nid, 1) == sms_reports.RECORDED_DELIVERED
    row = log.rows[nid]
    assert (row.status, row.delivered_at) == (DELIVERED, clock.now())
    assert [e.type for _, e in log.outbox] == ["kz.civreg.notification.delivered.v1"]
    assert log.outbox[0][1].data["channel"] == "sms"
    # The provider sends it again: nothing changes, nothing is announced twice.
    assert await _take(log, clock, nid, 1) == sms_reports.DUPLICATE
    assert await _take(log, clock, nid, 22) == sms_reports.DUPLICATE
    assert len(log.outbox) == 1
    assert log.rows[nid].status == DELIVERED


async def test_an_interim_report_changes_nothing() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    assert await _take(log, clock, nid, 0) == sms_reports.NOTED
    assert log.rows[nid].status == SENT


async def test_a_report_before_the_send_was_recorded_still_counts() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _queued_sms(log)
    async with log() as tx:
        [claimed] = await tx.claim_due(now=clock.now(), limit=1, max_attempts=3, lease_s=120)
    assert await _take(log, clock, nid, 1) == sms_reports.RECORDED_DELIVERED
    async with log() as tx:
        assert await tx.record_sent(claimed, clock.now()) is False  # the worker's late record is stale
    assert log.rows[nid].status == DELIVERED


async def test_a_report_for_no_sms_of_ours_or_another_phone_is_refused() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    with pytest.raises(sms_reports.UnknownMessage) as unknown:
        await _take(log, clock, "6f1b7c1e-0000-4000-8000-000000000000", 1)
    assert unknown.value.field == "body.id"
    with pytest.raises(sms_reports.UnknownMessage) as other_phone:
        await _take(log, clock, nid, 1, phone="+77771234567")
    assert other_phone.value.field == "body.phone"
    with pytest.raises(UnreadableReport) as bad_ref:
        await _take(log, clock, "not-a-reference", 1)
    assert bad_ref.value.field == "body.id"
    with pytest.raises(UnreadableReport) as bad_status:
        await _take(log, clock, nid, 99)
    assert bad_status.value.field == "body.status"
    assert log.rows[nid].status == SENT
    assert log.outbox == []


async def test_a_phone_off_sends_the_text_again_in_a_new_round_after_the_backoff() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    assert await _take(log, clock, nid, 3) == sms_reports.SENT_AGAIN
    row = log.rows[nid]
    assert (row.status, row.send_round, row.next_attempt_at) == (PENDING, 1, START + dt.timedelta(seconds=60))
    assert "expired" in (row.last_error or "")
    # A late copy of the first round's report is of an earlier round: ignored.
    assert await _take(log, clock, nid, 3) == sms_reports.DUPLICATE
    sms = RecordingSms()
    clock.advance(60)
    await _delivery(log, sms, clock).run_once()
    assert list(sms.sent) == [reference(nid, 1)] == [f"{nid}.1"]
    assert await _take(log, clock, f"{nid}.1", 1) == sms_reports.RECORDED_DELIVERED
    assert log.rows[nid].status == DELIVERED


async def test_a_wrong_number_fails_at_once_with_the_providers_reason() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    assert await _take(log, clock, nid, 22) == sms_reports.RECORDED_FAILED
    row = log.rows[nid]
    assert row.status == FAILED
    assert row.last_error == "SMS wrong number (status 22, error 0)"
    [(_, event)] = log.outbox
    assert event.type == "kz.civreg.notification.failed.v1"
    assert event.data["error"] == row.last_error


async def test_a_phone_off_on_the_last_attempt_fails() -> None:
    log, clock = MemoryDeliveryLog(), FakeClock(START)
    nid = await _sent_sms(log, clock)
    for send_round in (1, 2):
        assert await _take(log, clock, reference(nid, send_round - 1), 25) == sms_reports.SENT_AGAIN
        clock.advance(600)
        await _delivery(log, RecordingSms(), clock).run_once()
    assert log.rows[nid].attempts == POLICY.max_attempts
    assert await _take(log, clock, reference(nid, 2), 25) == sms_reports.RECORDED_FAILED
    assert log.rows[nid].status == FAILED


def test_references_round_trip_and_stay_within_the_providers_limit() -> None:
    nid = "6f1b7c1e-5b1a-4c39-9a52-2f0f7f3d8a10"
    assert parse_reference(reference(nid, 0)) == (nid, 0)
    assert parse_reference(reference(nid, 12)) == (nid, 12)
    assert len(reference(nid, 999)) <= 40
    with pytest.raises(UnreadableReport):
        parse_reference(nid + ".-1")


# -- the keys --


def test_production_refuses_the_published_sms_keys_and_believes_no_report_signed_with_them() -> None:
    from pydantic import ValidationError

    from notification.settings import DEV_SMS_CALLBACK_KEY, NotificationSettings

    with pytest.raises(ValidationError, match="BT_SMS_API_KEY"):
        NotificationSettings(env="production", sms_provider_url="https://sms.example.kz")
    with pytest.raises(ValidationError, match="BT_SMS_CALLBACK_KEY"):
        NotificationSettings(
            env="production", sms_provider_url="https://sms.example.kz", sms_api_key="k" * 32
        )
    own = NotificationSettings(
        env="production",
        sms_provider_url="https://sms.example.kz",
        sms_api_key="k" * 32,
        sms_callback_key="c" * 32,
    )
    assert own.sms_report_key == b"c" * 32
    # Without SMS a production deployment starts, and the placeholder verifies nothing.
    assert NotificationSettings(env="production").sms_report_key == b""
    assert NotificationSettings(env="development").sms_report_key == DEV_SMS_CALLBACK_KEY.encode()


# -- the Kyrgyz variants (ADR 0039): a Kyrgyz centre's applicant reads Russian and Kyrgyz --

KYRGYZ_LETTERS = set("ңөү")  # shared with Kazakh: only the Russian half must lack them
SMS_VALUES = {t: SMS_TEMPLATES[t] for t in messages.KYRGYZ_TEMPLATES}


def test_every_message_a_kyrgyz_applicant_gets_has_a_kyrgyz_sms_text() -> None:
    for template in messages.KYRGYZ_TEMPLATES:
        assert sms_texts.has_text(template, "ky"), template
    assert not sms_texts.has_text(messages.COMPLAINT_ANSWERED, "ky")


@pytest.mark.parametrize("template", sorted(SMS_VALUES))
def test_each_kyrgyz_text_at_its_longest_takes_at_most_three_ucs2_segments(template: str) -> None:
    text = sms_texts.render(template, "ky", number=LONGEST["number"], **SMS_VALUES[template])
    counted = segments(text)
    assert counted.encoding == UCS2
    assert 2 <= counted.count <= MAX_SEGMENTS == 3
    assert "\n" not in text


@pytest.mark.parametrize("template", sorted(SMS_VALUES))
def test_each_kyrgyz_text_is_in_russian_then_kyrgyz_with_no_kazakh(template: str) -> None:
    number = "KG-SOKULUK-BELEK-2026-000042"
    text = sms_texts.render(template, "ky", number=number, **SMS_VALUES[template])
    russian, _, kyrgyz = text.partition(" / ")
    assert number in russian
    assert number in kyrgyz
    assert not (KYRGYZ_LETTERS | KAZAKH_LETTERS) & set(russian)
    # "тил кат", the Kyrgyz receipt (Kazakh: қолхат); not every short Kyrgyz text has a letter of its own.
    assert "тил кат" in kyrgyz
    # Kazakh-only letters (ә ғ қ ұ һ і) would mean the Kazakh text was sent.
    assert not (KAZAKH_LETTERS - KYRGYZ_LETTERS) & set(kyrgyz)
    assert text != sms_texts.render(template, number=number, **SMS_VALUES[template])
    assert segments(russian).count <= 2
    assert segments(kyrgyz).count <= 2
