"""Projects case events into running deadlines: the review term, each procedure step, the pilot's total.

A consumer of the registry's own `civreg.case` topic (group `registry.deadlines`), so the case workflow knows
nothing of deadlines and they can be rebuilt from the topic.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel import catalogue, clock, pilots, sites
from btkernel.calendar import ALMATY
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.events import Event, parse
from btkernel.events.case import (
    ActRegistered,
    CaseOpened,
    CaseRegisteredInChancellery,
    RefusalPrepared,
    RegistrationDateAssigned,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
    ReviewExtended,
    ThirdPartyNotified,
)
from btkernel.events.notification import NotificationDelivered
from btkernel.terms import variant_of
from registry.deadlines import terms

# How much of a term has run when it counts as approaching (configuration, not a rule of the sources).
APPROACHING_SHARE = 0.8
# The Astana pilot (S000): birth and death registered within 3 working hours end to end at pilot centres; the
# same term dates the receipt (btkernel.pilots).
PILOT_TERM = pilots.ACCELERATED_TERM.term()
# Case events that complete procedure steps; which step each completes depends on the service's steps in the
# catalogue (birth has six, marriage seven, annulment five), see `_completed_up_to`.
STEP_EVENTS: tuple[type[Event], ...] = (
    CaseRegisteredInChancellery,
    ResolutionImposed,
    RegistrationDateAssigned,
    ActRegistered,
    RefusalPrepared,
    ResultSigned,
    ResultSentToCentre,
)

HANDLED_TYPES = [
    CaseOpened.TYPE,
    ReviewExtended.TYPE,
    ThirdPartyNotified.TYPE,
    *(t.TYPE for t in STEP_EVENTS),
]
# The notice of an extension is owed to the applicant (S002 §2.2): it is given when the mail is delivered.
NOTICE_TEMPLATE = "review_extended"
NOTIFICATION_TYPES = [NotificationDelivered.TYPE]
EXTENSION_NOTICE_TERM = {
    "value": 3,
    "unit": "calendar_days",
    "acceptance_day_counted": None,
    "source": "S002 §2.2: the applicant is notified within 3 calendar days of the extension",
}


def _approaching(start: dt.datetime, due_at: dt.datetime) -> dt.datetime:
    return start + (due_at - start) * APPROACHING_SHARE


async def _open(
    conn: asyncpg.Connection,
    case: dict[str, Any],
    *,
    kind: str,
    description: str,
    term: dict[str, Any],
    site_id: str,
    start: dt.datetime,
    due_at: dt.datetime,
    role: str,
    responsible_id: str | None,
    now: dt.datetime,
) -> None:
    await conn.execute(
        "INSERT INTO deadlines (deadline_id, case_id, application_id, registry_office_id, service_id, kind,"
        " description, term, site_id, started_at, due_at, approaching_at, responsible_role, responsible_id,"
        " updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
        " ON CONFLICT (deadline_id) DO NOTHING",
        f"{case['case_id']}:{kind}",
        case["case_id"],
        case["application_id"],
        case["registry_office_id"],
        case["service_id"],
        kind,
        description,
        term,
        site_id,
        start,
        due_at,
        _approaching(start, due_at),
        role,
        responsible_id,
        now,
    )


async def _close(
    conn: asyncpg.Connection, case_id: str, kinds: list[str], at: dt.datetime, status: str | None = None
) -> None:
    """Close running deadlines: met or met late by the due moment, or with `status` (e.g. not_required)."""
    await conn.execute(
        "UPDATE deadlines SET status = COALESCE($4, CASE WHEN $3 <= due_at THEN 'met' ELSE 'met_late' END),"
        " completed_at = $3, updated_at = $3 WHERE case_id = $1 AND kind = ANY($2::text[]) AND status = 'running'",
        case_id,
        kinds,
        at,
        status,
    )


def _step_term(step: catalogue.Step) -> dict[str, Any] | None:
    if step.max == "review_term":
        return None
    return {
        "value": step.max.value,
        "unit": step.max.unit,
        "acceptance_day_counted": None,
        "source": step.source,
    }


async def _open_step(
    conn: asyncpg.Connection,
    site_clock: terms.SiteClock,
    case: dict[str, Any],
    order: int,
    start: dt.datetime,
    now: dt.datetime,
    execution_due_at: dt.datetime | None = None,
    executive_id: str | None = None,
) -> None:
    service = catalogue.load().get(case["service_id"], on=case["submitted_at"].astimezone(ALMATY).date())
    if service is None:
        return
    step = next((s for s in service.steps if s.order == order), None)
    if step is None:
        return
    term = _step_term(step)
    if term is None:
        # The executive's review runs to the review term as it stands now (a decree may have moved it since the
        # head's resolution named its execution deadline).
        current = await conn.fetchval(
            "SELECT due_at FROM deadlines WHERE case_id = $1 AND kind IN ('review', 'review:extended')"
            " AND status = 'running' ORDER BY kind DESC LIMIT 1",
            case["case_id"],
        )
        due_at = current or execution_due_at or case["review_due_at"]
        term = {"value": 0, "unit": "resolution", "acceptance_day_counted": None, "source": step.source}
    else:
        due_at = site_clock.due(start, term, case["registry_office_id"])
    responsible = executive_id if step.role == "registry_executive" else None
    await _open(
        conn,
        case,
        kind=f"step:{order}",
        description=step.action,
        term=term,
        site_id=case["registry_office_id"],
        start=start,
        due_at=due_at,
        role=step.role,
        responsible_id=responsible,
        now=now,
    )


async def on_case_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    now = clock.now()
    case_id = envelope.subject
    if isinstance(event, CaseOpened):
        await _on_opened(conn, event, now)
        return
    if isinstance(event, ReviewExtended):
        await _on_extended(conn, event, envelope.time, now)
        return
    if isinstance(event, ThirdPartyNotified):
        await _close(conn, case_id, ["third_party_notice"], event.notified_at)
        return
    if not isinstance(event, STEP_EVENTS):
        return
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    if row is None:
        raise LookupError(f"case {case_id} not in the read model yet")
    # The editions of the catalogue are chosen by the application's date, kept in the case's first event.
    submitted_at = await conn.fetchval(
        "SELECT (data->>'submitted_at')::timestamptz FROM events WHERE stream_id = $1 AND version = 1",
        case_id,
    )
    case = {**dict(row), "submitted_at": submitted_at}
    service = catalogue.load().get(case["service_id"], on=submitted_at.astimezone(ALMATY).date())
    if service is None:
        raise LookupError(f"service {case['service_id']} not in the catalogue on {submitted_at}")
    at = envelope.time
    order = _completed_up_to(service, event)
    await _close(conn, case_id, [f"step:{n}" for n in range(1, order + 1)], at)
    site_clock = await terms.load(conn)
    if isinstance(event, ResolutionImposed):
        await _open_step(
            conn,
            site_clock,
            case,
            order + 1,
            at,
            now,
            execution_due_at=event.execution_due_at,
            executive_id=event.executive_id,
        )
        # A re-assignment moves the running review step to the new executive.
        await conn.execute(
            "UPDATE deadlines SET responsible_id = $2 WHERE case_id = $1 AND kind LIKE 'step:%'"
            " AND responsible_role = 'registry_executive' AND status = 'running'",
            case_id,
            event.executive_id,
        )
    elif isinstance(event, RegistrationDateAssigned):
        # The review ended with a date agreed with the couple (S002/App.2 p.5(3)-(4)): the review term is met, and
        # forming the record runs from the opening of the assigned day, not from now.
        await _close(conn, case_id, ["review", "review:extended"], at)
        day_start = dt.datetime.combine(event.registration_on, dt.time(0, 0), tzinfo=ALMATY)
        await _open_step(
            conn, site_clock, case, order + 1, max(at, day_start), now, executive_id=case.get("executive_id")
        )
    elif isinstance(event, ResultSentToCentre):
        await _close(conn, case_id, ["review", "review:extended", "pilot_total"], at)
        # A refused divorce needs no notice to the third party any more.
        await _close(conn, case_id, ["third_party_notice"], at, status="not_required")
    else:
        if isinstance(event, RefusalPrepared):
            await _close(conn, case_id, ["third_party_notice"], at, status="not_required")
        await _open_step(conn, site_clock, case, order + 1, at, now, executive_id=case.get("executive_id"))


def _completed_up_to(service: catalogue.StateService, event: Event) -> int:
    """The last procedure step (S002 p.5 order) an event completes, read from the service's own steps: the
    chancellery's registration is step 1 and the head's resolution step 2 everywhere; the date assignment
    follows the review; the act (or the refusal) ends the executive's work before the head's last signature;
    the signature is the head's last step; the result sent is the last step of all."""
    orders = [s.order for s in service.steps]
    review = next((s.order for s in service.steps if s.max == "review_term"), 3)
    signature = max((s.order for s in service.steps if s.role == "registry_head"), default=max(orders))
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


