"""The `records` read model as a function of a record's events: the one code that writes a record's row, called by
the command that appends the events (ADR 3) and by `python -m btkernel.rebuild registry.projections:records`
replaying them (ADR 27). Everything a row holds comes from the events, so a rebuild gives the row the command
wrote."""

from __future__ import annotations

from collections.abc import Sequence

from btkernel.events.base import Event
from btkernel.eventstore import StoredEvent
from civreg.calendar import ALMATY
from civreg.events.record import BirthRegistered, RecordAmended, RecordAnnulled, RecordRegistered
from registry.app.unit_of_work import RecordViews
from registry.domain.record import Record, fold_name

HANDLED_TYPES = (BirthRegistered.TYPE, RecordRegistered.TYPE, RecordAmended.TYPE, RecordAnnulled.TYPE)


def _seq(number: str) -> int:
    """The sequence number a record number ends with (`registry.domain.record.record_number`)."""
    return int(number.rsplit("/", 1)[1])


async def project(views: RecordViews, record: Record, events: Sequence[Event]) -> None:
    """The row of `record` after `events`, the last events of its stream (`record` has them folded in)."""
    for event in events:
        if isinstance(event, BirthRegistered):
            parents = [p for p in (event.mother, event.father) if p]
            await views.insert(
                record_id=event.record_id,
                kind="birth",
                office_id=event.registry_office_id,
                year=event.registered_at.astimezone(ALMATY).year,
                seq=_seq(event.record_number),
                number=event.record_number,
                case_id=event.case_id,
                subject_iin=event.child_iin,
                subject_name=event.child_name.full(),
                registered_at=event.registered_at,
                content={**event.to_data(), "parent_iins": [p.iin for p in parents if p.iin]},
                search_names=fold_name(event.child_name.full(), *(p.name.full() for p in parents)),
            )
        elif isinstance(event, RecordRegistered):
            await views.insert(
                record_id=event.record_id,
                kind=event.kind,
                office_id=event.registry_office_id,
                year=event.registered_at.astimezone(ALMATY).year,
                seq=_seq(event.record_number),
                number=event.record_number,
                case_id=event.case_id,
                subject_iin=event.subject.iin,
                subject_name=event.subject.name.full(),
                registered_at=event.registered_at,
                content={**event.to_data(), "party_iins": [p.iin for p in event.parties if p.iin]},
                search_names=fold_name(event.subject.name.full(), *(p.name.full() for p in event.parties)),
            )
    changes = [e for e in events if isinstance(e, (RecordAmended, RecordAnnulled))]
    if changes:
        # The row shows the record's state after the last change; the history stays in its events.
        last = changes[-1]
        at = last.amended_at if isinstance(last, RecordAmended) else last.annulled_at
        assert record.status is not None
        await views.update(record.id, status=record.status, facts=record.facts, at=at)


async def replay(views: RecordViews, events: Sequence[StoredEvent], done: int) -> None:
    """A rebuild's part: one record's stream folded from its first event, and `project` called for each event
    after the first `done`, with the record as it stood after that event — as the commands called it."""
    record = Record(events[0].stream_id)
    for stored in events:
        event = stored.event()
        record.apply(event)
        if stored.version > done:
            await project(views, record, [event])
