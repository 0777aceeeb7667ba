"""The whole stack as processes: every service answers /health and comes back after a restart."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from btdeploy.postgres import with_login
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


async def test_each_service_connects_as_its_own_role_that_owns_its_tables(stack: Stack) -> None:
    """ADR 0022 and 0030: no service is superuser; the pre-start migrations ran as the service's owner role (it owns
    every table); the service itself logs in as its runtime role, which owns nothing and may only append to the
    history; a service's role cannot enter another service's database."""
    for name in stack.service_names:
        url = stack.env_for(name)["BT_DATABASE_URL"]
        assert url == stack.database_url(name)
        role = urlsplit(url).username
        assert role == f"bt_{name}"
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
            owners = await conn.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
            may_update_events = await conn.fetchval("SELECT has_table_privilege('events', 'UPDATE')")
            may_insert_events = await conn.fetchval("SELECT has_table_privilege('events', 'INSERT')")
        finally:
            await conn.close()
        assert [r["tableowner"] for r in owners] == [f"{role}_owner"], name
        assert may_insert_events, name
        assert not may_update_events, name
    intake, registry = urlsplit(stack.database_url("intake")), urlsplit(stack.database_url("registry"))
    assert intake.username
    assert intake.password
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(with_login(registry.geturl(), intake.username, intake.password, "bt_registry"))
