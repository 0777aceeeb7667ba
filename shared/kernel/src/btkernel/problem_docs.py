"""Which problem responses each operation documents in OpenAPI, derived from how the route is declared.

FastAPI documents a 422 as its own `HTTPValidationError`, which no response of ours has ever looked like, and
nothing else. Every service (and the gateway's own routes) instead gets one `Problem` schema on the answers its
operations really give, by rules that follow the route declaration, so the document changes when the code does:

* every operation: 422 (parameters, body, and the request screen's text checks of `btkernel.limits`) and 503
  with `Retry-After` (the database is down: `problems.OUTAGE_ERRORS`);
* operations that take a body (POST, PUT, PATCH, DELETE): 413 (the body cap of `btkernel.limits`);
* a path parameter names a resource that may not exist or not be visible to the caller: 404;
* a POST on a resource (a path parameter) is a command on an aggregate, written through the event store's
  optimistic concurrency (`eventstore.ConcurrencyConflict`): 409;
* an `Idempotency-Key` header: 409 when the key was used for a different request (`btkernel.idempotency`);
* anything else a route returns it declares itself, `responses=problem_docs.declare(404)`; the rules here
  only give those declarations the `Problem` body.

Readiness probes (tag `health`) answer 503 with their health document, not a problem, and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI

from btkernel.problems import PROBLEM_JSON

Doc = dict[str, Any]

PROBLEM_REF = "#/components/schemas/Problem"
# RFC 9457 problem details as every part of the platform writes them (btkernel.problems.problem_response). Open
# to more members: extensions such as `service` (the gateway's 503/504) or `allowed_roles` (403) are allowed.
PROBLEM_SCHEMA: Doc = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each field at fault (`body.applicant.surname`).",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "reason": {"type": "string", "description": "in English"},
                    "type": {
                        "type": "string",
                        "description": "a stable code to translate by: pydantic's (`missing`, `string_too_long`) "
                        "or a check's own (`iin_checksum`)",
                    },
                    "ctx": {"type": "object", "description": "the limits the code names, e.g. `max_length`"},
                },
                "required": ["path", "reason"],
            },
        },
        "code": {"type": "string", "description": "a stable machine-readable reason, e.g. `already_issued`"},
        "service": {"type": "string", "description": "gateway 503/504: the upstream service at fault"},
        "allowed_roles": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["type", "title", "status", "detail"],
}
RETRY_AFTER_HEADER: Doc = {
    "description": "seconds to wait before retrying (with the same Idempotency-Key, if any)",
    "schema": {"type": "integer", "minimum": 0},
}
DESCRIPTIONS = {
    400: "Bad request",
    401: "No bearer token, or an invalid or expired one",
    403: "The caller may not do this",
    404: "No such resource, or not visible to the caller's site",
    409: "Conflicts with the current state, a concurrent change or an Idempotency-Key used for another request",
    413: "The request body is larger than the service accepts",
    422: "Invalid input; `errors[].path` names each field at fault",
    429: "Too many attempts; see Retry-After",
    503: "A service or its database is unavailable for the moment; retry after Retry-After",
    504: "The owning service did not answer in time; a retry with the same Idempotency-Key is safe",
}
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_BODY_METHODS = frozenset({"post", "put", "patch", "delete"})


def response(status: int, description: str | None = None) -> Doc:
    """The OpenAPI response object of a problem with `status` (503s carry Retry-After)."""
    doc: Doc = {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status in (429, 503):
        doc["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    return doc


def declare(*statuses: int) -> dict[int | str, Doc]:
    """For a route's `responses=`: problems the rules of this module cannot see (a 404 on a query lookup)."""
    return {status: response(status) for status in statuses}


def derived_statuses(path: str, method: str, operation: Doc) -> list[int]:
    """The problem statuses the rules give an operation, in addition to what it declares."""
    params = operation.get("parameters", [])
    statuses = [422, 503]
    if method in _BODY_METHODS:
        statuses.append(413)
    if "{" in path:
        statuses.append(404)
    if method == "post" and "{" in path:
        statuses.append(409)
    if any(p.get("in") == "header" and str(p.get("name", "")).lower() == "idempotency-key" for p in params):
        statuses.append(409)
    return sorted(set(statuses))


def document(doc: Doc) -> Doc:
    """Put the problem responses on every operation of `doc` (in place) and return it."""
    for path, method, operation in operations(doc):
        if "health" in operation.get("tags", []):
            continue
        responses: Doc = operation.setdefault("responses", {})
        for derived in derived_statuses(path, method, operation):
            responses.setdefault(str(derived), {})
        for status, declared in list(responses.items()):
            if status.isdigit() and int(status) >= 400:
                responses[status] = {**response(int(status)), **_kept(declared)}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    return doc


def _kept(declared: Doc) -> Doc:
    # A route's own description says more than the generic one ("Validation Error" says less); its content is
    # replaced — every error of ours is a problem — unless the route answers in another medium than JSON (a page
    # for people, such as the public verification page, says "not found" as HTML).
    description = declared.get("description")
    kept: Doc = {"description": description} if description and description != "Validation Error" else {}
    content = declared.get("content")
    if isinstance(content, dict) and content and not set(content) <= {"application/json", PROBLEM_JSON}:
        kept["content"] = content
    return kept


def operations(doc: Doc) -> Iterable[tuple[str, str, Doc]]:
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield path, method, operation


def install(app: FastAPI) -> None:
    """The app's /openapi.json documents problems by these rules (FastAPI caches the result)."""
    generate = app.openapi

    def openapi() -> Doc:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