async def _on_opened(conn: asyncpg.Connection, e: CaseOpened, now: dt.datetime) -> None:
    case = {
        "case_id": e.case_id,
        "application_id": e.application_id,
        "registry_office_id": e.registry_office_id,
        "service_id": e.service_id,
        "submitted_at": e.submitted_at,
        "review_due_at": e.review_due_at,
    }
    term = {
        "value": e.review_term.value,
        "unit": e.review_term.unit,
        "acceptance_day_counted": None,
        "source": e.review_term.source,
    }
    await _open(
        conn,
        case,
        kind="review",
        description="the provider's term: the result at the centre",
        term=term,
        site_id=e.registry_office_id,
        start=e.submitted_at,
        due_at=e.review_due_at,
        role="registry_head",
        responsible_id=None,
        now=now,
    )
    site_clock = await terms.load(conn)
    await _open_step(conn, site_clock, case, 1, e.opened_at, now)
    await _open_third_party_notice(conn, case, e, site_clock, now)
    centre = sites.load().centre(e.centre_id)
    if pilots.accelerated(centre, e.service_id, e.details.get("variant")):
        due_at = site_clock.due(e.submitted_at, PILOT_TERM, e.centre_id)
        await _open(
            conn,
            case,
            kind="pilot_total",
            description="accelerated pilot: registered within 3 working hours end to end",
            term=PILOT_TERM,
            site_id=e.centre_id,
            start=e.submitted_at,
            due_at=due_at,
            role="registry_head",
            responsible_id=None,
            now=now,
        )


