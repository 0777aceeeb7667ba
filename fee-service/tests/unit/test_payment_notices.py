"""What a payment gateway notice may change (ADR 0034), and the signature that must come first."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from fees.domain import signature
from fees.domain.payment import GatewayNotice, Payment, apply_notice, payment_id_for, status_query_pause
from fees.domain.scope import a_site_sees_only_its_own_payments
from fees.settings import DEV_PAYMENT_GATEWAY_SECRET, FeeSettings

NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
PAID_AT = dt.datetime(2026, 3, 2, 4, 59, tzinfo=dt.UTC)


def created(amount: int = 216_250) -> Payment:
    return Payment(
        payment_id="6b0c1d4e-0000-4000-8000-000000000001",
        method="payment_gateway",
        status="created",
        service_id="marriage_registration",
        site_id="almaty-almaly",
        registry_office_id="almaty-almaly",
        application_id=None,
        amount_tiyn=amount,
        reference="PG-000001",
        bank=None,
        paid_on=None,
        paid_at=None,
        payment_url="http://pg/pay/PG-000001",
        created_at=NOW,
        updated_at=NOW,
    )


def notice(status: str, amount: int = 216_250, nid: str = "N-1") -> GatewayNotice:
    return GatewayNotice(nid, created().payment_id, status, amount, PAID_AT if status == "paid" else None)


def test_a_paid_notice_pays_once() -> None:
    paid, outcome = apply_notice(created(), notice("paid"), NOW)
    assert (paid.status, paid.paid_at, outcome) == ("paid", PAID_AT, "applied")
    again, outcome = apply_notice(paid, notice("paid", nid="N-2"), NOW)
    assert (again, outcome) == (paid, "duplicate")


def test_a_late_notice_of_another_status_changes_nothing() -> None:
    paid, _ = apply_notice(created(), notice("paid"), NOW)
    after, outcome = apply_notice(paid, notice("failed", nid="N-3"), NOW)
    assert (after.status, outcome) == ("paid", "late")
    failed, _ = apply_notice(created(), notice("failed"), NOW)
    after, outcome = apply_notice(failed, notice("paid", nid="N-4"), NOW)
    assert (after.status, outcome) == ("failed", "late")


def test_another_amount_is_never_paid() -> None:
    same, outcome = apply_notice(created(), notice("paid", amount=216_249), NOW)
    assert (same.status, outcome) == ("created", "amount_mismatch")


def test_a_non_final_status_is_no_news() -> None:
    same, outcome = apply_notice(created(), notice("created"), NOW)
    assert (same.status, outcome) == ("created", "duplicate")


def test_the_signature_covers_the_exact_bytes() -> None:
    key = b"k" * 32
    body = b'{"status": "paid"}'
    header = signature.sign(key, body)
    assert signature.verify(key, body, header)
    assert not signature.verify(key, body + b" ", header)
    assert not signature.verify(b"x" * 32, body, header)
    assert not signature.verify(key, body, None)
    assert not signature.verify(b"", body, signature.sign(b"", body))  # no key configured: nothing is trusted


def test_one_payment_per_site_and_key() -> None:
    assert payment_id_for("almaty-almaly", "k") == payment_id_for("almaty-almaly", "k")
    assert payment_id_for("almaty-almaly", "k") != payment_id_for("almaty-con-1", "k")


def test_the_status_questions_of_a_lost_callback_come_ever_more_rarely_up_to_a_cap() -> None:
    first, cap = dt.timedelta(minutes=15), dt.timedelta(hours=6)
    pauses = [status_query_pause(n, first_after=first, max_pause=cap) for n in range(7)]
    assert [p.total_seconds() / 60 for p in pauses] == [15, 30, 60, 120, 240, 360, 360]
    assert status_query_pause(10**6, first_after=first, max_pause=cap) == cap  # no overflow, however many


def test_the_portal_reads_only_the_payments_it_made() -> None:
    office = ("almaty-almaly", "almaty-almaly")
    assert a_site_sees_only_its_own_payments("portal", None, *office, "portal")
    assert not a_site_sees_only_its_own_payments("portal", None, *office, None)
    assert a_site_sees_only_its_own_payments("registry_chancellery", "almaty-almaly", *office, "portal")


def test_production_refuses_the_development_payment_key() -> None:
    real = {"env": "production", "payment_gateway_url": "https://pg.example.kz"}
    with pytest.raises(ValidationError, match="BT_PAYMENT_GATEWAY_SECRET"):
        FeeSettings(**real)
    with pytest.raises(ValidationError, match="BT_PAYMENT_GATEWAY_SECRET"):
        FeeSettings(**real, payment_gateway_secret="short")
    assert FeeSettings(**real, payment_gateway_secret="k" * 32).payment_gateway_secret == "k" * 32
    assert FeeSettings(env="development").payment_gateway_secret == DEV_PAYMENT_GATEWAY_SECRET
