"""A 100 MB application (a `birth_place` of 100 MB, streamed chunked or declared) gets 413 before it is read, and
leaves nothing behind: no application, no event, no outbox row, no idempotency key (`btkernel.limits`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel.limits import DEFAULT_MAX_BODY_BYTES
from btkernel.testing import actor_headers

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")
HUNDRED_MB = 100 * 1024 * 1024
CHUNK = 64 * 1024
MARKER = "@@BIRTH_PLACE@@"


class HugeApplication:
    """A valid application JSON whose birth place is 100 MB of text, produced lazily; counts what was pulled."""

    def __init__(self) -> None:
        application = birth_application()
        application["details"]["child"]["birth_place"] = MARKER
        self.prefix, self.suffix = (part.encode() for part in json.dumps(application).split(MARKER))
        self.pulled = 0

    async def stream(self) -> AsyncIterator[bytes]:
        yield self.prefix
        for _ in range(HUNDRED_MB // CHUNK):
            self.pulled += CHUNK
            yield b"x" * CHUNK
        yield self.suffix

    @property
    def length(self) -> int:
        return len(self.prefix) + HUNDRED_MB + len(self.suffix)


async def _leftovers(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("applications", "events", "outbox", "idempotency_keys")
        }
    finally:
        await conn.close()


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_a_100_mb_application_gets_413_and_leaves_nothing(
    intake: tuple[httpx.AsyncClient, str], declared: bool
) -> None:
    client, dsn = intake
    huge = HugeApplication()
    headers = {**OPERATOR, "content-type": "application/json", "idempotency-key": "huge-1"}
    if declared:
        headers["content-length"] = str(huge.length)
    r = await client.post("/api/v1/applications", content=huge.stream(), headers=headers)

    assert r.status_code == 413, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"path": "body", "reason": f"larger than {DEFAULT_MAX_BODY_BYTES} bytes"}]
    # Refused on the declared length without reading; a chunked body as soon as it passed the cap.
    assert huge.pulled <= (0 if declared else DEFAULT_MAX_BODY_BYTES + CHUNK)
    assert await _leftovers(dsn) == {"applications": 0, "events": 0, "outbox": 0, "idempotency_keys": 0}

    # The service is unharmed: the same application at a normal size is accepted.
    ok = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    assert ok.status_code == 201, ok.text
