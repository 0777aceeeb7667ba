"""The applicant-facing messages, rendered from the Jinja2 templates in `notification/templates/` (Russian and
Kazakh): the wording is part of the domain, so a template and the rule that fills it are read side by side.

An applicant of a Kyrgyz centre (ADR 0039) reads Russian and Kyrgyz: the same message from its Kyrgyz variant,
`<template>.ky.<part>.j2`, with the names' `ky` forms; the template's name (and so the notification's id) is the
same in both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

import jinja2

RESULT_READY = "result_ready"
ACCEPTANCE_REFUSED = "acceptance_refused"
REGISTRY_REFUSAL = "registry_refusal"
REVIEW_EXTENDED = "review_extended"
COMPLAINT_ANSWERED = "complaint_answered"
COMPLAINT_REVIEW_REFUSED = "complaint_review_refused"
TEMPLATES = (RESULT_READY, ACCEPTANCE_REFUSED, REGISTRY_REFUSAL)
# The state language printed beside Russian: Kazakh, or Kyrgyz at a Kyrgyz site.
StateLang = Literal["kk", "ky"]
# The messages a Kyrgyz applicant is owed (the complaint letters follow Kazakh law, S004 p.11: Kazakh only).
KYRGYZ_TEMPLATES = (RESULT_READY, ACCEPTANCE_REFUSED, REGISTRY_REFUSAL, REVIEW_EXTENDED)


@dataclass(frozen=True)
class Rendered:
    template: str
    subject: str
    body: str
    lang: StateLang = "kk"


@dataclass(frozen=True)
class DocumentName:
    ru: str
    kk: str
    ky: str = ""


def variant(template: str, part: str, lang: StateLang) -> str:
    """The file of one part (`subject`, `body`, `sms`) of a template in Russian and `lang`."""
    return f"{template}.{part}.j2" if lang == "kk" else f"{template}.{lang}.{part}.j2"


@cache
def _environment() -> jinja2.Environment:
    # Plain-text e-mail: no HTML escaping; StrictUndefined so a missing value fails loudly instead of sending a
    # message with a hole in it.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notification", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, lang: StateLang = "kk", **values: object) -> Rendered:
    env = _environment()
    subject = env.get_template(variant(template, "subject", lang)).render(**values)
    body = env.get_template(variant(template, "body", lang)).render(**values)
    # A header must be one line: a stray newline from a value would otherwise split it.
    return Rendered(template=template, subject=" ".join(subject.split()), body=body, lang=lang)


def result_ready(
    *,
    recipient_name: str,
    service_name_ru: str,
    service_name_kk: str,
    receipt_number: str,
    pickup_place: str,
    service_name_ky: str = "",
    lang: StateLang = "kk",
) -> Rendered:
    return render(
        RESULT_READY,
        lang,
        service_name_ky=service_name_ky,
        recipient_name=recipient_name,
        service_name_ru=service_name_ru,
        service_name_kk=service_name_kk,
        receipt_number=receipt_number,
        pickup_place=pickup_place,
    )


def registry_refusal(
    *,
    recipient_name: str,
    service_name_ru: str,
    service_name_kk: str,
    receipt_number: str,
    pickup_place: str,
    reason: str,
    service_name_ky: str = "",
    lang: StateLang = "kk",
) -> Rendered:
    """The registry office's reasoned refusal (мотивированный ответ об отказе, point 10 of the Standard)."""
    return render(
        REGISTRY_REFUSAL,
        lang,
        service_name_ky=service_name_ky,
        recipient_name=recipient_name,
        service_name_ru=service_name_ru,
        service_name_kk=service_name_kk,
        receipt_number=receipt_number,
        pickup_place=pickup_place,
        reason=reason,
    )


def review_extended(
    *,
    recipient_name: str,
    service_name_ru: str,
    service_name_kk: str,
    receipt_number: str,
    reason: str,
    days: int,
    due_on: dt.date,
    service_name_ky: str = "",
    lang: StateLang = "kk",
) -> Rendered:
    """The notice the provider owes the applicant within 3 calendar days of extending the term (S002 §2.2)."""
    return render(
        REVIEW_EXTENDED,
        lang,
        service_name_ky=service_name_ky,
        recipient_name=recipient_name,
        service_name_ru=service_name_ru,
        service_name_kk=service_name_kk,
        receipt_number=receipt_number,
        reason=reason,
        days=days,
        due_on=due_on.strftime("%d.%m.%Y"),
    )


def acceptance_refused(
    *,
    recipient_name: str,
    service_name_ru: str,
    service_name_kk: str,
    refusal_number: str,
    refused_at: dt.datetime,
    timezone: str,
    reason: str,
    missing_documents: list[DocumentName],
    service_name_ky: str = "",
    lang: StateLang = "kk",
) -> Rendered:
    refused_on = refused_at.astimezone(ZoneInfo(timezone)).strftime("%d.%m.%Y")
    return render(
        ACCEPTANCE_REFUSED,
        lang,
        service_name_ky=service_name_ky,
        recipient_name=recipient_name,
        service_name_ru=service_name_ru,
        service_name_kk=service_name_kk,
        refusal_number=refusal_number,
        refused_on=refused_on,
        reason=reason,
        missing_documents=missing_documents,
    )


# How the answer reaches the applicant besides this letter (S004 p.11).
_DELIVERY = {
    "post": (
        "Ответ направлен по почте на указанный Вами адрес.",
        "Жауап сіз көрсеткен мекенжайға поштамен жіберілді.",
    ),
    "chancellery": ("Ответ можно получить в канцелярии.", "Жауапты кеңседен алуға болады."),
}
_ADDRESSEE = {
    "provider": "руководителю услугодателя",
    "centre": "руководителю Центра",
    "quality_control": "в уполномоченный орган по оценке и контролю за качеством оказания государственных услуг",
}


def complaint_answered(
    *, recipient_name: str, incoming_number: str, addressee: str, answer: str, delivery: str
) -> Rendered:
    """The reasoned answer to a complaint (S004 p.11), with the next level should the applicant disagree."""
    ru, kk = _DELIVERY[delivery]
    return render(
        COMPLAINT_ANSWERED,
        recipient_name=recipient_name,
        incoming_number=incoming_number,
        addressee_ru=_ADDRESSEE[addressee],
        answer=answer,
        delivery_ru=ru,
        delivery_kk=kk,
    )


def complaint_review_refused(*, recipient_name: str, incoming_number: str, reason: str) -> Rendered:
    """The refusal to review a complaint, with its reason (S004 p.11)."""
    return render(
        COMPLAINT_REVIEW_REFUSED,
        recipient_name=recipient_name,
        incoming_number=incoming_number,
        reason=reason,
    )
