"""The hash chain of the event store (docs/adr/0030-tamper-evident-history.md).

Each event carries `prev_hash`, the hash of the event before it in its stream (none for version 1), and `hash`,
SHA-256 over the RFC 8785 (JCS) canonical JSON of its content and metadata with `prev_hash` in it: change any of
them, drop or swap an event, and the hashes no longer follow. The JSON form, not PostgreSQL's text of the row, is
hashed so that anyone holding an export can check it with any JCS library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import rfc8785

# The fields an event's hash covers, by their name in the hashed document (column names where they differ).
HASHED_FIELDS = (
    "stream_id",
    "version",
    "stream_type",
    "event_id",
    "type",
    "data",
    "actor",
    "correlation_id",
    "causation_id",
    "recorded_at",
    "prev_hash",
)


def as_json(data: Any) -> Any:
    """`data` as the database keeps it: the pool's jsonb codec (btkernel.db) writes `json.dumps(default=str)`, so
    the hash at append time is over what a later read returns."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


# RFC 8785 (JCS) at the C json encoder's speed (issue 13: the pure-Python `rfc8785.dumps` was ~10 % of intake's
# CPU, appending and verifying). For a JSON value as `json.loads` gives it (text keys) the compact, key-sorted,
# non-ASCII-kept output of `json` is JCS byte for byte — same escapes (\b \t \n \f \r \" \\, \u00xx for the
# other controls, everything else as UTF-8) — except in three cases, which go to `rfc8785` itself: a float (JCS
# spells numbers as ECMAScript does, Python's repr differs), an integer of 16 digits or more (JCS refuses past
# 2**53 - 1), and a character outside the BMP (JCS orders keys by UTF-16 code units, Python by code points). Anything
# `json` refuses (NaN, a lone surrogate, a type of no JSON) goes there too and fails with rfc8785's own error.
# shared/kernel/tests/test_chain_canonical.py proves it against `rfc8785.dumps` with hypothesis: no history's hash changes.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
# Outside strings (see _outside_strings) a digit followed by `.` or `e` is a float (repr always has one of them
# after a digit), and 16 digits in a row an integer JCS may refuse.
_JCS_NUMBER = re.compile(rb"\d[.eE]|\d{16}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def canonical(value: Any) -> bytes:
    """`rfc8785.dumps(value)`, byte for byte, for a JSON value with text keys (what `as_json` and the database's
    jsonb codec give: the hashed documents' data). A dict with keys of other types is not JSON: do not pass one
    (json would spell its keys as text where rfc8785 refuses)."""
    try:
        text = _COMPACT.encode(value)
        if not text.isascii() and len(text.encode("utf-16-le")) != 2 * len(text):
            return rfc8785.dumps(value)  # a character outside the BMP: keys ordered by UTF-16
        raw = text.encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError (a lone surrogate) is a ValueError
        return rfc8785.dumps(value)
    if _JCS_NUMBER.search(_outside_strings(raw)):
        return rfc8785.dumps(value)
    return raw


def _outside_strings(raw: bytes) -> bytes:
    """The compact JSON `raw` without its strings: brackets, separators, numbers, true/false/null. Every quote is a
    string's delimiter unless escaped (json writes a quote inside a string as backslash-quote); where a backslash
    is followed by a quote at all, the strings are matched one by one instead (a UTF-8 continuation byte is never
    a quote or a backslash)."""
    if b'\\"' in raw:
        return _STRING.sub(b"", raw)
    return b"".join(raw.split(b'"')[::2])


def timestamp(at: dt.datetime) -> str:
    """A time in one spelling: UTC, microseconds (PostgreSQL's precision), `Z`."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hashed_document(
    *,
    stream_id: str,
    version: int,
    stream_type: str,
    event_id: str,
    type: str,
    data: Any,
    actor: str | None,
    correlation_id: str | None,
    causation_id: str | None,
    recorded_at: dt.datetime,
    prev_hash: bytes | None,
) -> dict[str, Any]:
    return {
        "stream_id": stream_id,
        "version": version,
        "stream_type": stream_type,
        "event_id": str(event_id),
        "type": type,
        "data": data,
        "actor": actor,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "recorded_at": timestamp(recorded_at),
        "prev_hash": prev_hash.hex() if prev_hash is not None else None,
    }


def event_hash(**fields: Any) -> bytes:
    """SHA-256 of the canonical JSON of `hashed_document(**fields)`."""
    return hashlib.sha256(canonical(hashed_document(**fields))).digest()


def row_hash(row: Mapping[str, Any]) -> bytes:
    """The hash a stored `events` row should carry (columns as in the table)."""
    return event_hash(
        stream_id=row["stream_id"],
        version=row["version"],
        stream_type=row["stream_type"],
        event_id=str(row["event_id"]),
        type=row["event_type"],
        data=json.loads(row["data"]) if isinstance(row["data"], str) else row["data"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
    )


def ledger_hash(
    *, position: int, stream_id: str, version: int, event_hash: bytes, prev_hash: bytes | None
) -> bytes:
    """The hash of one entry of the ledger, the database-wide order the sealer gives events (see ledger.py)."""
    document: dict[str, Any] = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "event_hash": event_hash.hex(),
        "prev_hash": prev_hash.hex() if prev_hash is not None else None,
    }
    return hashlib.sha256(canonical(document)).digest()
