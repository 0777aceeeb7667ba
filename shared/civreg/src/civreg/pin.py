"""Kyrgyzstan's personal identification number (ПИН, персональный идентификационный номер): 14 digits.

Structure as implemented (ADR 0039; CONFIGURATION TO CHECK against the State Registration Service's rules on
assigning the PIN — the sources do not describe it, S003 only names the Kyrgyz pilot):

* digit 1: sex — 1 female, 2 male;
* digits 2–9: the date of birth as DDMMYYYY;
* digits 10–14: a serial of five digits assigned at registration.

What is checked: exactly 14 digits (`pin_format`), the sex digit (`pin_sex`), a real calendar date of birth no
earlier than 1900 (`pin_birth_date`). No check digit is published for the PIN, so unlike the Kazakh IIN
(`civreg.iin`) a mistyped serial cannot be detected here. The codes are what a client translates by (the desk's
errors.js); the words are for an operator.
"""

from __future__ import annotations

import datetime as dt

from pydantic_core import PydanticCustomError

LENGTH = 14
SEX_DIGITS = {"1": "female", "2": "male"}
# As for the IIN's dates of birth (civreg.events.details.EARLIEST_BIRTH): 1800 is a typing error.
EARLIEST_YEAR = 1900


def problem_code(pin: str) -> tuple[str, str] | None:
    """Why `pin` is not a valid PIN as a stable code and words an operator understands; None when it is valid."""
    if len(pin) != LENGTH or not pin.isascii() or not pin.isdigit():
        return "pin_format", "a PIN is exactly 14 digits"
    if pin[0] not in SEX_DIGITS:
        return "pin_sex", "the first digit of a PIN (sex) must be 1 (female) or 2 (male)"
    try:
        born = birth_date(pin)
    except ValueError:
        born = None
    if born is None or born.year < EARLIEST_YEAR:
        return "pin_birth_date", "digits 2 to 9 of a PIN must be a date of birth DDMMYYYY"
    return None


def problem(pin: str) -> str | None:
    """Why `pin` is not a valid PIN, in words an operator understands, or None when it is valid."""
    found = problem_code(pin)
    return found[1] if found else None


def check(pin: str) -> str:
    """`pin` when valid; otherwise a pydantic error whose type is the code (for a `field_validator`)."""
    if found := problem_code(pin):
        raise PydanticCustomError(*found)
    return pin


def is_valid(pin: str) -> bool:
    return problem_code(pin) is None


def birth_date(pin: str) -> dt.date:
    """The date of birth the PIN states (ValueError when it is not a date)."""
    return dt.date(int(pin[5:9]), int(pin[3:5]), int(pin[1:3]))


def sex(pin: str) -> str:
    return SEX_DIGITS[pin[0]]


def make(birth: dt.date, sex: str, serial: int) -> str:
    """A valid PIN for a date of birth, sex ('male'/'female') and serial — for tests and development data."""
    digit = "2" if sex == "male" else "1"
    return f"{digit}{birth:%d%m%Y}{serial % 100000:05d}"
