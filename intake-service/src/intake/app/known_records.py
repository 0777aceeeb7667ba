"""What intake knows of the civil-status register (ADR 0012): a small read model of the registry's records, fed
by the `civreg.record` topic (group `intake.records`), and the checks a submission makes against it.

The registry stays the authority (it checks again when the act is registered); this view only keeps intake from
issuing a receipt for an application that could never be carried out: a record that does not exist, a
paternity naming a record that is not a birth, a death already registered.
"""

from __future__ import annotations

from btkernel.errors import RuleViolation
from btkernel.events.base import Event
from civreg.events.details import AMENDMENT, ActDetails, ServiceDetails
from civreg.events.record import BirthRegistered, RecordAnnulled, RecordRegistered
from intake.app.unit_of_work import IntakeUnitOfWork, KnownRecord, KnownRecords

HANDLED_TYPES = [BirthRegistered.TYPE, RecordRegistered.TYPE, RecordAnnulled.TYPE]
ACTIVE, ANNULLED = "active", "annulled"
# Services that change a birth record, so `birth_record_id` must name one (S002/App.4, App.5, App.8 p.3).
CHANGES_A_BIRTH_RECORD = ("paternity_registration", "adoption_registration", "name_change_registration")
# A record registered moments ago is known here a little later (the topic is read asynchronously).
NOT_YET = "if it was registered moments ago, try again in a few seconds"


async def learn(event: Event, uow: IntakeUnitOfWork) -> None:
    """Keep the view up to date with one event of the register (redelivery changes nothing)."""
    async with uow:
        if isinstance(event, BirthRegistered):
            await uow.known_records.add(
                KnownRecord(
                    event.record_id,
                    "birth",
                    event.record_number,
                    event.child_iin,
                    ACTIVE,
                    event.registered_at,
                )
            )
        elif isinstance(event, RecordRegistered):
            await uow.known_records.add(
                KnownRecord(
                    event.record_id,
                    event.kind,
                    event.record_number,
                    event.subject.iin,
                    ACTIVE,
                    event.registered_at,
                )
            )
        elif isinstance(event, RecordAnnulled):
            await uow.known_records.annul(event.record_id)
        await uow.commit()


async def check(records: KnownRecords, service_id: str, details: ServiceDetails) -> None:
    """Refuse (422, naming the field) what the register shows can never be carried out."""
    if not isinstance(details, ActDetails):
        return  # a birth names no record
    if (record_id := details.record_id) is not None:
        row = await _known(records, record_id, "body.details.record_id")
        kind = details.record_kind
        if kind is not None and row.kind != kind:
            raise RuleViolation(
                f"record {row.record_number} is a {row.kind} record, not a {kind} record",
                field="body.details.record_kind",
                code="record_kind_mismatch",
            )
        # An annulled record is neither copied, amended nor annulled again (S002/App.10).
        if row.status == ANNULLED:
            raise RuleViolation(
                f"record {row.record_number} is annulled", field="body.details.record_id", code="annulled"
            )
    if (birth_record_id := details.birth_record_id) is not None:
        row = await _known(records, birth_record_id, "body.details.birth_record_id")
        if row.kind != "birth":
            raise RuleViolation(
                f"record {row.record_number} is a {row.kind} record; name the person's birth record",
                field="body.details.birth_record_id",
                code="record_kind_mismatch",
            )
        if row.status == ANNULLED:
            raise RuleViolation(
                f"birth record {row.record_number} is annulled",
                field="body.details.birth_record_id",
                code="annulled",
            )
    if service_id == "death_registration" and details.variant != AMENDMENT:
        iin = details.subject.iin if details.subject else None
        if iin is not None and (number := await records.active_death_of(iin)):
            raise RuleViolation(
                f"the death of the person with IIN {iin} is already registered (record {number})",
                field="body.details.subject.iin",
                code="already_registered_dead",
            )


async def _known(records: KnownRecords, record_id: str, field: str) -> KnownRecord:
    row = await records.get(record_id)
    if row is None:
        raise RuleViolation(
            f"no civil-status record {record_id} is registered ({NOT_YET})",
            field=field,
            code="record_unknown",
        )
    return row
