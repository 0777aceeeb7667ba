"""Errors as RFC 9457 problem details (application/problem+json), each naming the failing field's path.

The domain raises plain exceptions (`btkernel.errors`); this module is where they become HTTP: `STATUS` maps each
kind to its status, `install` renders them, outages (503) and FastAPI's own validation errors.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from btkernel import logging as btlog
from btkernel.bounded import not_text_reason
from btkernel.errors import ConcurrencyConflict as ConcurrencyConflict
from btkernel.errors import Conflict as Conflict
from btkernel.errors import DomainError as DomainError
from btkernel.errors import Forbidden as Forbidden
from btkernel.errors import InvalidInput as InvalidInput
from btkernel.errors import NotFound as NotFound
from btkernel.errors import RuleViolation as RuleViolation

log = btlog.get(__name__)

PROBLEM_JSON = "application/problem+json"

# Seconds a client is told to wait after a 503 (docs/adr/0011-outages-are-503.md). A PostgreSQL restart, crash
# recovery included, takes a few seconds; asking sooner only adds load to a server coming back.
RETRY_AFTER_DATABASE_S = 5

# A dependency that is down, restarting or out of connections — the request was not at fault, and the same
# request (with the same Idempotency-Key) may succeed later. The transaction it ran in was rolled back, or
# committed with its idempotency record, so a retry is safe either way.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError "connection was closed in the middle of operation"
    asyncpg.InterfaceError,  # "connection is closed", a pool whose connections died
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.AdminShutdownError,  # in-flight statements of a server being stopped
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # "cannot switch to state 15; another operation (2) is in progress": how asyncpg reports, now and then, a
    # session the server terminated mid-transaction (MagicStack/asyncpg#1069); the pool discards the connection.
    asyncpg.InternalClientError,
    ConnectionError,  # ConnectionRefusedError while the server is down, resets
    TimeoutError,  # a pool acquire or connect that timed out (btkernel.db)
)
# Subclasses of InterfaceError that are the caller's bug, not an outage: they stay 500s so they get fixed.
_NOT_OUTAGES: tuple[type[Exception], ...] = (asyncpg.DataError, asyncpg.ClientConfigurationError)


# The domain's refusals, rendered here. `Problem` is their old name, kept so existing imports keep working.
Problem = DomainError

# The HTTP status of each kind of domain error; a subclass takes its nearest ancestor's. An error that exists
# only at the edge (below, or `outbox.Unpublishable`) sets `status` on its class instead.
STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    InvalidInput: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    RuleViolation: 422,
}


def status_of(error: DomainError) -> int:
    explicit = getattr(type(error), "status", None)
    if isinstance(explicit, int):
        return explicit
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


class Unauthorized(DomainError):
    """No identity, or one the gateway could not vouch for: an edge error, never raised by the domain."""

    status = 401
    title = "Not authenticated"


class Unavailable(DomainError):
    """Something this request needs is down for now; the client retries after `retry_after_s`."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = RETRY_AFTER_DATABASE_S, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = retry_after_s


def unavailable_response(
    detail: str, instance: str | None, *, retry_after_s: int = RETRY_AFTER_DATABASE_S, **extra: Any
) -> JSONResponse:
    """The one shape of an outage: 503, a problem, and always `Retry-After`."""
    response = problem_response(503, "Service unavailable", detail, instance, **extra)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


def problem_response(
    status: int,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _path(loc: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI prefixes the location with where it came from (body, query, path, header); keep that: an operator
    # reading "query.status" knows where to look, and nested fields read as dotted paths with [index].
    out = ""
    if len(loc) >= 2 and loc[0] == "header":
        # Header names are case-insensitive; one spelling (lower case, as HTTP/2 sends them) for every path.
        loc = ["header", str(loc[1]).lower(), *loc[2:]]
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# The limits pydantic names in an error's `ctx` (max_length, ge, pattern, …) that a client may show in its own
# words; anything else there (an exception object, a list of choices) is left out.
def _ctx(err: dict[str, Any]) -> dict[str, str | int | float | bool]:
    ctx = err.get("ctx") or {}
    return {k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool) and k != "error"}


def _entry(err: dict[str, Any]) -> dict[str, Any]:
    """One field's error: `path` and the English `reason` as always, and `type`, pydantic's stable code
    (`missing`, `string_too_long` with `ctx.max_length`, or a check's own, e.g. `iin_checksum`) that a client
    translates by (issue 11: the desk in Russian and Kazakh)."""
    entry: dict[str, Any] = {
        "path": _path(err.get("loc", ())),
        "reason": _reason(err),
        "type": str(err.get("type", "")),
    }
    if ctx := _ctx(err):
        entry["ctx"] = ctx
    return entry


def _reason(err: dict[str, Any]) -> str:
    if why := not_text_reason(str(err.get("type", "")), _ctx(err).get("pattern")):
        return why
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def install(app: FastAPI) -> None:
    from btkernel import problem_docs

    problem_docs.install(app)

    @app.exception_handler(DomainError)
    async def _problem(request: Request, exc: DomainError) -> JSONResponse:
        response = problem_response(
            status_of(exc),
            exc.title,
            exc.detail,
            str(request.url.path),
            # A field without a code of its own carries the problem's: the key a client translates by.
            [{**e, "type": exc.code} if exc.code and "type" not in e else e for e in exc.errors],
            code=exc.code,
            **exc.extra,
        )
        if isinstance(exc, Unavailable):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, _NOT_OUTAGES):
            raise exc
        log.warning("dependency_unavailable", path=request.url.path, error=repr(exc))
        return unavailable_response(
            "the database is unavailable for the moment; retry later (with the same Idempotency-Key, if any)",
            str(request.url.path),
            code="dependency_unavailable",
        )

    for error in OUTAGE_ERRORS:
        app.add_exception_handler(error, _outage)

    from workcal import WorkcalError

    @app.exception_handler(WorkcalError)
    async def _term(request: Request, exc: WorkcalError) -> JSONResponse:
        # A term that cannot be computed (unknown site, missing schedule, naive time) is never silently defaulted.
        return problem_response(
            422, "Term cannot be computed", str(exc), str(request.url.path), code="term_error"
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_entry(e) for e in exc.errors()]
        detail = "; ".join(f"{e['path']}: {e['reason']}" for e in errors[:5])
        return problem_response(422, "Invalid input", detail, str(request.url.path), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {401: "Not authenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
        response = problem_response(
            exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), str(request.url.path)
        )
        # Keep what the exception says in headers (a 405's Allow, a 429's Retry-After).
        for name, value in (exc.headers or {}).items():
            response.headers.setdefault(name, value)
        return response
