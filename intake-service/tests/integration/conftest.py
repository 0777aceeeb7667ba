"""The intake app on a fresh real database, relay and consumers off (no Kafka needed for intake's HTTP rules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from btkernel.testing import serve
from intake.main import build_app
from intake.settings import IntakeSettings


@pytest.fixture
async def intake(make_database: Any) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    dsn = await make_database("intake")
    settings = IntakeSettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, storage_sweep_enabled=False
    )
    async with serve(lambda: build_app(settings)) as client:
        yield client, dsn
