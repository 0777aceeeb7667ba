"""The public OpenAPI document: the gateway's own paths merged with the routed operations of every service."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from btkernel import logging as btlog
from btkernel import problem_docs
from gateway.roles import ALL_ROLES
from gateway.routes import Route, RouteTable

log = btlog.get(__name__)

Doc = dict[str, Any]

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_REF = "#/components/"
# Security schemes are the gateway's business: the services trust the gateway and declare none of their own.
_NOT_MERGED = frozenset({"securitySchemes"})

BEARER_SCHEME: Doc = {
    "type": "oauth2",
    "description": "Sign in with user name and password; send the token as `Authorization: Bearer <token>`.",
    "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
}
# Answers the gateway itself gives on every proxied operation, whatever the service documents.
GATEWAY_RESPONSES = {
    401: "No bearer token, or an invalid or expired one",
    403: "The caller's role may not call this operation (`allowed_roles` lists who may)",
    413: "The request body is larger than the gateway accepts",
    422: "Invalid input, named in `errors[].path`: a parameter, a body field, or a header the gateway cannot "
    "forward (`header.idempotency-key`)",
    503: "The owning service or its database is unavailable (`service` names which); retry after Retry-After",
    504: "The owning service did not answer in time; a retry with the same Idempotency-Key is safe",
}


class OpenApiCache:
    """Each service's document, fetched on first use and kept for `ttl_s`; a service that could not be reached
    is asked again on the next request."""

    def __init__(self, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._docs: dict[str, tuple[float, Doc]] = {}
        # One fetch at a time, so a burst of /docs page loads makes one round of requests, not one each.
        self._lock = asyncio.Lock()

    async def get(
        self, http: httpx.AsyncClient, upstreams: Mapping[str, str], *, timeout_s: float
    ) -> tuple[dict[str, Doc], list[str]]:
        """The documents of `upstreams` (service → base URL) that could be had, and the services that failed."""
        async with self._lock:
            now = self._clock()
            stale = [s for s in upstreams if s not in self._docs or now - self._docs[s][0] > self._ttl_s]
            fetched = await asyncio.gather(*(_fetch(http, s, upstreams[s], timeout_s) for s in stale))
            for service, doc in zip(stale, fetched, strict=True):
                if doc is not None:
                    self._docs[service] = (now, doc)
            docs = {s: self._docs[s][1] for s in upstreams if s in self._docs}
        return docs, [s for s in upstreams if s not in docs]


async def _fetch(http: httpx.AsyncClient, service: str, base: str, timeout_s: float) -> Doc | None:
    try:
        response = await http.get(f"{base.rstrip('/')}/openapi.json", timeout=timeout_s)
        response.raise_for_status()
        doc = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("upstream_openapi_unavailable", upstream=service, error=repr(exc))
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        log.warning("upstream_openapi_malformed", upstream=service)
        return None
    return doc


def merge(
    own: Doc, services: Mapping[str, Doc], table: RouteTable, *, unavailable: Iterable[str] = ()
) -> Doc:
    """`own` (the gateway's document) plus every operation of `services` that the route table routes to that
    service. Components are merged by name; a service's component whose name is taken by a different
    definition is renamed `<service>_<name>` and the service's `$ref`s follow it."""
    doc = copy.deepcopy(own)
    components = doc.setdefault("components", {})
    # Claimed before any service's components, so the kernel's Problem keeps the plain name.
    components.setdefault("schemas", {})["Problem"] = problem_docs.PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})["bearer"] = BEARER_SCHEME
    paths: dict[str, Doc] = doc.setdefault("paths", {})
    tags: dict[str, Doc] = {t["name"]: t for t in doc.get("tags", [])}
    for service in sorted(services):
        spec = services[service]
        operations = list(_routed_operations(spec, service, table))
        if not operations:
            continue
        renames = _merge_components(components, spec.get("components", {}), service)
        for path, method, operation, route in operations:
            paths.setdefault(path, {})[method] = _secured(_rewrite_refs(operation, renames), route)
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        doc["tags"] = list(tags.values())
    # The services document their problems by the kernel's rules already; applied again over the whole document,
    # the rules also cover a service's document from an older version and the gateway's own operations.
    problem_docs.document(doc)
    for _, _, operation in problem_docs.operations(doc):
        if "security" in operation and "401" not in operation["responses"]:
            operation["responses"]["401"] = problem_docs.response(401)
    _prune(doc)
    missing = sorted(unavailable)
    if missing:
        doc["info"]["x-unavailable-services"] = missing
        note = f"Not included: the documents of {', '.join(missing)} could not be fetched."
        doc["info"]["description"] = f"{doc['info'].get('description', '')}\n\n{note}".strip()
    return doc


