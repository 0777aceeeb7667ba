"""The queue at the counter (S004 p.8, p.4): tickets, the order they are called in, bookings and the standards.

* A service centre keeps an **electronic queue by the applicant's place of residence, without accelerated
  service; a place in it may be booked through the portal** (S004 p.8(2)). A registry office keeps a **live queue,
  without booking and without accelerated service** (S004 p.8(1)).
* "No accelerated service" is one rule for both: a ticket is called in the order of the moment it became
  entitled to be served — a walk-in ticket when it was issued, a booked ticket at the start of its slot — ties
  going to the booking, then the ticket number. No kind of applicant or ticket jumps that order, and a ticket is
  never called before its moment (a booking is not a pass to the front: it is a place at a time).
* The standards (S004 p.4(2)-(3)): waiting to hand in documents at most 15 minutes at a centre and 20 at an office
  (from the ticket's moment to its call), service at the counter at most 15 and 20 minutes (from the call to the
  application it produced, or to the ticket's closing).

Pure: no clock and no I/O; the moments come in from the use cases (`intake.app.queue`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from btkernel.errors import Conflict, InvalidInput, RuleViolation

CENTRE = "service_centre"
OFFICE = "registry_office"
SITE_KINDS = (CENTRE, OFFICE)

BOOKED = "booked"
WALK_IN = "walk_in"

WAITING = "waiting"
CALLED = "called"
SERVED = "served"  # the call produced an application (receipt or refusal receipt)
CLOSED = "closed"  # finished without one
CANCELLED = "cancelled"  # a booking withdrawn before its slot
TICKET_STATUSES = (WAITING, CALLED, SERVED, CLOSED, CANCELLED)

# Why a call ended without an application. A no-show is not service: it counts for waiting, not service time.
NO_SHOW = "no_show"
CLOSE_REASONS = (NO_SHOW, "consultation", "left", "other")


@dataclass(frozen=True)
class Standard:
    """The maximum waiting and service time at one kind of site (S004 p.4(2)-(3))."""

    waiting: dt.timedelta
    service: dt.timedelta


STANDARDS = {
    CENTRE: Standard(waiting=dt.timedelta(minutes=15), service=dt.timedelta(minutes=15)),
    OFFICE: Standard(waiting=dt.timedelta(minutes=20), service=dt.timedelta(minutes=20)),
}

# A slot lasts what one applicant's service may last at a centre (S004 p.4(3)); each counter serves one booking a
# slot. Counters per centre are not in the sources: development configuration, the same for every centre.
SLOT = dt.timedelta(minutes=15)
COUNTERS_PER_CENTRE = 2
# How far ahead the portal may book: not in the sources; bounded so that nobody reserves the year.
BOOKING_HORIZON = dt.timedelta(days=30)

Hours = Sequence[tuple[dt.datetime, dt.datetime]]


def booking_allowed(site_kind: str) -> None:
    """Booking through the portal exists only at service centres (S004 p.8(1) "без предварительной записи")."""
    if site_kind != CENTRE:
        raise RuleViolation(
            "a registry office keeps a live queue without booking (S004 p.8(1)); book at a service centre",
            field="body.site_id",
            code="no_booking_at_registry_office",
        )


def check_ahead(slot_start: dt.datetime, now: dt.datetime) -> None:
    """A slot starts on the quarter hour, ahead of now and within the horizon (checked before any calendar
    arithmetic on it, so no date at the ends of the calendar reaches one)."""
    field = "body.slot_start"
    if slot_start.second or slot_start.microsecond or slot_start.minute % int(SLOT.total_seconds() // 60):
        raise InvalidInput("a slot starts on the quarter hour (09:00, 09:15, …)", field=field)
    if slot_start <= now:
        raise InvalidInput("the slot has already begun; book one ahead", field=field)
    if slot_start - now > BOOKING_HORIZON:
        raise InvalidInput(f"book at most {BOOKING_HORIZON.days} days ahead", field=field)


def check_slot(slot_start: dt.datetime, open_hours: Hours, booked: int) -> None:
    """A slot may be booked when it falls wholly within the centre's opening hours that day (Mon–Sat
    09:00–20:00, S004 p.8(2)) and a counter is still free in it."""
    field = "body.slot_start"
    if not any(start <= slot_start and slot_start + SLOT <= end for start, end in open_hours):
        raise InvalidInput(
            "outside the centre's hours: Monday to Saturday 09:00–20:00 on working days (S004 p.8(2))",
            field=field,
        )
    if booked >= COUNTERS_PER_CENTRE:
        raise Conflict(
            f"all {COUNTERS_PER_CENTRE} counters are booked at this time; choose another slot",
            field=field,
            code="slot_full",
        )


def check_open(now: dt.datetime, open_hours: Hours) -> None:
    """Tickets are issued and called while the site is open (S004 p.8)."""
    if not any(start <= now < end for start, end in open_hours):
        raise RuleViolation("the site is closed now: the queue runs in its opening hours", code="site_closed")


@dataclass(frozen=True)
class Ticket:
    """A place in one site's queue on one day, and what became of it."""

    ticket_id: str
    site_id: str
    site_kind: str
    day: dt.date
    number: str
    kind: str
    due_at: (
        dt.datetime
    )  # the moment it is entitled to be served: issue (walk-in) or the slot's start (booking)
    issued_at: dt.datetime
    status: str = WAITING
    counter: str | None = None
    called_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    application_id: str | None = None
    close_reason: str | None = None


