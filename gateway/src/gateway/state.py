"""The gateway's runtime: settings, route table, sign-in guard, account cache, and the resources attached at
start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import httpx
from fastapi import Depends, Request

from gateway.balancer import Instances, Picks
from gateway.internal_tokens import InternalTokens
from gateway.openapi import OpenApiCache
from gateway.ratelimit import SignInGuard
from gateway.routes import RouteTable
from gateway.settings import Settings
from gateway.tokens import VerifiedTokens
from gateway.upstream import UpstreamClient
from gateway.users import AccountCache, UserStore


class Gateway:
    """Created with the app; the user store and the HTTP client are attached when the app starts (or by a test,
    which attaches fakes without starting anything)."""

    def __init__(self, settings: Settings, table: RouteTable) -> None:
        self.settings = settings
        self.table = table
        # Every instance of every service; `upstreams[service]` picks one per lookup (gateway.balancer).
        self.instances = {
            name: Instances(name, bases) for name, bases in settings.upstream_instances().items()
        }
        self.upstreams = Picks(self.instances)
        missing = set(table.services()) - set(self.upstreams)
        if missing:
            raise ValueError(f"the route table names services without a base URL: {sorted(missing)}")
        self.login_guard = SignInGuard(
            settings.login_max_failures, settings.login_address_max_failures, settings.login_window_s
        )
        self.accounts = AccountCache(settings.account_cache_s)
        # Bearer tokens already verified, until their exp (gateway.tokens.VerifiedTokens).
        self.verified_tokens = VerifiedTokens(settings.jwt_secret)
        self.openapi = OpenApiCache()
        self.internal_tokens = InternalTokens(settings)
        self._users: UserStore | None = None
        self._upstream: UpstreamClient | None = None

    def attach(self, users: UserStore, http: httpx.AsyncBaseTransport | UpstreamClient) -> None:
        """`http` is the upstream client, or one transport (a test's fake network) that plays both of its parts:
        pooled and fresh connections are the same thing to a fake."""
        self._users = users
        self._upstream = (
            http
            if isinstance(http, UpstreamClient)
            else UpstreamClient(http, http, timeout_s=self.settings.upstream_timeout_s)
        )

    async def detach(self) -> None:
        if self._upstream is not None:
            await self._upstream.aclose()
        self._users = self._upstream = None

    @property
    def users(self) -> UserStore:
        if self._users is None:
            raise RuntimeError("the gateway has not started: no user store attached")
        return self._users

    async def send(
        self, service: str, method: str, url: str, *, content: bytes | None, headers: Mapping[str, str]
    ) -> httpx.Response:
        """Relay to `service`: `url` was made from `upstreams[service]`; another instance of the service takes
        the request when that one cannot (gateway.upstream.send_balanced)."""
        return await self.upstream.send_balanced(
            self.instances[service], method, url, content=content, headers=headers
        )

    @property
    def upstream(self) -> UpstreamClient:
        """The client the proxy forwards with (its retry rule: gateway.upstream)."""
        if self._upstream is None:
            raise RuntimeError("the gateway has not started: no HTTP client attached")
        return self._upstream

    @property
    def http(self) -> httpx.AsyncClient:
        """A client on the pooled connections, for the gateway's own GETs to the services (health probes, OpenAPI
        documents)."""
        return self.upstream.http


# `async def`, though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
# on every proxied request (issue 13).
async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
