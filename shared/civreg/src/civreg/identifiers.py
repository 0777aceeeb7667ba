"""A person's identification number by the country of the site that identifies the person (ADR 0039): the
Kazakh IIN (`civreg.iin`, 12 digits with a check digit) or the Kyrgyz PIN (`civreg.pin`, 14 digits).

The wire field keeps its name `iin` everywhere (events, requests, partner contracts): it holds the personal
identification number of the country where the person was identified. A request is judged by its site's rules
(`check(number, country)`); a request whose site is not known yet, and a stored event read back, accept a valid
number of either country (`check_any`), told apart by length.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from civreg import iin, pin

# The longest number of any country: the bound of every `iin` field.
MAX_LENGTH = pin.LENGTH


def problem_code(number: str, country: str | None) -> tuple[str, str] | None:
    """Why `number` is not a valid identification number of `country` (KZ: IIN, KG: PIN; None: either), as a
    stable code and words; None when it is valid."""
    if country == "KG":
        return pin.problem_code(number)
    if country is None and len(number) == pin.LENGTH:
        return pin.problem_code(number)
    return iin.problem_code(number)


def check(number: str, country: str | None) -> str:
    """`number` when valid for `country`; otherwise a pydantic error typed by the code (`iin_…`, `pin_…`)."""
    if found := problem_code(number, country):
        raise PydanticCustomError(*found)
    return number


def check_any(number: str) -> str:
    """`number` when it is a valid IIN or a valid PIN (the site's country is judged later)."""
    return check(number, None)
