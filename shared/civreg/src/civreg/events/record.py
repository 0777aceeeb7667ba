"""Registered civil-status records (topic civreg.record, subject = record id): what partner agencies read."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import Field

from btkernel.events.base import Event
from civreg import topics
from civreg.events.values import Person, PersonName


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


class RecordRegistered(_RecordEvent):
    """An act record of any kind other than birth (marriage, divorce, death, paternity, adoption, name change),
    or a restored record of any kind (S002/App.6). Its number is unique per office, kind and year."""

    TYPE: ClassVar[str] = "kz.civreg.record.registered.v1"
    kind: str
    record_number: str
    registry_office_id: str
    registered_at: dt.datetime
    case_id: str
    subject: Person
    parties: list[Person] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    restored: bool = False
    restored_kind: str | None = None


class RecordAmended(_RecordEvent):
    """A change to an existing record: amendment, addition or correction (7 WD in every registration service),
    or the effect of another act on it (paternity, adoption, name change on the birth record). The record is never
    overwritten: its history is its events."""

    TYPE: ClassVar[str] = "kz.civreg.record.amended.v1"
    case_id: str
    amended_at: dt.datetime
    amended_by: str
    change: str
    changes: dict[str, Any]
    reason: str
    previous: dict[str, Any] = Field(default_factory=dict)


class RecordAnnulled(_RecordEvent):
    """The record was annulled (S002/App.10). For paternity, adoption and name change the birth record gets its
    original data back (with the originally assigned IIN) in a RecordAmended of change `restored_original`."""

    TYPE: ClassVar[str] = "kz.civreg.record.annulled.v1"
    case_id: str
    annulled_at: dt.datetime
    annulled_by: str
    reason: str
