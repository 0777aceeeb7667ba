"""The e-mail texts: both languages, the facts the applicant needs, one-line subjects."""

from __future__ import annotations

import datetime as dt

import jinja2
import pytest

from civreg.events.values import PresentedDocument
from notification.app import names as catalogue_names
from notification.domain import messages


def _ready() -> messages.Rendered:
    return messages.result_ready(
        recipient_name="Ахметова Айгерим Нурлановна",
        service_name_ru="Регистрация рождения ребенка",
        service_name_kk="Баланың тууын тіркеу",
        receipt_number="R-2025-000123",
        pickup_place="ЦОН Алмалинского района, Zheltoksan 120",
    )


def test_result_ready_names_service_receipt_place_and_what_to_bring() -> None:
    m = _ready()
    assert m.template == "result_ready"
    assert "R-2025-000123" in m.subject
    assert "\n" not in m.subject
    body = m.body
    assert "Уважаемый(ая) Ахметова Айгерим Нурлановна!" in body
    assert "«Регистрация рождения ребенка»" in body
    assert "«Баланың тууын тіркеу»" in body
    assert body.count("ЦОН Алмалинского района, Zheltoksan 120") == 2
    assert "документ, удостоверяющий личность" in body
    assert "расписку о приёме документов № R-2025-000123" in body
    # The Kazakh half says the same: identity document and the receipt (қолхат).
    assert "жеке басын куәландыратын құжатты" in body
    assert "№ R-2025-000123 қолхатты" in body


def test_acceptance_refused_lists_missing_documents_in_both_languages_with_local_date() -> None:
    m = messages.acceptance_refused(
        recipient_name="Ахметова Айгерим",
        service_name_ru="Регистрация рождения ребенка",
        service_name_kk="Баланың тууын тіркеу",
        refusal_number="RR-7",
        refused_at=dt.datetime(2025, 11, 3, 20, 30, tzinfo=dt.UTC),
        timezone="Asia/Almaty",
        reason="неполный пакет документов",
        missing_documents=[
            messages.DocumentName(
                ru="Медицинское свидетельство о рождении", kk="Туу туралы медициналық куәлік"
            )
        ],
    )
    assert "RR-7" in m.subject
    assert "от 04.11.2025" in m.body  # 20:30 UTC is 01:30 the next day in Almaty
    assert "1. Медицинское свидетельство о рождении" in m.body
    assert "1. Туу туралы медициналық куәлік" in m.body
    assert "Причина: неполный пакет документов" in m.body


def test_a_value_with_a_newline_cannot_break_the_subject_header() -> None:
    m = messages.render(
        "result_ready",
        recipient_name="x",
        service_name_ru="a",
        service_name_kk="b",
        receipt_number="R-1\nBcc: someone@example.com",
        pickup_place="p",
    )
    assert "\n" not in m.subject


def test_a_missing_value_fails_instead_of_sending_a_message_with_a_hole() -> None:
    with pytest.raises(jinja2.UndefinedError):
        messages.render("result_ready", recipient_name="x")


def test_document_names_come_from_the_catalogue_and_fall_back_to_the_event() -> None:
    from civreg.events.values import PresentedDocument

    names = catalogue_names.document_names(
        "birth_registration",
        dt.datetime(2025, 11, 3, 6, tzinfo=dt.UTC),
        "almaty-con-1",
        [
            PresentedDocument(code="medical_birth_certificate", name="мед. свидетельство"),
            PresentedDocument(code="not_in_catalogue", name="Прочее"),
        ],
    )
    assert names[0].kk == "Туу туралы медициналық куәлік"
    assert names[1] == messages.DocumentName(ru="Прочее", kk="Прочее", ky="Прочее")


def test_service_names_fall_back_to_the_receipt_for_an_unknown_service() -> None:
    at = dt.datetime(2025, 1, 1, 6, tzinfo=dt.UTC)
    unknown = catalogue_names.service_names("no_such_service", at, "almaty-con-1", "Как в расписке")
    assert (unknown.ru, unknown.kk, unknown.lang) == ("Как в расписке", "Как в расписке", "kk")
    known = catalogue_names.service_names("birth_registration", at, "almaty-con-1", "x")
    assert known.ru.startswith("Регистрация рождения")
    assert known.kk.startswith("Баланың тууын тіркеу")
    assert known.lang == "kk"


def test_registry_refusal_gives_the_reason_in_both_languages() -> None:
    m = messages.registry_refusal(
        recipient_name="Омарова Дана",
        service_name_ru="Регистрация заключения брака",
        service_name_kk="Неке қиюды тіркеу",
        receipt_number="ALMATY-ALMALY-2026-000007",
        pickup_place="Отдел РАГС Алмалинского района",
        reason="брак с лицом, состоящим в другом браке",
    )
    assert m.template == "registry_refusal"
    assert "\n" not in m.subject
    assert m.body.count("брак с лицом, состоящим в другом браке") == 2
    assert "мотивированный ответ об отказе" in m.body
    assert "Дәлелді" in m.subject


# -- a Kyrgyz centre's applicant (ADR 0039) --

KG_CENTRE = "kg-sokuluk-belek"
KG_AT = dt.datetime(2026, 3, 2, 4, tzinfo=dt.UTC)


def test_a_kyrgyz_centres_applicant_gets_the_kyrgyz_editions_names() -> None:
    names = catalogue_names.service_names("marriage_registration", KG_AT, KG_CENTRE, "x")
    assert names.lang == "ky"
    assert names.ky == "Никени каттоо"
    assert names.kk == ""
    docs = catalogue_names.document_names(
        "marriage_registration",
        KG_AT,
        KG_CENTRE,
        [PresentedDocument(code="fee_receipt", name="квитанция")],
    )
    assert docs[0].ky == "Мамлекеттик алымдын төлөнгөнүн тастыктаган документ"


def test_a_kyrgyz_letter_is_in_russian_and_kyrgyz_not_kazakh() -> None:
    m = messages.result_ready(
        recipient_name="Асанова Айпери",
        service_name_ru="Регистрация заключения брака",
        service_name_kk="",
        service_name_ky="Никени каттоо",
        receipt_number="KG-SOKULUK-BELEK-2026-000042",
        pickup_place="Белек",
        lang="ky",
    )
    assert m.template == messages.RESULT_READY
    assert m.lang == "ky"
    assert "Жыйынтык берүүгө даяр" in m.subject
    assert "«Никени каттоо» мамлекеттик кызматынын № KG-SOKULUK-BELEK-2026-000042 тил кат" in m.body
    assert "Урматтуу Асанова Айпери!" in m.body
    assert "Құрметті" not in m.body
    assert "Регистрация заключения брака" in m.body


def test_a_kyrgyz_refusal_lists_the_missing_documents_in_kyrgyz() -> None:
    m = messages.acceptance_refused(
        recipient_name="Асанова Айпери",
        service_name_ru="Регистрация заключения брака",
        service_name_kk="",
        service_name_ky="Никени каттоо",
        refusal_number="KG-R-1",
        refused_at=KG_AT,
        timezone="Asia/Bishkek",
        reason="incomplete",
        missing_documents=[messages.DocumentName(ru="Паспорта", kk="", ky="Паспорттор")],
        lang="ky",
    )
    assert "  1. Паспорттор" in m.body
    assert "  1. Паспорта" in m.body
    assert "02.03.2026" in m.body
