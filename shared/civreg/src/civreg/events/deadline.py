"""Time-driven facts about legal terms (topic civreg.case, subject = case id, so they stay in order with the
case's own events). Emitted exactly once each by the registry's durable scheduler."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics


class _DeadlineEvent(Event):
    TOPIC: ClassVar[str] = topics.CASE
    deadline_id: str
    case_id: str
    application_id: str
    registry_office_id: str
    service_id: str
    kind: str
    description: str
    due_at: dt.datetime
    responsible_role: str
    responsible_id: str | None = None
    source: str


class DeadlineApproaching(_DeadlineEvent):
    """Most of a term has run (the share is configuration) and its step is not done yet."""

    TYPE: ClassVar[str] = "kz.civreg.deadline.approaching.v1"
    approaching_at: dt.datetime


class DeadlineMissed(_DeadlineEvent):
    """A legal term ran out before its step was done: who must act is named."""

    TYPE: ClassVar[str] = "kz.civreg.deadline.missed.v1"
    missed_at: dt.datetime
