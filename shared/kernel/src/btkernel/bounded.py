"""Bounded text: every string a client sends has a length that fits its meaning and holds only storable text.

One vocabulary for every request schema, so "how long may a surname be" is answered once. The limits are
generous for real data (the longest Kazakh and Russian full names, addresses and court names fit with room to
spare) and small enough that no single field can make an event larger than the broker accepts.

Every type also refuses NUL (PostgreSQL text cannot hold U+0000) and unpaired surrogates (not Unicode, so not
encodable as UTF-8): both used to reach the database driver and come back as a 500.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

NUL_REASON = "contains a NUL character (\\u0000), which is not text"
SURROGATE_REASON = "contains an unpaired surrogate (\\ud800–\\udfff), which is not valid Unicode text"


def text_problem(value: str) -> str | None:
    """Why `value` is not storable text, or None. Shared with the request screen (`btkernel.limits`)."""
    if "\x00" in value:
        return NUL_REASON
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_REASON
    return None


# Storable text, checked by pydantic-core itself rather than by a Python validator, which was called once per string:
# a birth event's validation on replay went from 10.3 to 8.6 µs (issue 13 P3). NUL by this pattern (Rust's regex
# engine); an unpaired surrogate needs nothing of ours, as pydantic-core refuses it (`string_unicode`) before it
# checks any constraint.
NO_NUL = r"^[^\x00]*$"


def not_text_reason(error_type: str, pattern: object = None) -> str | None:
    """The reason `text_problem` gives, for pydantic's error about the same thing (a problem's `reason`)."""
    if error_type == "string_pattern_mismatch" and pattern == NO_NUL:
        return NUL_REASON
    if error_type == "string_unicode":
        return SURROGATE_REASON
    return None


# Maximum lengths, in characters, by meaning.
NAME_MAX = 100  # one part of a person's name (surname, first name, patronymic)
ID_MAX = 100  # an identifier the platform or the caller made (application, case, record, receipt, user)
CODE_MAX = 64  # a code from a catalogue (service, document, variant, site, role)
SHORT_MAX = 200  # a title, a document number, a notary's or an office's name
PLACE_MAX = 500  # a place or an address
REASON_MAX = 2000  # a reason, an instruction, a note a person writes

# A part of a person's name: required, surrounding spaces dropped.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=NO_NUL)
]
# An identifier: non-empty, no spaces around.
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX, pattern=NO_NUL)]
# A catalogue code: ASCII letters, digits and _ . : -
Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CODE_MAX, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_MAX, pattern=NO_NUL)
]
Place = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=PLACE_MAX, pattern=NO_NUL)
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX, pattern=NO_NUL)
]

# Lists a client sends: documents presented, parties of an act, changes.
LIST_MAX = 50
