"""The relay's deletion of old published rows gives way when the database refuses it (ADR 0044): a failing pass
is logged and tried again after its interval, and never raised into the relay, which would start over."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import asyncpg

from btkernel.outbox_retention import Pruning


class _Refusing:
    def __init__(self) -> None:
        self.asked = 0

    async def fetchrow(self, *args: Any) -> Any:
        self.asked += 1
        raise asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout")


async def test_a_failing_pass_is_tried_again_after_its_interval_and_not_raised() -> None:
    conn = _Refusing()
    pruning = Pruning("test", dt.timedelta(days=30), interval_s=600.0)
    assert await pruning.run(cast(asyncpg.Connection, conn), now=10.0) == 0
    assert conn.asked == 1
    assert not pruning.due(609.0)
    assert pruning.due(610.0)