def _routed_operations(spec: Doc, service: str, table: RouteTable) -> Iterable[tuple[str, str, Doc, Route]]:
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            route = table.find(method, path)
            # Only what the table routes to this service is public; anything else a service serves is internal.
            if route is not None and route.service == service:
                yield path, method, operation, route


def _merge_components(ours: Doc, theirs: Doc, service: str) -> dict[str, str]:
    """Add `theirs` to `ours` and return the `$ref` renames the service's document needs."""
    entries = [
        (kind, name, definition)
        for kind, defs in theirs.items()
        if kind not in _NOT_MERGED
        for name, definition in defs.items()
    ]
    renames: dict[str, str] = {}
    # Renaming one schema changes every schema that refers to it, which may then clash in turn: repeat until no
    # new clash appears. Each round renames at least one name, so this ends.
    while True:
        clashes = [
            (kind, name)
            for kind, name, definition in entries
            if f"{_REF}{kind}/{name}" not in renames
            and name in ours.get(kind, {})
            and ours[kind][name] != _rewrite_refs(definition, renames)
        ]
        if not clashes:
            break
        for kind, name in clashes:
            taken = ours.get(kind, {})
            new, n = f"{service}_{name}", 2
            while new in taken or f"{_REF}{kind}/{new}" in renames.values():
                new, n = f"{service}_{name}_{n}", n + 1
            renames[f"{_REF}{kind}/{name}"] = f"{_REF}{kind}/{new}"
    for kind, name, definition in entries:
        target = renames.get(f"{_REF}{kind}/{name}", f"{_REF}{kind}/{name}").rsplit("/", 1)[1]
        ours.setdefault(kind, {})[target] = _rewrite_refs(definition, renames)
    return renames


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of `node` with every `$ref` in `renames` replaced."""
    if isinstance(node, dict):
        return {
            k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v, renames))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _secured(operation: Doc, route: Route) -> Doc:
    operation["security"] = [{"bearer": []}]
    allowed = sorted(route.roles)
    operation["x-roles"] = allowed
    who = "any signed-in role" if route.roles == ALL_ROLES else ", ".join(allowed)
    operation["description"] = f"{operation.get('description', '')}\n\nRoles: {who}.".strip()
    responses = operation.setdefault("responses", {})
    for status, text in GATEWAY_RESPONSES.items():
        # The gateway's description: it says what both the gateway and the service mean by the status.
        responses[str(status)] = problem_docs.response(status, text)
    return operation


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(_REF):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _prune(doc: Doc) -> None:
    """Drop components no kept operation reaches: those of operations the route table leaves out."""
    components: Doc = doc.get("components", {})
    reached: set[str] = set()
    pending = list(_refs(doc.get("paths", {})))
    while pending:
        ref = pending.pop()
        if ref in reached:
            continue
        reached.add(ref)
        kind, _, name = ref[len(_REF) :].partition("/")
        pending.extend(_refs(components.get(kind, {}).get(name)))
    for kind, defs in components.items():
        if kind in _NOT_MERGED:
            continue
        for name in [n for n in defs if f"{_REF}{kind}/{n}" not in reached]:
            del defs[name]
