"""The bare baselines of `make bench` P1 (issue 13, "the same work done bare"): the least a submission can cost on
this machine, so the platform's figure is read as a ratio rather than an absolute.

* `endpoint_app`: FastAPI, a pydantic body shaped like the birth application (`btdeploy.samples.birth_application`),
  and one asyncpg INSERT of it into `bare_applications` in a scratch database on the stack's PostgreSQL (fsync on,
  as the platform's). No receipt number, no outbox, no event store, no Kafka: what the platform adds is the
  difference.
* `proxy_app`: the same request through one more HTTP hop (FastAPI + httpx on the gateway's pool), to price
  the gateway's hop apart from what the gateway decides.

Both run under `btkernel.serve`, the services' own server with its limits, each as its own process so that its CPU
is measured by pid (`BareProcesses`). Settings from the environment: `BT_BENCH_BARE_DSN`, `BT_BENCH_UPSTREAM`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Literal

import asyncpg
import httpx
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from btdeploy.ports import free_ports
from btdeploy.processes import ServiceProcess
from btkernel.http_pool import OnePassTransport

TABLE = "bare_applications"
ROUTE = "/api/v1/applications"
POOL_SIZE = 10  # as a service's pool (btkernel.serve: "a service answers from a pool of 10 connections")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Name(Strict):
    surname: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)


class Person(Strict):
    iin: str = Field(pattern=r"^\d{12}$")
    name: Name


class Contact(Strict):
    phone: str = Field(max_length=20)
    email: str = Field(max_length=200)


class Child(Strict):
    name: Name
    sex: Literal["male", "female"]
    birth_date: str = Field(max_length=10)
    birth_place: str = Field(max_length=200)


class BirthDetails(Strict):
    child: Child
    mother: Person


class BirthApplication(Strict):
    service_id: str = Field(max_length=64)
    applicant: Person
    contact: Contact
    documents: list[str] = Field(max_length=20)
    details: BirthDetails


class Accepted(BaseModel):
    application_id: str


async def applications_pool(table: str) -> asyncpg.Pool:
    """A service-sized pool on `BT_BENCH_BARE_DSN`, and `table` for the applications made there if missing."""
    pool = await asyncpg.create_pool(os.environ["BT_BENCH_BARE_DSN"], min_size=POOL_SIZE, max_size=POOL_SIZE)
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (application_id uuid PRIMARY KEY, service_id text NOT NULL,"
        " applicant_iin text NOT NULL, body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
    )
    return pool


def app_with_health(lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]) -> FastAPI:
    """A bench process's app: `lifespan` around it, and GET /health answering 200 once it has started (what
    `ServiceProcess.wait_ready` waits for)."""
    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def endpoint_app() -> FastAPI:
    """The bare insert endpoint; the table is made at start if missing."""
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool["db"] = await applications_pool(TABLE)
        yield
        await pool["db"].close()

    app = app_with_health(lifespan)

    @app.post(ROUTE, status_code=201)
    async def submit(body: BirthApplication) -> Accepted:
        application_id = uuid.uuid4()
        await pool["db"].execute(
            f"INSERT INTO {TABLE} (application_id, service_id, applicant_iin, body) VALUES ($1, $2, $3, $4::jsonb)",
            application_id,
            body.service_id,
            body.applicant.iin,
            body.model_dump_json(),
        )
        return Accepted(application_id=str(application_id))

    return app


def proxy_app() -> FastAPI:
    """A minimal reverse proxy to `BT_BENCH_UPSTREAM`: method, path, body and content type forwarded, the answer
    returned as it came."""
    client: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        client["http"] = httpx.AsyncClient(
            base_url=os.environ["BT_BENCH_UPSTREAM"],
            timeout=30.0,
            # The pool the gateway relays on (btkernel.http_pool), so the hop is priced as the gateway makes it.
            transport=OnePassTransport(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
            ),
        )
        yield
        await client["http"].aclose()

    app = app_with_health(lifespan)

    @app.api_route("/api/{path:path}", methods=["GET", "POST"])
    async def forward(path: str, request: Request) -> Response:
        upstream = await client["http"].request(
            request.method,
            f"/api/{path}",
            content=await request.body(),
            headers={"content-type": request.headers.get("content-type", "application/json")},
        )
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
        )

    return app


# What `btkernel.serve` runs ("<module>:<attribute>"); their settings are read at start (lifespan), not here.
endpoint = endpoint_app()
proxy = proxy_app()


class BareProcesses:
    """The bare endpoint and the bare proxy in front of it, as processes on free ports, stopped by pid."""

    def __init__(self, log_dir: Path, dsn: str) -> None:
        self.log_dir, self.dsn = log_dir, dsn
        endpoint_port, proxy_port = free_ports(2)
        self.endpoint = ServiceProcess(
            "bench-bare",
            "btdeploy.bench_bare:endpoint",
            endpoint_port,
            {"BT_SERVICE_NAME": "bench-bare", "BT_BENCH_BARE_DSN": dsn},
            log_dir / "bench-bare.log",
        )
        self.proxy = ServiceProcess(
            "bench-proxy",
            "btdeploy.bench_bare:proxy",
            proxy_port,
            {"BT_SERVICE_NAME": "bench-proxy", "BT_BENCH_UPSTREAM": self.endpoint.url},
            log_dir / "bench-proxy.log",
        )

    def __enter__(self) -> BareProcesses:
        try:
            for process in (self.endpoint, self.proxy):
                process.start()
                process.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.proxy.stop()
        self.endpoint.stop()
