"""Composition root of the gateway: the kernel's app with auth, health, the merged OpenAPI and the proxy."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx
from fastapi import FastAPI

from btkernel import logging as btlog
from btkernel.service import Runtime, create_app
from gateway import (
    auth,
    docs,
    health,
    office_staff,
    partners,
    payment_callback,
    proxy,
    seals,
    seed,
    sms_reports,
    staff,
    verify,
)
from gateway import settings as gateway_settings
from gateway.desk import serve as desk_serve
from gateway.routes import RouteTable
from gateway.settings import Settings
from gateway.state import Gateway
from gateway.upstream import UpstreamClient
from gateway.users import PgUserStore

log = btlog.get(__name__)

DESCRIPTION = (
    "The public API of Bir Tereze, civil registration in Kazakhstan. Sign in at `POST /api/v1/auth/token` "
    "(OAuth2 password flow) and send the token as a bearer token; each operation lists the roles allowed."
)


def build_app(
    settings: Settings | None = None,
    *,
    table: RouteTable | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The gateway app; `transport` replaces the network under the upstream client (tests)."""
    settings = settings or gateway_settings.load()
    # httpx logs every request at INFO as plain text; the gateway logs upstream failures itself, as JSON.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    gateway = Gateway(settings, table or RouteTable())

    async def on_start(rt: Runtime) -> None:
        settings.check_start()
        store = PgUserStore(rt.pool)
        if settings.development_shortcuts:
            created = await seed.seed(store)
            if created:
                log.info("dev_users_seeded", users=created)
        upstream = UpstreamClient.create(
            timeout_s=settings.upstream_timeout_s,
            keepalive_s=settings.upstream_keepalive_s,
            transport=transport,
        )
        gateway.attach(store, upstream)

    async def on_stop(rt: Runtime) -> None:
        await gateway.detach()

    app = create_app(
        settings=settings,
        title="Bir Tereze",
        description=DESCRIPTION,
        migrations="gateway.migrations",
        routers=[],
        on_start=on_start,
        on_stop=on_stop,
        # The kernel's /health sees only this process and FastAPI's /openapi.json only the gateway's own routes;
        # the gateway answers both for the whole platform.
        health=False,
        # The gateway authenticates people (bearer tokens); it signs internal tokens and takes none on its routes.
        internal_tokens=False,
    )
    # FastAPI's own /openapi.json would describe only the gateway's routes; the merged one replaces it. FastAPI's
    # /docs and /redoc load their assets from a CDN: gateway.docs serves Swagger UI from local files instead.
    _drop_routes(app, {"/openapi.json", "/docs", "/redoc"})
    # The partner routes are public (no sign-in) and in the OpenAPI document, so an agency's engineer finds them.
    partner_routes = partners.router(partners.KeyFile(settings.partner_public_keys_file))
    for router in (
        # First: the router tries its routers in order, every route of each, and nearly every request is a
        # relayed one; placed last it was a tenth of the gateway's work per submission (issue 13). No path of the
        # others is one of its templates (test_gateway_model), so the order decides nothing else.
        proxy.router(gateway.table),
        auth.router,
        health.router,
        docs.router,
        # The desk (issue 11): `/` → `/desk/`, its files and the allow-listed vendor assets (ADR 0032).
        desk_serve.router(vendor_dir=desk_serve.vendor_dir_from(settings.desk_assets_dir)),
        staff.router,
        # The office's staff for the desk's choices (issue 11), from the accounts the gateway owns.
        office_staff.router,
        partner_routes,
        # Public: each service's signed history seals (ADR 0030).
        seals.router,
        # Public: the page a printed document's QR code opens (ADR 0033).
        verify.router,
        # Public: the payment gateway's signed notices, relayed to the fee service (ADR 0034).
        payment_callback.router,
        # Public: the SMS provider's signed delivery reports, relayed to the notification service (ADR 0038).
        sms_reports.router,
    ):
        app.include_router(router)
    app.state.gateway = gateway
    return app


def _drop_routes(app: FastAPI, paths: Iterable[str]) -> None:
    drop = set(paths)
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in drop]


app = build_app()
