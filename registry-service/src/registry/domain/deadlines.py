"""The rules of legal deadlines: which procedure step an event completes, what term each step runs on, when a term
counts as approaching, and how much of it is left. Pure: the projector (registry.app.deadline_projector) applies
them to the deadline rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from civreg import catalogue, pilots
from civreg.events import Event
from civreg.events.case import (
    ActRegistered,
    CaseRegisteredInChancellery,
    RefusalPrepared,
    RegistrationDateAssigned,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
)
from civreg.policy import Role
from registry.domain.site_clock import SiteClock
from workcal import working_time_left

# How much of a term has run when it counts as approaching (configuration, not a rule of the sources).
APPROACHING_SHARE = 0.8
# The Astana pilot (S000): birth and death registered within 3 working hours end to end at pilot centres; the
# same term dates the receipt (civreg.pilots).
PILOT_TERM = pilots.ACCELERATED_TERM.term()
# Case events that complete procedure steps; which step each completes depends on the service's steps in the
# catalogue (birth has six, marriage seven, annulment five), see `completed_up_to`.
STEP_EVENTS: tuple[type[Event], ...] = (
    CaseRegisteredInChancellery,
    ResolutionImposed,
    RegistrationDateAssigned,
    ActRegistered,
    RefusalPrepared,
    ResultSigned,
    ResultSentToCentre,
)
# The review term, and the one an extension replaces it with.
REVIEW_KINDS = ["review", "review:extended"]
# The notice of an extension is owed to the applicant (S002 §2.2): it is given when the mail is delivered.
NOTICE_TEMPLATE = "review_extended"
EXTENSION_NOTICE_TERM = {
    "value": 3,
    "unit": "calendar_days",
    "acceptance_day_counted": None,
    "source": "S002 §2.2: the applicant is notified within 3 calendar days of the extension",
}
# Terms counted without the working calendar, or fixed by a person (the head's resolution), are left alone when
# the calendar changes.
RECOMPUTED_UNITS = ("minutes", "hours", "working_hours", "working_days")
# The unit of a step that runs to the review term as the head's resolution set it.
RESOLUTION_UNIT = "resolution"


def deadline_id(case_id: str, kind: str) -> str:
    """One deadline of each kind per case: projecting an event twice opens nothing twice."""
    return f"{case_id}:{kind}"


def approaching_at(start: dt.datetime, due_at: dt.datetime) -> dt.datetime:
    return start + (due_at - start) * APPROACHING_SHARE


def step_term(step: catalogue.Step) -> dict[str, Any] | None:
    """The step's own maximum duration; none when it runs to the review term (the executive's review)."""
    if step.max == "review_term":
        return None
    return {
        "value": step.max.value,
        "unit": step.max.unit,
        "acceptance_day_counted": None,
        "source": step.source,
    }


def completed_up_to(service: catalogue.StateService, event: Event) -> int:
    """The last procedure step (S002 p.5 order) an event completes, read from the service's own steps: the
    chancellery's registration is step 1 and the head's resolution step 2 everywhere; the date assignment
    follows the review; the act (or the refusal) ends the executive's work before the head's last signature;
    the signature is the head's last step; the result sent is the last step of all."""
    orders = [s.order for s in service.steps]
    review = next((s.order for s in service.steps if s.max == "review_term"), 3)
    signature = max((s.order for s in service.steps if s.role == Role.REGISTRY_HEAD), default=max(orders))
    if isinstance(event, CaseRegisteredInChancellery):
        return 1
    if isinstance(event, ResolutionImposed):
        return 2
    if isinstance(event, RegistrationDateAssigned):
        return review + 1
    if isinstance(event, (ActRegistered, RefusalPrepared)):
        return signature - 1
    if isinstance(event, ResultSigned):
        return signature
    return max(orders)


def third_party_notice_term(notice: catalogue.ThirdPartyNotice) -> dict[str, Any]:
    """Divorce on a court decision on a missing or incapacitated spouse or a prison sentence: the other party is
    told within one week of the application's receipt (S002/App.9 p.5(4))."""
    return {
        "value": notice.value,
        "unit": notice.unit,
        "acceptance_day_counted": None,
        "source": notice.source,
    }


def time_left(deadline: Mapping[str, Any], now: dt.datetime, site_clock: SiteClock) -> dict[str, Any]:
    """What a registrar sees of a deadline's time: seconds left (negative when late), the part of it inside the
    site's working hours, and whether it is overdue (met late, or running past its due moment)."""
    end = deadline["completed_at"] or now
    schedule, _ = site_clock.schedule(deadline["site_id"])
    left = working_time_left(end, deadline["due_at"], schedule, site_clock.calendar_of(deadline["site_id"]))
    return {
        "seconds_left": int((deadline["due_at"] - end).total_seconds()),
        "working_seconds_left": int(left.total_seconds()),
        "overdue": deadline["status"] == "met_late"
        or (deadline["status"] == "running" and deadline["due_at"] < now),
    }
