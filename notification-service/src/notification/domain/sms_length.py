"""How many SMS segments a text takes (3GPP TS 23.038 and 23.040): the GSM 7-bit default alphabet when every
character is in it (160 septets, 153 per part of a concatenated message; the extension table's characters take two
septets), otherwise UCS-2 (70 UTF-16 units, 67 per part). Cyrillic, and Kazakh letters above all, force UCS-2.
A provider bills, and a phone reassembles, per segment: the texts are bounded by `MAX_SEGMENTS`."""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "gsm7"
UCS2 = "ucs2"
# The most segments one notice may take: three UCS-2 parts are 201 characters, enough for a short notice in both
# languages; more would cost more and arrive out of order on some phones.
MAX_SEGMENTS = 3

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + a character: two septets each, and never split across two parts.
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_SINGLE = {GSM7: 160, UCS2: 70}
_PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class Segments:
    encoding: str
    count: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def encoding_of(text: str) -> str:
    return GSM7 if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text) else UCS2


def _units(c: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if c in _GSM7_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1  # a surrogate pair, which must stay in one part


def segments(text: str) -> Segments:
    """The segments `text` is sent in. Parts are packed character by character, so a two-unit character (an
    escape pair, a surrogate pair) that does not fit the rest of a part starts the next one."""
    encoding = encoding_of(text)
    units = [_units(c, encoding) for c in text]
    total = sum(units)
    if total <= _SINGLE[encoding]:
        return Segments(encoding, 1 if text else 0, total)
    size, count, used = _PART[encoding], 1, 0
    for u in units:
        if used + u > size:
            count, used = count + 1, 0
        used += u
    return Segments(encoding, count, total)
