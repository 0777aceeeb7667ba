"""Test helpers for services: run a service's ASGI app with its lifespan against a real database, and build
the identity headers the gateway would send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from btkernel.context import encode_name


def actor_headers(
    actor_id: str, role: str, site: str | None = None, name: str | None = None
) -> dict[str, str]:
    headers = {"X-Actor-Id": actor_id, "X-Actor-Role": role, "X-Actor-Name": encode_name(name or actor_id)}
    if site:
        headers["X-Actor-Site"] = site
    return headers


@asynccontextmanager
async def serve(build: Callable[[], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (pool, migrations, relay and consumers as its settings say)."""
    app = build()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client
