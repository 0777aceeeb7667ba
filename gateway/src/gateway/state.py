"""The gateway's runtime: settings, route table, login guard, and the resources attached at start."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from gateway.openapi import OpenApiCache
from gateway.ratelimit import FailureGuard
from gateway.routes import RouteTable
from gateway.settings import Settings
from gateway.users import UserStore


class Gateway:
    """Created with the app; the user store and the HTTP client are attached when the app starts (or by a test,
    which attaches fakes without starting anything)."""

    def __init__(self, settings: Settings, table: RouteTable) -> None:
        self.settings = settings
        self.table = table
        self.upstreams = settings.upstream_urls()
        missing = set(table.services()) - set(self.upstreams)
        if missing:
            raise ValueError(f"the route table names services without a base URL: {sorted(missing)}")
        self.login_guard = FailureGuard(settings.login_max_failures, settings.login_window_s)
        self.openapi = OpenApiCache()
        self._users: UserStore | None = None
        self._http: httpx.AsyncClient | None = None

    def attach(self, users: UserStore, http: httpx.AsyncClient) -> None:
        self._users = users
        self._http = http

    async def detach(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._users = self._http = None

    @property
    def users(self) -> UserStore:
        if self._users is None:
            raise RuntimeError("the gateway has not started: no user store attached")
        return self._users

    @property
    def http(self) -> httpx.AsyncClient:
        """The one client every upstream call shares, so connections to the services are pooled."""
        if self._http is None:
            raise RuntimeError("the gateway has not started: no HTTP client attached")
        return self._http


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
