"""Errors as RFC 9457 problem details (application/problem+json), each naming the failing field's path."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """A refusal a person can act on: status, a short title, what went wrong and, where one field is at fault,
    its path (e.g. `applicant.iin`)."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or ([{"path": field, "reason": detail}] if field else [])
        self.code = code
        self.extra = extra


class NotFound(Problem):
    status = 404
    title = "Not found"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class Unauthorized(Problem):
    status = 401
    title = "Not authenticated"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class RuleViolation(Problem):
    """The request is well-formed but a rule of the regulations forbids it now."""

    status = 422
    title = "Not allowed by the rules"


class InvalidInput(Problem):
    status = 422
    title = "Invalid input"


def problem_response(
    status: int,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
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
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _reason(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, str(request.url.path), exc.errors, code=exc.code, **exc.extra
        )

    from btkernel.workcal import WorkcalError

    @app.exception_handler(WorkcalError)
    async def _term(request: Request, exc: WorkcalError) -> JSONResponse:
        # A term that cannot be computed (unknown site, missing schedule, naive time) is never silently defaulted.
        return problem_response(
            422, "Term cannot be computed", str(exc), str(request.url.path), code="term_error"
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"path": _path(e.get("loc", ())), "reason": _reason(e)} for e in exc.errors()]
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
