"""Kazakh mobile numbers: what an SMS can be sent to, written one way (+77XXXXXXXXX).

The numbering plan is configuration, not the regulations' [not in sources]: Kazakhstan shares country code +7 with
Russia; its mobile ranges are +7 700–708, 747, 771 and 775–778 (landlines are +7 71x–72x area codes and cannot take
an SMS). A phone is accepted in the forms people write it: `+7 701 123 45 67`, `8 (701) 123-45-67`, `77011234567`.
"""

from __future__ import annotations

import re

# The operator prefixes of Kazakh mobile networks (the three digits after +7).
MOBILE_PREFIXES = frozenset(
    {"700", "701", "702", "703", "704", "705", "706", "707", "708", "747", "771", "775", "776", "777", "778"}
)
# Longer than any way of writing a number: a value this long is not a phone, and is not looked at further.
MAX_INPUT_CHARS = 32
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhone(ValueError):
    """Not a Kazakh mobile number; the message says why, for the log or a 4xx naming the field."""


def normalise_kz_mobile(raw: str) -> str:
    """`+7 7xx xxx xx xx` in any usual spelling → `+77xxxxxxxxx`; anything else raises InvalidPhone."""
    if len(raw) > MAX_INPUT_CHARS:
        raise InvalidPhone(f"a phone number is at most {MAX_INPUT_CHARS} characters")
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("8") and len(digits) == 11:
        digits = "7" + digits[1:]  # the domestic trunk prefix: 8 701 … is +7 701 …
    if not digits.isascii() or not digits.isdigit() or len(digits) != 11 or not digits.startswith("7"):
        raise InvalidPhone(f"{raw!r} is not a phone number of the form +7 7xx xxx xx xx")
    if digits[1:4] not in MOBILE_PREFIXES:
        raise InvalidPhone(f"{raw!r} is not a Kazakh mobile number (+7 7xx xxx xx xx): it cannot take an SMS")
    return "+" + digits


def display(phone: str) -> str:
    """+77011234567 → +7 701 123 45 67, for people to read."""
    d = phone.removeprefix("+")
    return f"+{d[0]} {d[1:4]} {d[4:7]} {d[7:9]} {d[9:11]}"
