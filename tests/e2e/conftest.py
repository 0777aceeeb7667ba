"""End-to-end fixtures: a gateway client on the session's stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from btdeploy.e2e import Gateway
from btdeploy.stack import Stack


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[Gateway]:
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as client:
        yield Gateway(client)
