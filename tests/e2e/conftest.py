"""End-to-end fixtures: a gateway client on the session's stack."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from btdeploy.e2e import Gateway
from btdeploy.stack import Stack

# The helpers next to the tests (services_flow) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[Gateway]:
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as client:
        yield Gateway(client)
