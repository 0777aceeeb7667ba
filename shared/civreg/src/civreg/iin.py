"""Kazakhstan's individual identification number (ИИН): 12 digits, date of birth, century/sex digit, checksum."""

from __future__ import annotations

import datetime as dt

from pydantic_core import PydanticCustomError

_W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def checksum(first11: str) -> int | None:
    """The 12th digit for the first 11, or None when the number cannot be valid (both passes give 10)."""
    digits = [int(c) for c in first11]
    c = sum(d * w for d, w in zip(digits, _W1, strict=True)) % 11
    if c == 10:
        c = sum(d * w for d, w in zip(digits, _W2, strict=True)) % 11
        if c == 10:
            return None
    return c


def problem_code(iin: str) -> tuple[str, str] | None:
    """Why `iin` is not a valid IIN as a stable code (`iin_format`, `iin_century`, `iin_birth_date`,
    `iin_checksum`: what a client translates by) and words an operator understands; None when it is valid."""
    if len(iin) != 12 or not iin.isdigit():
        return "iin_format", "an IIN is exactly 12 digits"
    century_digit = int(iin[6])
    if century_digit not in _CENTURY:
        return "iin_century", "the 7th digit of an IIN (century and sex) must be 1 to 6"
    try:
        birth_date(iin)
    except ValueError:
        return "iin_birth_date", "the first 6 digits of an IIN must be a date of birth YYMMDD"
    expected = checksum(iin[:11])
    if expected is None or expected != int(iin[11]):
        return "iin_checksum", "the IIN's check digit does not match: a digit is probably mistyped"
    return None


def problem(iin: str) -> str | None:
    """Why `iin` is not a valid IIN, in words an operator understands, or None when it is valid."""
    found = problem_code(iin)
    return found[1] if found else None


def check(iin: str) -> str:
    """`iin` when valid; otherwise a pydantic error whose type is the code (for a `field_validator`: the problem
    details then name it, btkernel.problems)."""
    if found := problem_code(iin):
        raise PydanticCustomError(*found)
    return iin


def is_valid(iin: str) -> bool:
    return problem(iin) is None


def birth_date(iin: str) -> dt.date:
    base = _CENTURY[int(iin[6])]
    return dt.date(base + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))


def make(birth: dt.date, sex: str, serial: int) -> str:
    """A valid IIN for a date of birth, sex ('male'/'female') and serial — for tests and development data."""
    century = (birth.year // 100) * 100
    digit = {1800: 1, 1900: 3, 2000: 5}[century] + (1 if sex == "female" else 0)
    for s in range(serial, serial + 100):
        first11 = f"{birth:%y%m%d}{digit}{s % 10000:04d}"
        c = checksum(first11)
        if c is not None:
            return first11 + str(c)
    raise ValueError("no valid IIN in range")
