"""Registered civil-status records (topic civreg.record, subject = record id): what partner agencies read."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel import topics
from btkernel.events.base import Event
from btkernel.events.values import Person, PersonName


class _RecordEvent(Event):
    TOPIC: ClassVar[str] = topics.RECORD
    record_id: str


class BirthRegistered(_RecordEvent):
    """A birth act record (актовая запись о рождении) was made; its number is unique per office, kind and year."""

    TYPE: ClassVar[str] = "kz.civreg.record.birth-registered.v1"
    record_number: str
    registry_office_id: str
    registered_at: dt.datetime
    case_id: str
    child_name: PersonName
    child_sex: str
    child_birth_date: dt.date
    child_birth_place: str
    child_iin: str | None = None
    mother: Person | None = None
    father: Person | None = None
