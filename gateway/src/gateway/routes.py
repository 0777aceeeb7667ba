"""The route table: which upstream service owns each public operation, with the roles the policy table
(civreg.policy) lets call it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from civreg.policy import POLICY, Policy, shape

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


# Which service owns each public path. Who may call each method on it is the policy table's (civreg.policy),
# which the owning service enforces too; adding an operation is a line there, and a line here for a new path.
OWNERS: tuple[tuple[str, str], ...] = (
    # intake: applications at service centres, desks and the portal; the service catalogue
    ("/api/v1/applications", INTAKE),
    ("/api/v1/applications/{application_id}", INTAKE),
    ("/api/v1/applications/{application_id}/timeline", INTAKE),
    ("/api/v1/applications/{application_id}/receipt", INTAKE),
    ("/api/v1/applications/{application_id}/registration-mark", INTAKE),
    ("/api/v1/verify/{code}", INTAKE),
    ("/api/v1/applications/{application_id}/handover", INTAKE),
    ("/api/v1/applications/{application_id}/return-to-registry", INTAKE),
    ("/api/v1/applications/{application_id}/recall", INTAKE),
    ("/api/v1/applications/{application_id}/recalled", INTAKE),
    ("/api/v1/portal/notifications", INTAKE),
    ("/api/v1/services", INTAKE),
    ("/api/v1/services/contradictions", INTAKE),
    ("/api/v1/services/{service_id}", INTAKE),
    ("/api/v1/services/{service_id}/duty", INTAKE),
    # intake: the queue at the counter and home visits (S004 p.4, p.8, p.13; ADR 0037)
    ("/api/v1/queue/bookings", INTAKE),
    ("/api/v1/queue/tickets", INTAKE),
    ("/api/v1/queue/tickets/{ticket_id}", INTAKE),
    ("/api/v1/queue/calls", INTAKE),
    ("/api/v1/queue/tickets/{ticket_id}/close", INTAKE),
    ("/api/v1/queue/standards", INTAKE),
    ("/api/v1/home-visits", INTAKE),
    ("/api/v1/home-visits/{visit_id}", INTAKE),
    ("/api/v1/home-visits/{visit_id}/assignment", INTAKE),
    ("/api/v1/home-visits/{visit_id}/cancellation", INTAKE),
    # registry: cases through the office, and the civil-status records they produce
    ("/api/v1/worklist", REGISTRY),
    ("/api/v1/cases", REGISTRY),
    ("/api/v1/cases/{case_id}", REGISTRY),
    ("/api/v1/cases/{case_id}/chancellery-registration", REGISTRY),
    ("/api/v1/cases/{case_id}/resolution", REGISTRY),
    ("/api/v1/cases/{case_id}/registration", REGISTRY),
    ("/api/v1/cases/{case_id}/signature", REGISTRY),
    ("/api/v1/cases/{case_id}/dispatch", REGISTRY),
    ("/api/v1/cases/{case_id}/refusal", REGISTRY),
    ("/api/v1/cases/{case_id}/extension", REGISTRY),
    ("/api/v1/cases/{case_id}/registration-date", REGISTRY),
    ("/api/v1/cases/{case_id}/third-party-notice", REGISTRY),
    ("/api/v1/records", REGISTRY),
    ("/api/v1/records/{record_id}", REGISTRY),
    ("/api/v1/records/{record_id}/history", REGISTRY),
    # registry: complaints on a service (S004 p.11-12), beside the deadline engine that keeps their terms
    ("/api/v1/complaints", REGISTRY),
    ("/api/v1/complaints/{complaint_id}", REGISTRY),
    ("/api/v1/complaints/{complaint_id}/registration", REGISTRY),
    ("/api/v1/complaints/{complaint_id}/marks", REGISTRY),
    ("/api/v1/complaints/{complaint_id}/answer", REGISTRY),
    ("/api/v1/complaints/{complaint_id}/refusal", REGISTRY),
    ("/api/v1/complaints/{complaint_id}/escalation", REGISTRY),
    # the audit of personal-data reads, each service its own (ADR 0030)
    ("/api/v1/audit/records", REGISTRY),
    ("/api/v1/audit/applications", INTAKE),
    ("/api/v1/audit/notifications", NOTIFICATION),
    # registry: legal deadlines, statistics and the working calendar
    ("/api/v1/deadlines", REGISTRY),
    ("/api/v1/statistics", REGISTRY),
    ("/api/v1/calendar/overrides", REGISTRY),
    ("/api/v1/calendar/overrides/{country}/{day}", REGISTRY),
    ("/api/v1/sites", REGISTRY),
    ("/api/v1/sites/{site_id}/schedule-exceptions", REGISTRY),
    ("/api/v1/sites/{site_id}/working-days", REGISTRY),
    # notification
    ("/api/v1/notifications", NOTIFICATION),
    # fee
    ("/api/v1/fees", FEE),
    ("/api/v1/duty/payments", FEE),
    ("/api/v1/duty/payments/{payment_id}", FEE),
    ("/api/v1/duty/payments/{payment_id}/status-query", FEE),
    ("/api/v1/duty/bank-payments", FEE),
    ("/api/v1/duty/statements", FEE),
    ("/api/v1/duty/reconciliation", FEE),
)


def from_policy(owners: Iterable[tuple[str, str]] = OWNERS, policy: Policy = POLICY) -> tuple[Route, ...]:
    """Every operation of the policy table, routed to the owner of its path. A path without an owner, or an owner
    of a path the table has no operation on, is refused here, when the gateway is built."""
    owner_of: dict[str, tuple[str, str]] = {}
    for path, service in owners:
        if shape(path) in owner_of:
            raise ValueError(f"{path} has two owners")
        owner_of[shape(path)] = (path, service)
    routes = []
    for permission in policy.permissions:
        owned = owner_of.get(shape(permission.path))
        if owned is None:
            raise ValueError(
                f"{permission.method} {permission.path} is in the policy table but no service owns it"
            )
        if owned[0] != permission.path:
            raise ValueError(f"{owned[0]} and {permission.path} name the same parameters apart")
        routes.append(
            Route(permission.method, owned[0], owned[1], frozenset(str(r) for r in permission.roles))
        )
    unused = set(owner_of) - {shape(p.path) for p in policy.permissions}
    if unused:
        raise ValueError(f"no operation on {sorted(owner_of[u][0] for u in unused)} in the policy table")
    return tuple(routes)


TABLE: tuple[Route, ...] = from_policy()


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
