"""The whole stack as processes: every service answers /health and comes back after a restart."""

from __future__ import annotations

import httpx
import pytest

from btdeploy.stack import SERVICE_NAMES, Stack

pytestmark = pytest.mark.e2e


def test_every_service_is_healthy_and_comes_back_after_a_restart(stack: Stack) -> None:
    for name in SERVICE_NAMES:
        assert httpx.get(f"{stack.url(name)}/health", timeout=5).status_code == 200, name
    fee = stack.service("fee")
    old_pid = fee.pid
    # A clean restart: after a SIGKILL the service's consumer group waits out the dead member's session.
    fee.restart()
    assert fee.pid != old_pid
    assert httpx.get(f"{stack.url('fee')}/health", timeout=5).status_code == 200
