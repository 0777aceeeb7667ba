"""Who may do what: the roles, and for every public operation the roles that may call it.

One table, read by both sides so they cannot drift apart (docs/adr/0014-one-policy-table.md): the gateway builds its
route table from it (`gateway.routes`), and every service refuses a role the table does not allow for the matched
route (`btkernel.service` installs the check on each route of its routers). A handler narrows further only where the
answer depends on more than the route — the site a resource belongs to, or the state of a case — and `note` says so.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

# The table's mechanism is the kernel's (generic); the roles and the table are civil registration's.
from btkernel.permissions import PUBLIC_PREFIX as PUBLIC_PREFIX
from btkernel.permissions import Permission as Permission
from btkernel.permissions import Policy as Policy
from btkernel.permissions import shape as shape


class Role(StrEnum):
    """The fixed set of roles (conventions.md, "Identity"). A member equals its value, so `actor.role == Role.X`
    holds for the plain string the identity header carries."""

    CENTRE_OPERATOR = "centre_operator"
    REGISTRY_CHANCELLERY = "registry_chancellery"
    REGISTRY_HEAD = "registry_head"
    REGISTRY_EXECUTIVE = "registry_executive"
    # The worker of the provider registers annulment applications instead of the chancellery (S002/App.10 p.7).
    REGISTRY_WORKER = "registry_worker"
    SUPERVISOR = "supervisor"
    # An API client: the e-government portal, submitting citizens' EDS-signed applications and reading the
    # personal-cabinet notifications (S002 portal processes 7-9). Not bound to a site.
    PORTAL = "portal"


# The roles bound to a registry office: an office's staff.
REGISTRY_ROLES: Final = frozenset(
    {Role.REGISTRY_CHANCELLERY, Role.REGISTRY_HEAD, Role.REGISTRY_EXECUTIVE, Role.REGISTRY_WORKER}
)
ALL_ROLES: Final = frozenset(Role)


def _allow(method: str, path: str, *allowed: Role | frozenset[Role], note: str = "") -> Permission:
    roles: set[Role] = set()
    for item in allowed:
        roles.update({item} if isinstance(item, Role) else item)
    return Permission(method, path, frozenset(roles), note)


# The notes that recur: where the owning service scopes by site (conventions.md: only it knows a resource's site).
_CENTRE_OR_OFFICE = (
    "a centre sees its applications, an office those forwarded to it, the portal its own channel"
)
_OFFICE = "an office sees only its own; the supervisor every office"
# Steps of the case (S002 p.5): the case refuses a step out of order, or a case of another office (404).
_STEP = "the case must be at this step, in the actor's office"
_ASSIGNED = _STEP + "; an executive only on the cases assigned to them"
# Complaints (S004 p.11): a site sees those it received, the portal those sent through it.
_COMPLAINT_SITE = (
    "a site sees the complaints it received, the portal those sent through it; the supervisor all"
)
_COMPLAINT_ANSWER = (
    "an office's complaint by its head (addressed to the head, S004 p.11), a centre's by its operator, the "
    "quality-control body's by the supervisor"
)

# Who works the queue at a site: those who accept applications there (S004 p.8); who goes on home visits.
_QUEUE_STAFF = frozenset({Role.CENTRE_OPERATOR, Role.REGISTRY_CHANCELLERY, Role.REGISTRY_WORKER})
_HOME_VISIT_STAFF = frozenset({Role.CENTRE_OPERATOR, *REGISTRY_ROLES})

TABLE: tuple[Permission, ...] = (
    # intake: applications and the service catalogue
    _allow(
        "POST",
        "/api/v1/applications",
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        Role.REGISTRY_WORKER,
        Role.PORTAL,
        note="the role is the channel (service centre, desk, portal); the catalogue says which service is offered "
        "on it (conventions.md, Channels)",
    ),
    _allow(
        "GET",
        "/api/v1/applications",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_CENTRE_OR_OFFICE,
    ),
    _allow(
        "GET",
        "/api/v1/applications/{application_id}",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_CENTRE_OR_OFFICE,
    ),
    _allow(
        "GET",
        "/api/v1/applications/{application_id}/timeline",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_CENTRE_OR_OFFICE,
    ),
    # Printable documents (ADR 0033): whoever may read the application may print what it got.
    _allow(
        "GET",
        "/api/v1/applications/{application_id}/receipt",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_CENTRE_OR_OFFICE,
    ),
    _allow(
        "GET",
        "/api/v1/applications/{application_id}/registration-mark",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_CENTRE_OR_OFFICE,
    ),
    # Every role, so also no sign-in at all (btkernel.access): the gateway's public /verify/{code} asks it.
    _allow(
        "GET",
        "/api/v1/verify/{code}",
        ALL_ROLES,
        note="public: a printed document's kind, number, date, site and status, no personal data",
    ),
    _allow(
        "POST",
        "/api/v1/applications/{application_id}/handover",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        # At the office the chancellery hands over, the executive at a marriage ceremony (S002/App.2 p.5(7)) and
        # in annulment (S002/App.10 p.5(5)): any of the office's staff may, the case's service says who did.
        note="at the site holding the result: the centre, or the office for desk and portal applications",
    ),
    # The centre's storage of uncollected results (S004 p.9): the centre's business alone.
    _allow(
        "POST",
        "/api/v1/applications/{application_id}/return-to-registry",
        Role.CENTRE_OPERATOR,
        note="own centre",
    ),
    _allow("POST", "/api/v1/applications/{application_id}/recall", Role.CENTRE_OPERATOR, note="own centre"),
    _allow("POST", "/api/v1/applications/{application_id}/recalled", Role.CENTRE_OPERATOR, note="own centre"),
    _allow("GET", "/api/v1/portal/notifications", Role.PORTAL, Role.SUPERVISOR),
    # The queue at the counter (S004 p.8, p.4; ADR 0037): booked through the portal at centres only, worked by the
    # staff who accept applications at the site; the standards for the site's staff and the supervisor.
    _allow(
        "POST",
        "/api/v1/queue/bookings",
        Role.PORTAL,
        note="service centres only; the centre of the residence",
    ),
    _allow("POST", "/api/v1/queue/tickets", _QUEUE_STAFF, note="own site, in its opening hours"),
    _allow(
        "GET", "/api/v1/queue/tickets", _QUEUE_STAFF, Role.SUPERVISOR, note="own site; the supervisor any"
    ),
    _allow(
        "GET",
        "/api/v1/queue/tickets/{ticket_id}",
        _QUEUE_STAFF,
        Role.SUPERVISOR,
        Role.PORTAL,
        note="own site",
    ),
    _allow("POST", "/api/v1/queue/calls", _QUEUE_STAFF, note="own site: the next ticket in the one order"),
    _allow(
        "POST",
        "/api/v1/queue/tickets/{ticket_id}/close",
        _QUEUE_STAFF,
        note="a called ticket of the own site",
    ),
    _allow(
        "GET",
        "/api/v1/queue/standards",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.SUPERVISOR,
        note="a site's staff their own site; the supervisor every site",
    ),
    # Home visits (S004 p.13): requested through 1414 (the e-government's client, or a site's staff or the
    # supervisor entering its referral), assigned by the site, accepted by the assigned worker's application.
    _allow(
        "POST",
        "/api/v1/home-visits",
        Role.PORTAL,
        Role.SUPERVISOR,
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        note="a site's staff for their own site",
    ),
    _allow("GET", "/api/v1/home-visits", _HOME_VISIT_STAFF, Role.SUPERVISOR, note="own site"),
    _allow(
        "GET",
        "/api/v1/home-visits/{visit_id}",
        _HOME_VISIT_STAFF,
        Role.SUPERVISOR,
        Role.PORTAL,
        note="own site; the portal the visits it requested",
    ),
    _allow(
        "POST",
        "/api/v1/home-visits/{visit_id}/assignment",
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        Role.REGISTRY_HEAD,
        Role.SUPERVISOR,
        note="own site, before the visit is accepted",
    ),
    _allow(
        "POST",
        "/api/v1/home-visits/{visit_id}/cancellation",
        _HOME_VISIT_STAFF,
        Role.SUPERVISOR,
        Role.PORTAL,
        note="own site, or the portal's own request, before acceptance",
    ),
    _allow("GET", "/api/v1/services", ALL_ROLES),
    _allow("GET", "/api/v1/services/contradictions", ALL_ROLES),
    _allow("GET", "/api/v1/services/{service_id}", ALL_ROLES),
    _allow("GET", "/api/v1/services/{service_id}/duty", ALL_ROLES),
    # registry: cases through the office, and the civil-status records they produce
    _allow("GET", "/api/v1/worklist", REGISTRY_ROLES, Role.SUPERVISOR, note=_OFFICE),
    _allow("GET", "/api/v1/cases", REGISTRY_ROLES, Role.SUPERVISOR, note=_OFFICE),
    _allow("GET", "/api/v1/cases/{case_id}", REGISTRY_ROLES, Role.SUPERVISOR, note=_OFFICE),
    _allow(
        "POST",
        "/api/v1/cases/{case_id}/chancellery-registration",
        Role.REGISTRY_CHANCELLERY,
        Role.REGISTRY_WORKER,
        note=_STEP + "; the case's service names which: the worker for annulment (S002/App.10 p.7), else the "
        "chancellery",
    ),
    _allow(
        "POST",
        "/api/v1/cases/{case_id}/resolution",
        Role.REGISTRY_HEAD,
        note=_STEP + "; the executive must be an active one of the same office",
    ),
    _allow(
        "POST",
        "/api/v1/cases/{case_id}/registration",
        Role.REGISTRY_EXECUTIVE,
        note=_ASSIGNED,
    ),
    _allow("POST", "/api/v1/cases/{case_id}/signature", Role.REGISTRY_HEAD, note=_STEP),
    _allow(
        "POST",
        "/api/v1/cases/{case_id}/dispatch",
        Role.REGISTRY_CHANCELLERY,
        Role.REGISTRY_EXECUTIVE,
        note=_ASSIGNED + "; the case's service names which issues: the executive in annulment and marriage "
        "(S002/App.10 p.5(5), App.2 p.5(7)), else the chancellery",
    ),
    _allow("POST", "/api/v1/cases/{case_id}/refusal", Role.REGISTRY_EXECUTIVE, note=_ASSIGNED),
    _allow(
        "POST",
        "/api/v1/cases/{case_id}/extension",
        Role.REGISTRY_HEAD,
        Role.REGISTRY_EXECUTIVE,
        note=_ASSIGNED + "; once per case, at most 30 days, with a reason",
    ),
    _allow("POST", "/api/v1/cases/{case_id}/registration-date", Role.REGISTRY_EXECUTIVE, note=_ASSIGNED),
    _allow("POST", "/api/v1/cases/{case_id}/third-party-notice", Role.REGISTRY_EXECUTIVE, note=_ASSIGNED),
    _allow("GET", "/api/v1/records", REGISTRY_ROLES, Role.SUPERVISOR),
    _allow("GET", "/api/v1/records/{record_id}", REGISTRY_ROLES, Role.SUPERVISOR),
    _allow("GET", "/api/v1/records/{record_id}/history", REGISTRY_ROLES, Role.SUPERVISOR),
    # registry: complaints (S004 p.11-12, docs/adr/0035-complaints.md). The complaint says who of these acts: the
    # addressee's staff (office, centre), its head answering for an office; the supervisor for the quality-control
    # body.
    _allow(
        "POST",
        "/api/v1/complaints",
        Role.REGISTRY_CHANCELLERY,
        Role.CENTRE_OPERATOR,
        Role.PORTAL,
        note="handed in at the office's chancellery or at a centre (registered at once), or sent through the portal",
    ),
    _allow(
        "GET",
        "/api/v1/complaints",
        REGISTRY_ROLES,
        Role.CENTRE_OPERATOR,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_COMPLAINT_SITE,
    ),
    _allow(
        "GET",
        "/api/v1/complaints/{complaint_id}",
        REGISTRY_ROLES,
        Role.CENTRE_OPERATOR,
        Role.PORTAL,
        Role.SUPERVISOR,
        note=_COMPLAINT_SITE,
    ),
    _allow(
        "POST",
        "/api/v1/complaints/{complaint_id}/registration",
        Role.REGISTRY_CHANCELLERY,
        Role.CENTRE_OPERATOR,
        Role.SUPERVISOR,
        note="a delivered complaint, by its addressee (the supervisor for the quality-control body)",
    ),
    _allow(
        "POST",
        "/api/v1/complaints/{complaint_id}/marks",
        REGISTRY_ROLES,
        Role.CENTRE_OPERATOR,
        Role.SUPERVISOR,
        note="the addressee's staff, on a registered complaint",
    ),
    _allow(
        "POST",
        "/api/v1/complaints/{complaint_id}/answer",
        Role.REGISTRY_HEAD,
        Role.CENTRE_OPERATOR,
        Role.SUPERVISOR,
        note=_COMPLAINT_ANSWER,
    ),
    _allow(
        "POST",
        "/api/v1/complaints/{complaint_id}/refusal",
        Role.REGISTRY_HEAD,
        Role.CENTRE_OPERATOR,
        Role.SUPERVISOR,
        note=_COMPLAINT_ANSWER,
    ),
    _allow(
        "POST",
        "/api/v1/complaints/{complaint_id}/escalation",
        Role.PORTAL,
        Role.SUPERVISOR,
        note="once, after the answer or the refusal; through the portal it waits for the supervisor's registration",
    ),
    # The audit of personal-data reads (btkernel.history.audit, ADR 0030): who looked at whom is for supervision.
    _allow("GET", "/api/v1/audit/records", Role.SUPERVISOR),
    _allow("GET", "/api/v1/audit/applications", Role.SUPERVISOR),
    _allow("GET", "/api/v1/audit/notifications", Role.SUPERVISOR),
    # registry: legal deadlines, statistics and the working calendar
    _allow(
        "GET",
        "/api/v1/deadlines",
        REGISTRY_ROLES,
        Role.SUPERVISOR,
        # Issue 8: the gateway let the worker through and the registry refused it. The worker is in: registering
        # an annulment application is a step with its own term (15 minutes, S002/App.10 p.5(1), p.7) that the
        # deadline engine tracks with `responsible_role = registry_worker`, so the worker must see it run.
        note=_OFFICE
        + "; the worker is in: its registration step of annulment has a term (S002/App.10 p.5(1))",
    ),
    _allow(
        "GET", "/api/v1/statistics", Role.REGISTRY_HEAD, Role.SUPERVISOR, note="the head: own office only"
    ),
    _allow("GET", "/api/v1/calendar/overrides", ALL_ROLES),
    _allow("POST", "/api/v1/calendar/overrides", Role.SUPERVISOR),
    _allow("DELETE", "/api/v1/calendar/overrides/{country}/{day}", Role.SUPERVISOR),
    _allow("PUT", "/api/v1/sites/{site_id}/schedule-exceptions", Role.SUPERVISOR),
    _allow("GET", "/api/v1/sites", ALL_ROLES, note="reference data: names of offices and centres"),
    _allow("GET", "/api/v1/sites/{site_id}/working-days", ALL_ROLES),
    # notification
    _allow(
        "GET",
        "/api/v1/notifications",
        Role.SUPERVISOR,
        Role.CENTRE_OPERATOR,
        note="an operator sees those of its centre's applications",
    ),
    # fee
    _allow(
        "GET",
        "/api/v1/fees",
        Role.SUPERVISOR,
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        Role.REGISTRY_HEAD,
        Role.REGISTRY_EXECUTIVE,
        # Issue 8: the gateway let the worker through and the fee service refused it. The worker stays out: it
        # registers annulment only (S002/App.10 p.7), and annulment has no fee clause (S002/App.10; services.md
        # §4), so no fee decision is ever its business.
        note="a centre sees its applications', an office those forwarded to it; not the worker, whose annulment "
        "has no fee (S002/App.10)",
    ),
    # State duty payments (ADR 0034): created where applications are accepted in person, read by their site; the
    # portal pays for the applications it submitted (its own channel only).
    _allow(
        "POST",
        "/api/v1/duty/payments",
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        Role.PORTAL,
        note="own site; the portal for an application submitted through it",
    ),
    _allow(
        "GET",
        "/api/v1/duty/payments/{payment_id}",
        Role.CENTRE_OPERATOR,
        REGISTRY_ROLES,
        Role.SUPERVISOR,
        Role.PORTAL,
        note="own site or its registry office; the portal the payments it made",
    ),
    _allow(
        "POST",
        "/api/v1/duty/payments/{payment_id}/status-query",
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        Role.SUPERVISOR,
        note="own site",
    ),
    _allow(
        "POST",
        "/api/v1/duty/bank-payments",
        Role.CENTRE_OPERATOR,
        Role.REGISTRY_CHANCELLERY,
        note="after acceptance, for an application of the own site",
    ),
    # Reconciliation of bank statements: the supervisor's, across offices.
    _allow("POST", "/api/v1/duty/statements", Role.SUPERVISOR),
    _allow("GET", "/api/v1/duty/reconciliation", Role.SUPERVISOR),
)

POLICY: Final = Policy(TABLE, everyone=ALL_ROLES)
