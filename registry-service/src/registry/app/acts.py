"""Forming the act of a case (steps 3–4 of S002 p.5), per service: a new record with the next number of the office,
kind and year; an amendment of an existing record; a restored record; a repeat certificate of an existing record;
an annulment with its effects (S002/App.10: the original birth data back, or the marriage certificate again).

Which service forms which act is one table, `ACTS` (service id → builder); a test checks that every service of
the catalogue has its builder.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from btkernel.context import Actor, RequestContext
from btkernel.errors import InvalidInput, RuleViolation
from civreg.calendar import ALMATY
from civreg.events.details import AMENDMENT, ActDetails, BirthDetails, Parent, Subject
from civreg.events.record import BirthRegistered, RecordRegistered
from civreg.events.values import Person
from registry.app import SOURCE, record_projection
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.case import Case
from registry.domain.record import KINDS, RECORD_KINDS, Record, record_number

# Acts that change the child's birth record and so re-issue the birth certificate (services.md §2B side results).
BIRTH_RECORD_EFFECTS = ("paternity", "adoption", "name_change")
CERTIFICATE_OF = {
    "birth": "birth_certificate",
    "marriage": "marriage_certificate",
    "divorce": "divorce_certificate",
    "death": "death_certificate",
    "paternity": "paternity_certificate",
    "adoption": "adoption_certificate",
    "name_change": "name_change_certificate",
}


@dataclass(frozen=True)
class Act:
    """What a builder works with: the case, who registers, the transaction, and when."""

    case: Case
    actor: Actor
    uow: RegistryUnitOfWork
    ctx: RequestContext
    now: dt.datetime
    child_iin: str | None

    @property
    def details(self) -> ActDetails:
        """The details of a service that registers an act about a subject or a record (every model but birth's)."""
        assert self.case.opened is not None
        details = self.case.opened.details
        if not isinstance(details, ActDetails):
            raise InvalidInput(f"{self.case.opened.service_id} states no act details", field="case.details")
        return details

    @property
    def birth(self) -> BirthDetails:
        assert self.case.opened is not None
        details = self.case.opened.details
        if not isinstance(details, BirthDetails):
            raise InvalidInput("the application states no child", field="case.details.child")
        return details


ActBuilder = Callable[[Act], Awaitable[None]]


async def form_act(
    uow: RegistryUnitOfWork,
    case: Case,
    actor: Actor,
    ctx: RequestContext,
    now: dt.datetime,
    child_iin: str | None,
) -> None:
    """Everything the case's service registers, in the command's unit of work (ADR 3). The case's rules are
    checked before a number is taken, so a refused command leaves no trace. The caller saves the case."""
    assert case.opened is not None
    case.check_registration_allowed(actor, now)
    act = Act(case, actor, uow, ctx, now, child_iin)
    if case.variant == AMENDMENT:
        # Amendments, additions, corrections (7 WD in every registration service): the record is never rewritten.
        await _amend(act)
        return
    builder = ACTS.get(case.opened.service_id)
    if builder is None:
        raise InvalidInput(f"{case.opened.service_id} cannot register a record", field="body")
    await builder(act)


def _person(who: Parent | Subject) -> Person:
    """A person of the details as the record names them (a parent states no date of birth)."""
    return Person(iin=who.iin, name=who.name, birth_date=getattr(who, "birth_date", None))


async def _record(act: Act, record_id: str | None, field: str) -> Record:
    """The record the application names. Intake refuses unknown records at submission (ADR 0012); this is the
    registry's own check, a 422 the executive answers with a reasoned refusal — never a case stuck on a 404."""
    if not isinstance(record_id, str):
        raise RuleViolation(
            "the application names no record; prepare a reasoned refusal", field=field, code="record_missing"
        )
    record = await act.uow.events.load_aggregate(Record, record_id)
    if record is None:
        raise RuleViolation(
            f"the application names record {record_id}, which is not registered; prepare a reasoned refusal",
            field=field,
            code="record_not_found",
        )
    return record


async def _save(act: Act, record: Record) -> None:
    """A record made or changed: its events, and its row in the register's read model from them (ADR 27)."""
    events = list(record.pending)
    await act.uow.events.save(record, act.ctx, SOURCE)
    await record_projection.project(act.uow.record_views, record, events)


async def _new_number(act: Act, kind: str) -> str:
    year = act.now.astimezone(ALMATY).year
    seq = await act.uow.record_views.next_seq(act.case.office_id, kind, year)
    return record_number(act.case.office_id, kind, year, seq)


async def _amend(act: Act) -> None:
    details = act.details
    record = await _record(act, details.record_id, "case.details.record_id")
    record.amend(
        case_id=act.case.id,
        by=act.actor.id,
        change=details.change or AMENDMENT,
        changes=dict(details.changes),
        reason=details.reason or "",
        at=act.now,
    )
    await _save(act, record)
    assert record.kind is not None
    assert record.number is not None
    docs = [f"repeat_{CERTIFICATE_OF.get(record.kind, 'certificate')}_with_amendments"]
    act.case.register_act(act.actor, record.id, record.number, act.now, docs)


async def _copy_certificate(act: Act) -> None:
    """Nothing is registered: the result copies an existing record (S002/App.3; services.md §10 item 8)."""
    record = await _record(act, act.details.record_id, "case.details.record_id")
    if record.status != "active":
        raise RuleViolation(f"record {record.number} is annulled", code="annulled")
    assert record.number is not None
    act.case.register_act(
        act.actor, record.id, record.number, act.now, [act.details.document or "repeat_certificate"]
    )


async def _register_birth(act: Act) -> None:
    case, now, details = act.case, act.now, act.birth
    number = await _new_number(act, "birth")
    record_id = str(uuid.uuid4())
    case.register_act(act.actor, record_id, number, now, ["birth_certificate"])
    child = details.child
    mother = _person(details.mother) if details.mother else None
    father = _person(details.father) if details.father else None
    record = Record(record_id)
    born = BirthRegistered(
        record_id=record_id,
        record_number=number,
        registry_office_id=case.office_id,
        registered_at=now,
        case_id=case.id,
        child_name=child.name,
        child_sex=child.sex,
        child_birth_date=child.birth_date,
        child_birth_place=child.birth_place,
        child_iin=act.child_iin,
        mother=mother,
        father=father,
    )
    record.record(born)
    await _save(act, record)


async def _register_record(act: Act) -> None:
    """Marriage, divorce, death, paternity, adoption, name change: a record of the service's kind."""
    assert act.case.opened is not None
    await _register(act, RECORD_KINDS.get(act.case.opened.service_id), restored=False)


async def _restore_record(act: Act) -> None:
    """Restoration (2016 and 2019 editions): a record of the kind the application names."""
    await _register(act, act.details.record_kind, restored=True)


async def _register(act: Act, kind: str | None, *, restored: bool) -> None:
    case, actor, now, details = act.case, act.actor, act.now, act.details
    assert case.opened is not None
    if kind not in KINDS:
        raise InvalidInput(
            f"{case.opened.service_id} cannot register a record of kind {kind!r}", field="body"
        )
    if details.subject is None:
        raise InvalidInput("the application names no subject of the record", field="case.details.subject")
    subject = _person(details.subject)
    parties = [_person(p) for p in details.parties]
    facts: dict[str, Any] = dict(details.facts)
    docs = [CERTIFICATE_OF[kind]] if not restored else ["restored_record_certificate"]
    if kind == "death" and details.document == "death_spravka":
        docs = ["death_spravka"]  # S002/App.7 p.3: a death certificate or a death справка
    # One person dies once (S002/App.7): a second registration is refused, the first record stands.
    if (
        kind == "death"
        and not restored
        and subject.iin
        and (number := await act.uow.record_views.registered_death(subject.iin))
    ):
        raise RuleViolation(
            f"the death of the person with IIN {subject.iin} is already registered (record {number}); "
            "prepare a reasoned refusal",
            field="case.details.subject.iin",
            code="already_registered_dead",
        )
    birth_record: Record | None = None
    # Paternity is entered into the child's birth record (S002/App.4 p.3): without one it registers nothing.
    if kind == "paternity" and not restored and not details.birth_record_id:
        await _record(act, None, "case.details.birth_record_id")
    if kind in BIRTH_RECORD_EFFECTS and not restored and details.birth_record_id:
        birth_record = await _record(act, details.birth_record_id, "case.details.birth_record_id")
        if birth_record.kind != "birth" or birth_record.status != "active":
            raise RuleViolation(
                f"record {birth_record.number} is not an active birth record; prepare a reasoned refusal",
                field="case.details.birth_record_id",
                code="record_kind_mismatch",
            )
        facts["birth_record_id"] = birth_record.id
        docs.append("birth_certificate")  # the birth certificate is re-issued (S002/App.4, App.5, App.8 p.3)
    number = await _new_number(act, kind)
    record_id = str(uuid.uuid4())
    case.register_act(actor, record_id, number, now, docs)
    record = Record(record_id)
    event = RecordRegistered(
        record_id=record_id,
        kind=kind,
        record_number=number,
        registry_office_id=case.office_id,
        registered_at=now,
        case_id=case.id,
        subject=subject,
        parties=parties,
        facts=facts,
        restored=restored,
        restored_kind=kind if restored else None,
    )
    record.record(event)
    await _save(act, record)
    if birth_record is not None:
        birth_record.amend(
            case_id=case.id,
            by=actor.id,
            change=kind,
            changes=dict(details.changes or {"basis_record": number}),
            reason=f"{kind} record {number}",
            at=now,
        )
        await _save(act, birth_record)


async def _annul(act: Act) -> None:
    """S002/App.10 p.3: annulling paternity, adoption or name change gives the birth record its original data back
    (with the originally assigned IIN) and a repeat birth certificate; annulling a divorce gives the marriage
    certificate; otherwise the answer on annulment."""
    case, actor, now = act.case, act.actor, act.now
    record = await _record(act, act.details.record_id, "case.details.record_id")
    reason = act.details.reason or "annulment"
    record.annul(case_id=case.id, by=actor.id, reason=reason, at=now)
    await _save(act, record)
    docs = ["annulment_answer"]
    birth_record_id = record.facts.get("birth_record_id")
    if record.kind in BIRTH_RECORD_EFFECTS and isinstance(birth_record_id, str):
        birth = await _record(act, birth_record_id, "case.details.record_id")
        effect = birth.amendment_by(record.case_id or "")
        if effect is not None and effect.previous:
            birth.amend(
                case_id=case.id,
                by=actor.id,
                change="restored_original",
                changes=effect.previous,
                reason=f"annulment of {record.kind} record {record.number}",
                at=now,
            )
            await _save(act, birth)
        docs.append("repeat_birth_certificate_with_original_data")
    elif record.kind == "divorce":
        docs.append("marriage_certificate")
    assert record.number is not None
    case.register_act(actor, record.id, record.number, now, docs)


# The act each service forms (services.md §2); the amendment variant of any registration service is `_amend`.
ACTS: Mapping[str, ActBuilder] = {
    "birth_registration": _register_birth,
    "marriage_registration": _register_record,
    "divorce_registration": _register_record,
    "death_registration": _register_record,
    "paternity_registration": _register_record,
    "adoption_registration": _register_record,
    "name_change_registration": _register_record,
    "restoration_of_records": _restore_record,
    "repeat_certificates": _copy_certificate,
    "annulment_of_records": _annul,
}
