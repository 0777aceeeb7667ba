"""End-to-end helpers: a client of the gateway that logs in as the seeded development users, and polling with a
deadline instead of sleeping. Used by the end-to-end tests and the benchmark."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def dev_user(role: str, site: str | None = None, index: int = 0) -> Any:
    from gateway.seed import DEV_USERS

    matching = [u for u in DEV_USERS if u.role == role and (site is None or u.site == site)]
    return matching[index]


class Gateway:
    """The public API as a person at a counter uses it: one bearer token per role."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    async def token(self, user: Any) -> str:
        if user.username not in self._tokens:
            r = await self.client.post(
                "/api/v1/auth/token", data={"username": user.username, "password": user.password}
            )
            assert r.status_code == 200, r.text
            self._tokens[user.username] = r.json()["access_token"]
        return self._tokens[user.username]

    async def as_(self, user: Any, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token(user)}", **kw.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kw)


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout_s: float = 60.0, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy, or fail after `timeout_s` naming `what`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.1)
