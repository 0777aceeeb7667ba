"""The SMS a notice becomes for an applicant reachable by phone only: one short text in Russian and Kazakh
(`notification/templates/<template>.sms.j2`), within `sms_length.MAX_SEGMENTS`.

An SMS travels through the provider and the operator and sits unlocked on a phone, so it carries no more
personal data than the notice needs: no name, no IIN, no reason or answer text (those are in the receipt, the
refusal receipt and the letter), only the number of the receipt or complaint the applicant already holds, and a
date. The values are bounded (`MAX_NUMBER_CHARS`), so every template's longest text is a fixed, tested length."""

from __future__ import annotations

from functools import cache

import jinja2

from notification.domain.messages import StateLang, variant
from notification.domain.sms_length import MAX_SEGMENTS, segments

# The longest number a text quotes: receipts are `<SITE>-<YEAR>-<SEQ>` (~25), complaints `Ж-2026/7 от 02.03.2026`.
# A longer one keeps its end, where the sequence number is.
MAX_NUMBER_CHARS = 30
# A date as printed: dd.mm.yyyy.
DATE_CHARS = 10


class SmsTooLong(ValueError):
    """A text over MAX_SEGMENTS: a template was made longer than its test allows."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notification", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def has_text(template: str, lang: StateLang = "kk") -> bool:
    try:
        _environment().get_template(variant(template, "sms", lang))
    except jinja2.TemplateNotFound:
        return False
    return True


def bounded_number(number: str) -> str:
    return number if len(number) <= MAX_NUMBER_CHARS else "…" + number[-(MAX_NUMBER_CHARS - 1) :]


def render(template: str, lang: StateLang = "kk", /, *, number: str, **values: str) -> str:
    """The SMS text of `template` in Russian and `lang`, on one line; SmsTooLong when it would take more than
    MAX_SEGMENTS."""
    bounded = {k: v[:DATE_CHARS] for k, v in values.items()}
    text = (
        _environment()
        .get_template(variant(template, "sms", lang))
        .render(number=bounded_number(number), **bounded)
    )
    text = " ".join(text.split())
    if (n := segments(text).count) > MAX_SEGMENTS:
        raise SmsTooLong(f"the {template} SMS takes {n} segments, more than {MAX_SEGMENTS}")
    return text
