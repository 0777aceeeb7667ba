"""The route table: which upstream service owns each public operation and which roles may call it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gateway.roles import (
    ALL_ROLES,
    CENTRE_OPERATOR,
    PORTAL,
    REGISTRY_CHANCELLERY,
    REGISTRY_EXECUTIVE,
    REGISTRY_HEAD,
    REGISTRY_ROLES,
    REGISTRY_WORKER,
    SUPERVISOR,
)

INTAKE = "intake"
REGISTRY = "registry"
NOTIFICATION = "notification"
FEE = "fee"


@dataclass(frozen=True)
class Route:
    """One public operation: the same method and path template on the gateway and on `service`."""

    method: str
    path: str
    service: str
    roles: frozenset[str]


def _r(method: str, path: str, service: str, *allowed: str | frozenset[str]) -> Route:
    flat: set[str] = set()
    for item in allowed:
        flat.update({item} if isinstance(item, str) else item)
    unknown = flat - ALL_ROLES
    if unknown:
        raise ValueError(f"{method} {path}: unknown roles {sorted(unknown)}")
    return Route(method, path, service, frozenset(flat))


# Adding an operation to the public API is one line here; the gateway registers, secures and documents it.
TABLE: tuple[Route, ...] = (
    # intake: applications at service centres and the service catalogue
    # Channels: the centre operator (service centre), the registry chancellery or worker (desk), the portal.
    _r(
        "POST", "/api/v1/applications", INTAKE, CENTRE_OPERATOR, REGISTRY_CHANCELLERY, REGISTRY_WORKER, PORTAL
    ),
    _r("GET", "/api/v1/applications", INTAKE, CENTRE_OPERATOR, REGISTRY_ROLES, PORTAL, SUPERVISOR),
    _r(
        "GET",
        "/api/v1/applications/{application_id}",
        INTAKE,
        CENTRE_OPERATOR,
        REGISTRY_ROLES,
        PORTAL,
        SUPERVISOR,
    ),
    _r(
        "GET",
        "/api/v1/applications/{application_id}/timeline",
        INTAKE,
        CENTRE_OPERATOR,
        REGISTRY_ROLES,
        PORTAL,
        SUPERVISOR,
    ),
    _r("POST", "/api/v1/applications/{application_id}/handover", INTAKE, CENTRE_OPERATOR, REGISTRY_ROLES),
    _r("POST", "/api/v1/applications/{application_id}/return-to-registry", INTAKE, CENTRE_OPERATOR),
    _r("POST", "/api/v1/applications/{application_id}/recall", INTAKE, CENTRE_OPERATOR),
    _r("POST", "/api/v1/applications/{application_id}/recalled", INTAKE, CENTRE_OPERATOR),
    _r("GET", "/api/v1/portal/notifications", INTAKE, PORTAL, SUPERVISOR),
    _r("GET", "/api/v1/services", INTAKE, ALL_ROLES),
    _r("GET", "/api/v1/services/contradictions", INTAKE, ALL_ROLES),
    _r("GET", "/api/v1/services/{service_id}", INTAKE, ALL_ROLES),
    # registry: cases through the office, and the civil-status records they produce
    _r("GET", "/api/v1/worklist", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r("GET", "/api/v1/cases", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r("GET", "/api/v1/cases/{case_id}", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r(
        "POST",
        "/api/v1/cases/{case_id}/chancellery-registration",
        REGISTRY,
        REGISTRY_CHANCELLERY,
        REGISTRY_WORKER,
    ),
    _r("POST", "/api/v1/cases/{case_id}/resolution", REGISTRY, REGISTRY_HEAD),
    _r("POST", "/api/v1/cases/{case_id}/registration", REGISTRY, REGISTRY_EXECUTIVE),
    _r("POST", "/api/v1/cases/{case_id}/signature", REGISTRY, REGISTRY_HEAD),
    _r("POST", "/api/v1/cases/{case_id}/dispatch", REGISTRY, REGISTRY_CHANCELLERY, REGISTRY_EXECUTIVE),
    _r("POST", "/api/v1/cases/{case_id}/refusal", REGISTRY, REGISTRY_EXECUTIVE),
    _r("POST", "/api/v1/cases/{case_id}/extension", REGISTRY, REGISTRY_HEAD, REGISTRY_EXECUTIVE),
    _r("POST", "/api/v1/cases/{case_id}/registration-date", REGISTRY, REGISTRY_EXECUTIVE),
    _r("POST", "/api/v1/cases/{case_id}/third-party-notice", REGISTRY, REGISTRY_EXECUTIVE),
    _r("GET", "/api/v1/records", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r("GET", "/api/v1/records/{record_id}", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r("GET", "/api/v1/records/{record_id}/history", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    # registry: legal deadlines, statistics and the working calendar
    _r("GET", "/api/v1/deadlines", REGISTRY, REGISTRY_ROLES, SUPERVISOR),
    _r("GET", "/api/v1/statistics", REGISTRY, REGISTRY_HEAD, SUPERVISOR),
    _r("GET", "/api/v1/calendar/overrides", REGISTRY, ALL_ROLES),
    _r("POST", "/api/v1/calendar/overrides", REGISTRY, SUPERVISOR),
    _r("DELETE", "/api/v1/calendar/overrides/{country}/{day}", REGISTRY, SUPERVISOR),
    _r("PUT", "/api/v1/sites/{site_id}/schedule-exceptions", REGISTRY, SUPERVISOR),
    _r("GET", "/api/v1/sites/{site_id}/working-days", REGISTRY, ALL_ROLES),
    # notification
    _r("GET", "/api/v1/notifications", NOTIFICATION, SUPERVISOR, CENTRE_OPERATOR),
    # fee
    _r("GET", "/api/v1/fees", FEE, SUPERVISOR, CENTRE_OPERATOR, REGISTRY_ROLES),
)

_PARAM = re.compile(r"\{[^}/]+\}")


def shape(path: str) -> str:
    """The template with parameter names erased, so `/cases/{id}` and `/cases/{case_id}` compare equal."""
    return _PARAM.sub("{}", path)


class RouteTable:
    """Lookups over a table of routes, grouped by path template."""

    def __init__(self, routes: Iterable[Route] = TABLE) -> None:
        self.routes = tuple(routes)
        self._by_shape: dict[tuple[str, str], Route] = {}
        spelling: dict[str, str] = {}
        for route in self.routes:
            # One spelling per shape: two would become two router entries, and a 405 would list half the methods.
            if spelling.setdefault(shape(route.path), route.path) != route.path:
                raise ValueError(
                    f"{route.path} and {spelling[shape(route.path)]} name the same parameters apart"
                )
            key = (route.method, shape(route.path))
            if key in self._by_shape:
                raise ValueError(f"{route.method} {route.path} is in the route table twice")
            self._by_shape[key] = route

    def find(self, method: str, path_template: str) -> Route | None:
        """The route for a method and a path template (as an upstream's OpenAPI names it)."""
        return self._by_shape.get((method.upper(), shape(path_template)))

    def services(self) -> list[str]:
        return sorted({r.service for r in self.routes})

    def by_path(self) -> Iterator[tuple[str, dict[str, Route]]]:
        """Path templates with their routes by method, literal segments before parameters so that a future
        `/cases/overdue` is matched before `/cases/{case_id}`."""
        grouped: dict[str, dict[str, Route]] = {}
        for route in self.routes:
            grouped.setdefault(route.path, {})[route.method] = route

        def order(path: str) -> list[tuple[bool, str]]:
            return [(segment.startswith("{"), segment) for segment in path.split("/")]

        for path in sorted(grouped, key=order):
            yield path, grouped[path]
