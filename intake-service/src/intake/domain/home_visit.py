"""Home visits (S004 p.13): a person who has fully or partly lost the ability to look after themselves, move or
orient themselves has the documents accepted at their place of residence by the provider's or the centre's
worker, on a request made through the unified contact centre 1414.

requested ──assign──► assigned ──accept (the application, at home)──► accepted
    │                    │ └──assign again (another worker)──► assigned
    └──────cancel────────┴──► cancelled

Pure: the moments and who acts come in from the use cases (`intake.app.home_visits`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from btkernel.errors import Conflict, Forbidden

REQUESTED = "requested"
ASSIGNED = "assigned"
ACCEPTED = "accepted"
CANCELLED = "cancelled"
STATUSES = (REQUESTED, ASSIGNED, ACCEPTED, CANCELLED)
# The reasons S004 p.13 names.
REASONS = ("self_care", "mobility", "orientation")


@dataclass(frozen=True)
class HomeVisit:
    visit_id: str
    site_id: str
    status: str
    contact_centre_ref: str  # the 1414 request's number
    applicant_name: str
    applicant_iin: str | None
    phone: str
    address: str
    reason: str
    service_id: str
    requested_at: dt.datetime
    requested_by: str
    worker_id: str | None = None
    assigned_at: dt.datetime | None = None
    assigned_by: str | None = None
    accepted_at: dt.datetime | None = None
    application_id: str | None = None
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None

    def assign(self, worker_id: str, by: str, at: dt.datetime) -> HomeVisit:
        """To a worker of the site; again to another while not yet accepted."""
        if self.status not in (REQUESTED, ASSIGNED):
            raise Conflict(
                f"the home visit is {self.status}: it can no longer be assigned", code="visit_closed"
            )
        return replace(self, status=ASSIGNED, worker_id=worker_id, assigned_at=at, assigned_by=by)

    def accept(self, worker_id: str, application_id: str, at: dt.datetime) -> HomeVisit:
        """The assigned worker accepts the documents at home: the application they submit closes the visit."""
        if self.status != ASSIGNED:
            raise Conflict(
                f"the home visit is {self.status}: only an assigned visit is accepted",
                field="body.home_visit_id",
                code="visit_not_assigned",
            )
        if worker_id != self.worker_id:
            raise Forbidden(
                "only the worker assigned to the home visit accepts the documents", field="body.home_visit_id"
            )
        return replace(self, status=ACCEPTED, accepted_at=at, application_id=application_id)

    def cancel(self, reason: str, at: dt.datetime) -> HomeVisit:
        if self.status not in (REQUESTED, ASSIGNED):
            raise Conflict(f"the home visit is {self.status}: it cannot be cancelled", code="visit_closed")
        return replace(self, status=CANCELLED, cancelled_at=at, cancel_reason=reason)