def order_key(t: Ticket) -> tuple[dt.datetime, int, str]:
    """The queue's one order (module docstring): entitlement moment, bookings before walk-ins at the same moment,
    then the number."""
    return (t.due_at, 0 if t.kind == BOOKED else 1, t.number)


def next_in_line(tickets: Iterable[Ticket], now: dt.datetime) -> Ticket | None:
    """The ticket to call now: the first waiting one, in `order_key`, whose moment has come."""
    ready = [t for t in tickets if t.status == WAITING and t.due_at <= now]
    return min(ready, key=order_key, default=None)


def ticket_number(kind: str, seq: int) -> str:
    """`B-007` for the seventh ticket of the day if booked, `W-007` if a walk-in: the board shows which is which."""
    return f"{'B' if kind == BOOKED else 'W'}-{seq:03d}"


def can_finish(t: Ticket, site_id: str | None) -> None:
    """Only a called ticket of the actor's site is finished (by an application or by closing)."""
    if site_id is not None and t.site_id != site_id:
        raise Conflict(f"ticket {t.number} is in the queue of another site", field="body.ticket_id")
    if t.status != CALLED:
        raise Conflict(
            f"ticket {t.number} is {t.status}: only a called ticket is finished", code="ticket_not_called"
        )


# -- the standards --


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's `percentile_cont`, which the registry's
    statistics use)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Measure:
    """One standard over one site's day: how many were measured, median and p90 in minutes, share within."""

    count: int
    median_min: float | None
    p90_min: float | None
    limit_min: int
    within_share: float | None

    @classmethod
    def of(cls, durations: Sequence[dt.timedelta], limit: dt.timedelta) -> Measure:
        minutes = [max(d, dt.timedelta(0)).total_seconds() / 60 for d in durations]
        median, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
        within = sum(1 for d in durations if d <= limit)
        return cls(
            count=len(minutes),
            median_min=None if median is None else round(median, 2),
            p90_min=None if p90 is None else round(p90, 2),
            limit_min=int(limit.total_seconds() // 60),
            within_share=round(within / len(minutes), 4) if minutes else None,
        )


@dataclass(frozen=True)
class DayStandards:
    site_id: str
    site_kind: str
    day: dt.date
    tickets: int
    served: int
    closed: int
    no_show: int
    waiting: Measure
    service: Measure

    def row(self) -> dict[str, object]:
        """Flat, for CSV and JSON alike."""
        out: dict[str, object] = {
            "site_id": self.site_id,
            "site_kind": self.site_kind,
            "day": self.day.isoformat(),
            "tickets": self.tickets,
            "served": self.served,
            "closed": self.closed,
            "no_show": self.no_show,
        }
        for name, m in (("waiting", self.waiting), ("service", self.service)):
            out |= {
                f"{name}_count": m.count,
                f"{name}_median_min": m.median_min,
                f"{name}_p90_min": m.p90_min,
                f"{name}_standard_min": m.limit_min,
                f"{name}_within_share": m.within_share,
            }
        return out


STANDARD_FIELDS = list(
    DayStandards(
        "",
        CENTRE,
        dt.date(2000, 1, 1),
        0,
        0,
        0,
        0,
        Measure(0, None, None, 0, None),
        Measure(0, None, None, 0, None),
    ).row()
)


def day_standards(tickets: Sequence[Ticket]) -> list[DayStandards]:
    """Per site and day: waiting = call − entitlement moment (every called ticket), service = finish − call
    (finished tickets, no-shows excluded: nobody was served), against S004 p.4(2)-(3)."""
    groups: dict[tuple[str, dt.date], list[Ticket]] = {}
    for t in tickets:
        if t.status != CANCELLED:
            groups.setdefault((t.site_id, t.day), []).append(t)
    out = []
    for (site_id, day), group in sorted(groups.items()):
        kind = group[0].site_kind
        standard = STANDARDS[kind]
        waits = [t.called_at - t.due_at for t in group if t.called_at is not None]
        services = [
            t.finished_at - t.called_at
            for t in group
            if t.called_at is not None and t.finished_at is not None and t.close_reason != NO_SHOW
        ]
        out.append(
            DayStandards(
                site_id=site_id,
                site_kind=kind,
                day=day,
                tickets=len(group),
                served=sum(1 for t in group if t.status == SERVED),
                closed=sum(1 for t in group if t.status == CLOSED),
                no_show=sum(1 for t in group if t.close_reason == NO_SHOW),
                waiting=Measure.of(waits, standard.waiting),
                service=Measure.of(services, standard.service),
            )
        )
    return out
