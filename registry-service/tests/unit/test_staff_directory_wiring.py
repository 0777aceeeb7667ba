"""The staff directory's wiring (registry.adapters.staff): the executive check is never skipped — no gateway
configured refuses every assignment — and the registry asks only with the internal token of the request it
serves."""

from __future__ import annotations

import pytest

from btkernel import internal_token
from btkernel.problems import Unauthorized, Unavailable
from registry.adapters.staff import GatewayStaffDirectory, UnconfiguredStaffDirectory, from_settings


async def test_without_a_gateway_every_check_refuses() -> None:
    directory = from_settings(None, "development")
    assert isinstance(directory, UnconfiguredStaffDirectory)
    with pytest.raises(Unavailable, match="BT_GATEWAY_URL"):
        await directory.member("exec-almaly-1")


def test_a_production_registry_needs_the_gateway() -> None:
    with pytest.raises(ValueError, match="BT_GATEWAY_URL"):
        from_settings(None, "production")


async def test_no_request_token_no_question() -> None:
    directory = GatewayStaffDirectory("http://127.0.0.1:9")
    assert internal_token.presented() is None
    with pytest.raises(Unauthorized):
        await directory.member("exec-almaly-1")
