"""Events of a case decided by a partner agency (ADR 0040), on the case's own stream (topic civreg.case, subject =
case id): the registry keeps the case so that its term, deadlines and statistics are every other case's."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from btkernel.events.base import Event
from civreg import topics


class _AgencyCaseEvent(Event):
    TOPIC: ClassVar[str] = topics.CASE
    case_id: str


class CaseSentToAgency(_AgencyCaseEvent):
    """The accepted application went to the deciding agency: `request` is the data of its signed request, only the
    facts its contract grants (civreg.partners.agency_services)."""

    TYPE: ClassVar[str] = "kz.civreg.case.sent-to-agency.v1"
    application_id: str
    agency: str
    sent_at: dt.datetime
    request: dict[str, Any]


class AgencyAnswered(_AgencyCaseEvent):
    """The agency answered: accepted, decided, paid, or refused with its reason."""

    TYPE: ClassVar[str] = "kz.civreg.case.agency-answered.v1"
    application_id: str
    agency: str
    answer_id: str
    kind: str
    answered_at: dt.datetime
    received_at: dt.datetime
    reason: str | None = None
    decision_number: str | None = None
