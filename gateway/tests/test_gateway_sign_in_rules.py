"""The sign-in rules of issue 9 (ADR 0021): which environments allow the development shortcuts, the secret's
length, development credentials refused elsewhere, tokens of deactivated accounts refused, and the guard against
password spraying that a stranger cannot turn against a real user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from gateway_fakes import SECRET, FakeUpstreams, MemoryUsers, bearer, cheap_user, make_settings, make_users
from pydantic import ValidationError

from btkernel.settings import ServiceSettings
from gateway import settings as gateway_settings
from gateway.main import build_app
from gateway.ratelimit import SignInGuard
from gateway.settings import Settings
from gateway.users import AccountCache

TOKEN = "/api/v1/auth/token"
STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def gateway_app(settings: Settings, users: MemoryUsers) -> AsyncIterator[FastAPI]:
    app = build_app(settings)
    app.state.gateway.attach(users, FakeUpstreams().transport())
    try:
        yield app
    finally:
        await app.state.gateway.detach()


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


# -- environments and the secret -------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["prod", "staging", "Production", ""])
def test_an_unknown_environment_is_refused(env: str) -> None:
    with pytest.raises(ValidationError, match="BT_ENV must be one of development, test, production"):
        ServiceSettings(env=env)
    with pytest.raises(ValidationError, match="BT_ENV must be one of"):
        make_settings(env=env)


def test_an_unknown_environment_from_the_process_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BT_ENV", "staging")
    monkeypatch.setenv("BT_JWT_SECRET", SECRET)

    with pytest.raises(ValidationError, match="not 'staging'"):
        gateway_settings.load()


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_a_secret_shorter_than_32_bytes_is_refused_everywhere(env: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        make_settings(env=env, jwt_secret="x")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        make_settings(env=env, jwt_secret="a" * 31)
    assert make_settings(env=env, jwt_secret="a" * 32).jwt_secret == "a" * 32


def test_the_development_secret_only_in_development_and_test() -> None:
    for env in ("development", "test"):
        assert make_settings(env=env, jwt_secret=gateway_settings.DEV_JWT_SECRET).env == env
    with pytest.raises(ValidationError, match="real secret when BT_ENV=production"):
        make_settings(env="production", jwt_secret=gateway_settings.DEV_JWT_SECRET)


def test_development_shortcuts_need_the_environment_named_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BT_ENV", raising=False)
    unset = gateway_settings.load()
    assert unset.env == "development"  # the kernel's default, which the gateway does not take as permission
    assert not unset.development_shortcuts
    with pytest.raises(ValueError, match="BT_ENV is not set"):
        unset.check_start()

    monkeypatch.setenv("BT_ENV", "development")
    named = gateway_settings.load()
    assert named.development_shortcuts
    named.check_start()
    assert make_settings(env="test").development_shortcuts
    assert not make_settings(env="production", jwt_secret=SECRET).development_shortcuts


# -- development credentials -----------------------------------------------------------------------------------


async def test_development_accounts_are_refused_outside_development() -> None:
    # Accounts seeded by an earlier start are still in the table; their published passwords open nothing.
    real = cheap_user("registrar7", "a-long-password", "Ахметова Камила", "registry_head", "almaty-almaly")
    renamed = cheap_user("head1", "a-real-password", "Абдрахманов Нурлан", "registry_head", "almaty-almaly")
    users = MemoryUsers([*make_users(), real])
    settings = make_settings(env="production", jwt_secret=SECRET)

    async with gateway_app(settings, users) as app, client_from(app, OWNER) as client:
        refused = [
            (await client.post(TOKEN, data={"username": name, "password": f"{name}-pass"})).status_code
            for name in ("operator1", "supervisor", "egov-portal", "Head2")
        ]
        accepted = await client.post(TOKEN, data={"username": "registrar7", "password": "a-long-password"})
        users.users["head1"] = renamed
        given_a_real_password = await client.post(
            TOKEN, data={"username": "head1", "password": "a-real-password"}
        )

    assert refused == [401, 401, 401, 401]
    assert accepted.status_code == 200
    assert given_a_real_password.status_code == 200


async def test_development_accounts_sign_in_in_test(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"username": "operator1", "password": "operator1-pass"})
    assert response.status_code == 200


# -- deactivated accounts ----------------------------------------------------------------------------------------


async def test_a_token_is_refused_once_its_account_is_deactivated(
    app: FastAPI, client: httpx.AsyncClient, users: MemoryUsers
) -> None:
    clock = Clock()
    app.state.gateway.accounts = AccountCache(2.0, clock=clock)
    headers = bearer(users.users["head1"])
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200

    users.users["head1"] = replace(users.users["head1"], active=False)
    clock.now += 1.0
    within_the_bound = await client.get("/api/v1/auth/me", headers=headers)
    clock.now += 1.0
    after = await client.get("/api/v1/auth/me", headers=headers)
    proxied = await client.get("/api/v1/worklist", headers=headers)

    assert within_the_bound.status_code == 200  # the documented bound: BT_ACCOUNT_CACHE_S
    assert after.status_code == 401
    assert after.json()["detail"] == "the account of this access token is switched off"
    assert proxied.status_code == 401


async def test_a_token_is_refused_when_its_account_is_gone_or_moved(
    app: FastAPI, client: httpx.AsyncClient, users: MemoryUsers
) -> None:
    app.state.gateway.accounts = AccountCache(0.0)
    moved = bearer(users.users["executive1a"])
    gone = bearer(users.users["operator2"])
    users.users["executive1a"] = replace(users.users["executive1a"], site="almaty-bostandyk")
    del users.users["operator2"]

    assert (
        (await client.get("/api/v1/auth/me", headers=moved))
        .json()["detail"]
        .startswith("the account's role or site changed")
    )
    assert (await client.get("/api/v1/auth/me", headers=gone)).status_code == 401


# -- password spraying -------------------------------------------------------------------------------------------


async def test_spraying_many_users_from_one_address_gets_429_for_that_address(users: MemoryUsers) -> None:
    names = [u for u in users.users if u != "retired"][:12]
    async with gateway_app(make_settings(), users) as app:
        async with client_from(app, STRANGER) as stranger:
            # The attack: three passwords over twelve users (36 attempts); the 21st is stopped.
            codes = [
                (await stranger.post(TOKEN, data={"username": n, "password": p})).status_code
                for p in ("123456", "password", "qwerty")
                for n in names
            ]
            # Once blocked, even a right password from that address waits.
            right = await stranger.post(TOKEN, data={"username": "head1", "password": "head1-pass"})
        async with client_from(app, OWNER) as owner:
            elsewhere = await owner.post(TOKEN, data={"username": names[0], "password": f"{names[0]}-pass"})

    assert codes[:20] == [401] * 20
    assert codes[20:] == [429] * 16
    assert right.status_code == 429
    assert right.headers["content-type"] == "application/problem+json"
    assert 1 <= int(right.headers["retry-after"]) <= 60
    assert "from this address" in right.json()["detail"]
    assert elsewhere.status_code == 200


async def test_a_stranger_guessing_a_users_password_does_not_lock_the_user_out(users: MemoryUsers) -> None:
    async with gateway_app(make_settings(), users) as app:
        async with client_from(app, STRANGER) as stranger:
            guesses = [
                (await stranger.post(TOKEN, data={"username": "head2", "password": f"guess{i}"})).status_code
                for i in range(12)
            ]
        async with client_from(app, OWNER) as owner:
            own = await owner.post(TOKEN, data={"username": "head2", "password": "head2-pass"})
            typo = await owner.post(TOKEN, data={"username": "head2", "password": "head2-pas"})

    assert guesses == [401] * 10 + [429] * 2
    assert own.status_code == 200
    assert typo.status_code == 401


def test_a_success_forgets_its_own_pair_but_not_the_address() -> None:
    clock = Clock()
    guard = SignInGuard(per_name=3, per_address=5, window_s=60, clock=clock)
    for name in ("a", "a", "b", "c"):
        guard.fail("10.0.0.1", name)
    guard.succeed("10.0.0.1", "a")
    assert guard.blocked("10.0.0.1", "a") is None

    guard.fail("10.0.0.1", "d")  # the fifth failure from this address: knowing a's password bought nothing
    blocked = guard.blocked("10.0.0.1", "a")
    assert blocked is not None
    assert blocked.retry_after_s == 60
    assert guard.blocked("10.0.0.2", "a") is None
    clock.now += 60.5
    assert guard.blocked("10.0.0.1", "a") is None