async def _on_extended(
    conn: asyncpg.Connection, e: ReviewExtended, at: dt.datetime, now: dt.datetime
) -> None:
    """The review term runs on to the new due moment as a deadline of its own (each deadline's warnings are sent
    once: the original one is superseded, not moved), the executive's step follows it, and the notice to the
    applicant becomes an obligation with its own term (S002 §2.2)."""
    row = await conn.fetchrow("SELECT * FROM deadlines WHERE case_id = $1 AND kind = 'review'", e.case_id)
    if row is None:
        raise LookupError(f"case {e.case_id} has no review deadline yet")
    case = {k: row[k] for k in ("case_id", "application_id", "registry_office_id", "service_id")}
    await conn.execute(
        "UPDATE deadlines SET status = 'superseded', completed_at = $2, updated_at = $2"
        " WHERE deadline_id = $1 AND status = 'running'",
        row["deadline_id"],
        at,
    )
    term = {
        **row["term"],
        "source": f"{row['term']['source']}; extended by {e.days} calendar days (S002 §2.2)",
    }
    await _open(
        conn,
        case,
        kind="review:extended",
        description=f"the extended term: {e.reason}",
        term=term,
        site_id=row["site_id"],
        start=row["started_at"],
        due_at=e.review_due_at,
        role="registry_head",
        responsible_id=None,
        now=now,
    )
    await conn.execute(
        "UPDATE deadlines SET extension_days = $2 WHERE deadline_id = $1",
        f"{e.case_id}:review:extended",
        e.days,
    )
    await conn.execute(
        "UPDATE deadlines SET due_at = $2, approaching_at = started_at + ($2 - started_at) * $3,"
        " updated_at = $4 WHERE case_id = $1 AND kind = 'step:3' AND status = 'running'",
        e.case_id,
        e.review_due_at,
        APPROACHING_SHARE,
        now,
    )
    await _open(
        conn,
        case,
        kind="extension_notice",
        description="tell the applicant of the extension",
        term=EXTENSION_NOTICE_TERM,
        site_id=row["registry_office_id"],
        start=at,
        due_at=e.applicant_notice_due_at,
        role="registry_executive",
        responsible_id=None,
        now=now,
    )


async def on_notification_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    """The applicant was told of the extension: that obligation is met when the mail was delivered."""
    event = parse(envelope.type, envelope.data)
    if isinstance(event, NotificationDelivered) and event.template == NOTICE_TEMPLATE:
        await conn.execute(
            "UPDATE deadlines SET status = CASE WHEN $2 <= due_at THEN 'met' ELSE 'met_late' END, completed_at = $2,"
            " updated_at = $2 WHERE application_id = $1 AND kind = 'extension_notice' AND status = 'running'",
            event.application_id,
            event.delivered_at,
        )


async def _open_third_party_notice(
    conn: asyncpg.Connection,
    case: dict[str, Any],
    e: CaseOpened,
    site_clock: terms.SiteClock,
    now: dt.datetime,
) -> None:
    """Divorce on a court decision on a missing or incapacitated spouse or a prison sentence: the other party is
    told within one week of the application's receipt (S002/App.9 p.5(4))."""
    service = catalogue.load().get(e.service_id, on=e.submitted_at.astimezone(ALMATY).date())
    notice = service.third_party_notice if service else None
    if service is None or notice is None or variant_of(service, e.details) not in notice.variants:
        return
    term = {
        "value": notice.value,
        "unit": notice.unit,
        "acceptance_day_counted": None,
        "source": notice.source,
    }
    await _open(
        conn,
        case,
        kind="third_party_notice",
        description="notify the third party of the divorce",
        term=term,
        site_id=e.registry_office_id,
        start=e.opened_at,
        due_at=site_clock.due(e.opened_at, term, e.registry_office_id),
        role="registry_executive",
        responsible_id=None,
        now=now,
    )
