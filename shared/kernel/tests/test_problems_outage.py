"""An outage of the database is a 503 problem with Retry-After in every service (btkernel.problems); a bug that
merely looks like a driver error stays a 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from btkernel import problems

OUTAGES = [
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    TimeoutError(),  # pool.acquire(timeout=…) ran out
]


def _app(error: Exception) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    return app


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
async def test_an_outage_is_a_503_with_retry_after(error: Exception) -> None:
    transport = httpx.ASGITransport(app=_app(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        response = await client.get("/boom")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(problems.RETRY_AFTER_DATABASE_S)
    body = response.json()
    assert body["code"] == "dependency_unavailable"
    assert body["instance"] == "/boom"


async def test_a_data_error_is_a_bug_not_an_outage() -> None:
    # DataError is an InterfaceError too ("invalid input for query argument"): wrong code, not a down database.
    transport = httpx.ASGITransport(
        app=_app(asyncpg.DataError("invalid input for query argument $1")), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        response = await client.get("/boom")

    assert response.status_code == 500


async def test_the_unavailable_problem_carries_its_retry_after() -> None:
    transport = httpx.ASGITransport(
        app=_app(problems.Unavailable("the registry is moving", retry_after_s=30))
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        response = await client.get("/boom")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"


def test_header_paths_are_lower_case() -> None:
    assert problems._path(("header", "Idempotency-Key")) == "header.idempotency-key"
    assert problems._path(("body", "applicant", "Name", 0)) == "body.applicant.Name[0]"
