"""Idempotency-Key support: the first response to a key is stored in the transaction that made it, and a repeat
of the same request gets that response again; the same key with a different request is refused."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from btkernel.problems import Conflict, InvalidInput

MAX_KEY_LENGTH = 200
HEADER_PATH = "header.idempotency-key"
# Visible ASCII: what a UUID, a ULID or any client-made token is. A header value outside it (non-ASCII, invalid
# UTF-8 read as Latin-1, control characters) is no key a client meant, and could not be forwarded as a header.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def key_problem(key: str) -> str | None:
    """Why `key` is no usable Idempotency-Key, or None when it is one."""
    if _KEY.fullmatch(key) is None:
        return f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (letters, digits, punctuation; no spaces)"
    return None


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    reason = key_problem(key)
    if reason is not None:
        raise InvalidInput(f"Idempotency-Key {reason}", errors=[{"path": HEADER_PATH, "reason": reason}])
    return key


async def lookup(conn: asyncpg.Connection, scope: str, key: str, req_hash: str) -> StoredResponse | None:
    """Return the stored response for (scope, key), waiting for a concurrent first request to finish."""
    # Taking a transaction-level advisory lock on the key serialises two concurrent first requests: the second
    # waits for the first's commit and then sees its stored response.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{scope}:{key}")
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope=$1 AND key=$2",
        scope,
        key,
    )
    if row is None:
        return None
    if row["request_hash"] != req_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different request; use a new key",
            field=HEADER_PATH,
            code="idempotency_key_reused",
        )
    return StoredResponse(row["status_code"], row["response"])


async def store(
    conn: asyncpg.Connection, scope: str, key: str, req_hash: str, status_code: int, body: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response) VALUES ($1,$2,$3,$4,$5)",
        scope,
        key,
        req_hash,
        status_code,
        body,
    )
