"""The applicant-facing messages, rendered from the Jinja2 templates in `notification/templates/` (Russian and
Kazakh): the wording is part of the domain, so a template and the rule that fills it are read side by side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

RESULT_READY = "result_ready"
ACCEPTANCE_REFUSED = "acceptance_refused"
REGISTRY_REFUSAL = "registry_refusal"
REVIEW_EXTENDED = "review_extended"
TEMPLATES = (RESULT_READY, ACCEPTANCE_REFUSED, REGISTRY_REFUSAL)


@dataclass(frozen=True)
class Rendered:
    template: str
    subject: str
    body: str


@dataclass(frozen=True)
class DocumentName:
    ru: str
    kk: str


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


def render(template: str, **values: object) -> Rendered:
    env = _environment()
    subject = env.get_template(f"{template}.subject.j2").render(**values)
    body = env.get_template(f"{template}.body.j2").render(**values)
    # A header must be one line: a stray newline from a value would otherwise split it.
    return Rendered(template=template, subject=" ".join(subject.split()), body=body)


def result_ready(
    *, recipient_name: str, service_name_ru: str, service_name_kk: str, receipt_number: str, pickup_place: str
) -> Rendered:
    return render(
        RESULT_READY,
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
) -> Rendered:
    """The registry office's reasoned refusal (мотивированный ответ об отказе, point 10 of the Standard)."""
    return render(
        REGISTRY_REFUSAL,
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
) -> Rendered:
    """The notice the provider owes the applicant within 3 calendar days of extending the term (S002 §2.2)."""
    return render(
        REVIEW_EXTENDED,
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
) -> Rendered:
    refused_on = refused_at.astimezone(ZoneInfo(timezone)).strftime("%d.%m.%Y")
    return render(
        ACCEPTANCE_REFUSED,
        recipient_name=recipient_name,
        service_name_ru=service_name_ru,
        service_name_kk=service_name_kk,
        refusal_number=refusal_number,
        refused_on=refused_on,
        reason=reason,
        missing_documents=missing_documents,
    )
