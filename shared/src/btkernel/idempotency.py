"""Idempotency-Key support: the first response to a key is stored in the transaction that made it, and a repeat
of the same request gets that response again; the same key with a different request is refused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from btkernel.problems import Conflict, InvalidInput

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="header.Idempotency-Key"
        )
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
            field="header.Idempotency-Key",
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
