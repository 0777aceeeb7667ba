"""Fakes for the gateway's unit tests: an in-memory user store and upstream services behind MockTransport."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import internal_token, signing
from gateway import passwords, tokens
from gateway.seed import DEV_USERS
from gateway.settings import Settings
from gateway.users import User, normalise

SECRET = "unit-test-secret-0123456789abcdef-0123456789"
SERVICES = ("intake", "registry", "notification", "fee")
# The gateway's internal-token key for these tests (a production gateway does not start without one).
_KEYS = tempfile.TemporaryDirectory(prefix="bt-gateway-key-")
KEY_FILE = Path(_KEYS.name) / "internal-token-key.pem"
KEY_FILE.write_bytes(internal_token.private_key_pem(internal_token.generate_private_key()))
# The partner signing keys' public half (gateway.partners; a production gateway does not start without one).
PARTNER_KEYS_FILE = Path(_KEYS.name) / "partner-public-keys.pem"
PARTNER_KEYS_FILE.write_text(signing.public_pem(Ed25519PrivateKey.generate()), encoding="ascii")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "jwt_secret": SECRET,
        "relay_enabled": False,
        "consumers_enabled": False,
        "internal_token_key_file": str(KEY_FILE),
        "partner_public_keys_file": str(PARTNER_KEYS_FILE),
        **{f"{s}_url": f"http://{s}.test" for s in SERVICES},
    }
    values.update(overrides)
    return Settings(**values)


def sent_claims(request: httpx.Request) -> dict[str, Any]:
    """The claims of the internal token the gateway sent upstream, unverified (test_gateway_proxy checks the
    signature and the audience)."""
    claims: dict[str, Any] = jwt.decode(
        request.headers["x-internal-token"], options={"verify_signature": False}
    )
    return claims


def cheap_user(username: str, password: str, full_name: str, role: str, site: str | None) -> User:
    # Minimal scrypt cost: the tests check the flow, not the work factor.
    return User(username, full_name, role, site, passwords.hash_password(password, n=16, r=1, p=1))


def make_users() -> list[User]:
    accounts = [cheap_user(u.username, u.password, u.full_name, u.role, u.site) for u in DEV_USERS]
    retired = cheap_user("retired", "retired-pass", "Бекова Сауле", "centre_operator", "almaty-con-1")
    return [*accounts, replace(retired, active=False)]


def bearer(user: User, **claims: Any) -> dict[str, str]:
    token, _ = tokens.issue(user, secret=SECRET, ttl_s=600)
    return {"Authorization": f"Bearer {token}"}


class MemoryUsers:
    """UserStore in a dict; `down` makes the readiness check fail as an unreachable database would."""

    def __init__(self, users: Iterable[User] = ()) -> None:
        self.users = {u.username: u for u in users}
        self.down = False

    async def get(self, username: str) -> User | None:
        return self.users.get(normalise(username))

    async def existing(self, usernames: Iterable[str]) -> set[str]:
        return {normalise(u) for u in usernames} & set(self.users)

    async def add(self, user: User) -> bool:
        if user.username in self.users:
            return False
        self.users[user.username] = user
        return True

    async def end_sessions(self, username: str) -> bool:
        user = self.users.get(normalise(username))
        if user is None:
            return False
        self.users[user.username] = replace(user, session_epoch=user.session_epoch + 1)
        return True

    async def on_site(self, site: str, role: str | None, *, limit: int) -> list[User]:
        found = [u for u in self.users.values() if u.site == site and u.active and role in (None, u.role)]
        return sorted(found, key=lambda u: u.username)[:limit]

    async def ping(self) -> None:
        if self.down:
            raise ConnectionRefusedError("database down")


Handler = Callable[[httpx.Request], httpx.Response]


class FakeUpstreams:
    """The four services, told apart by host (`http://intake.test`, …). By default each echoes the request it
    got as JSON, answers /health with ok and /openapi.json with `openapi[service]` (a document without paths if unset)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handlers: dict[str, Handler] = {}
        self.openapi: dict[str, dict[str, Any]] = {}
        self.down: set[str] = set()
        self.slow: set[str] = set()
        self.unhealthy: set[str] = set()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def last(self, service: str) -> httpx.Request:
        return [r for r in self.requests if r.url.host == f"{service}.test"][-1]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.removesuffix(".test")
        self.requests.append(request)
        if service in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if service in self.slow:
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.path == "/health":
            if service in self.unhealthy:
                return httpx.Response(503, json={"status": "unavailable", "checks": {"database": "down"}})
            return httpx.Response(
                200, json={"status": "ok", "service": service, "checks": {"database": "ok"}}
            )
        if request.url.path == "/openapi.json":
            empty = {"openapi": "3.1.0", "info": {"title": service, "version": "1"}, "paths": {}}
            return httpx.Response(200, json=self.openapi.get(service, empty))
        if service in self.handlers:
            return self.handlers[service](request)
        body = json.loads(request.content) if request.content else None
        return httpx.Response(
            200,
            json={"service": service, "method": request.method, "path": request.url.path, "body": body},
        )
