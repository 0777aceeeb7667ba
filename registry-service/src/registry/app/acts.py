"""Forming the act of a case (steps 3–4 of S002 p.5), per service: a new record with the next number of the office,
kind and year; an amendment of an existing record; a restored record; a repeat certificate of an existing record;
an annulment with its effects (S002/App.10: the original birth data back, or the marriage certificate again)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from btkernel.calendar import ALMATY
from btkernel.context import Actor, RequestContext
from btkernel.events.record import BirthRegistered, RecordRegistered
from btkernel.events.values import Person, PersonName
from btkernel.problems import InvalidInput, RuleViolation
from registry.adapters import store
from registry.domain.case import Case
from registry.domain.record import KINDS, RECORD_KINDS, Record

SOURCE = "/registry"
AMENDMENT = "amendment"
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


async def _record(conn: asyncpg.Connection, record_id: Any, field: str) -> Record:
    """The record the application names. Intake refuses unknown records at submission (ADR 0012); this is the
    registry's own check, a 422 the executive answers with a reasoned refusal — never a case stuck on a 404."""
    if not isinstance(record_id, str):
        raise RuleViolation(
            "the application names no record; prepare a reasoned refusal", field=field, code="record_missing"
        )
    record = await Record.load(conn, record_id)
    if record is None:
        raise RuleViolation(
            f"the application names record {record_id}, which is not registered; prepare a reasoned refusal",
            field=field,
            code="record_not_found",
        )
    return record


async def _save(conn: asyncpg.Connection, record: Record, ctx: RequestContext, now: dt.datetime) -> None:
    await record.save(conn, ctx, SOURCE)
    assert record.status is not None
    await store.update_record(conn, record.id, status=record.status, facts=record.facts, at=now)


async def _new_number(
    conn: asyncpg.Connection, office_id: str, kind: str, now: dt.datetime
) -> tuple[int, str, int]:
    year = now.astimezone(ALMATY).year
    seq = await store.next_record_seq(conn, office_id, kind, year)
    return seq, store.record_number(office_id, kind, year, seq), year


async def form_act(
    conn: asyncpg.Connection,
    case: Case,
    actor: Actor,
    ctx: RequestContext,
    now: dt.datetime,
    child_iin: str | None,
) -> None:
    """Everything the case's service registers, in the command's transaction (ADR 3). The case's rules are
    checked before a number is taken, so a refused command leaves no trace."""
    assert case.opened is not None
    case.check_registration_allowed(actor, now)
    details = case.opened.details
    service = case.service
    variant = case.variant
    if variant == AMENDMENT:
        # Amendments, additions, corrections (7 WD in every registration service): the record is never rewritten.
        record = await _record(conn, details.get("record_id"), "case.details.record_id")
        record.amend(
            case_id=case.id,
            by=actor.id,
            change=str(details.get("change", "amendment")),
            changes=dict(details.get("changes") or {}),
            reason=str(details.get("reason", "")),
            at=now,
        )
        await _save(conn, record, ctx, now)
        assert record.kind is not None and record.number is not None
        docs = [f"repeat_{CERTIFICATE_OF.get(record.kind, 'certificate')}_with_amendments"]
        case.register_act(actor, record.id, record.number, now, docs)
    elif service.id == "repeat_certificates":
        # Nothing is registered: the result copies an existing record (S002/App.3; services.md §10 item 8).
        record = await _record(conn, details.get("record_id"), "case.details.record_id")
        if record.status != "active":
            raise RuleViolation(f"record {record.number} is annulled", code="annulled")
        assert record.number is not None
        case.register_act(
            actor, record.id, record.number, now, [str(details.get("document", "repeat_certificate"))]
        )
    elif service.id == "annulment_of_records":
        await _annul(conn, case, actor, ctx, now)
    elif service.id == "birth_registration":
        await _register_birth(conn, case, actor, ctx, now, child_iin)
    else:
        await _register_other(conn, case, actor, ctx, now)
    await case.save(conn, ctx, SOURCE)
    await store.update_case(conn, case, now)


async def _register_birth(
    conn: asyncpg.Connection,
    case: Case,
    actor: Actor,
    ctx: RequestContext,
    now: dt.datetime,
    child_iin: str | None,
) -> None:
    assert case.opened is not None
    details = case.opened.details
    seq, number, year = await _new_number(conn, case.office_id, "birth", now)
    record_id = str(uuid.uuid4())
    case.register_act(actor, record_id, number, now, ["birth_certificate"])
    child = details["child"]
    mother = Person.model_validate(details["mother"]) if details.get("mother") else None
    father = Person.model_validate(details["father"]) if details.get("father") else None
    record = Record(record_id)
    born = BirthRegistered(
        record_id=record_id,
        record_number=number,
        registry_office_id=case.office_id,
        registered_at=now,
        case_id=case.id,
        child_name=PersonName.model_validate(child["name"]),
        child_sex=child["sex"],
        child_birth_date=dt.date.fromisoformat(child["birth_date"]),
        child_birth_place=child["birth_place"],
        child_iin=child_iin,
        mother=mother,
        father=father,
    )
    record.record(born)
    await record.save(conn, ctx, SOURCE)
    parents = [p for p in (mother, father) if p]
    await store.insert_record(
        conn,
        record_id=record_id,
        kind="birth",
        office_id=case.office_id,
        year=year,
        seq=seq,
        number=number,
        case_id=case.id,
        subject_iin=child_iin,
        subject_name=born.child_name.full(),
        registered_at=now,
        content={**born.to_data(), "parent_iins": [p.iin for p in parents if p.iin]},
        search_names=store.fold_name(born.child_name.full(), *(p.name.full() for p in parents)),
    )


async def _register_other(
    conn: asyncpg.Connection, case: Case, actor: Actor, ctx: RequestContext, now: dt.datetime
) -> None:
    """Marriage, divorce, death, paternity, adoption, name change, and restoration of a record of any kind."""
    assert case.opened is not None
    details = case.opened.details
    restored = case.service.id == "restoration_of_records"
    kind = str(details.get("record_kind")) if restored else RECORD_KINDS.get(case.opened.service_id)
    if kind not in KINDS:
        raise InvalidInput(
            f"{case.opened.service_id} cannot register a record of kind {kind!r}", field="body"
        )
    if "subject" not in details:
        raise InvalidInput("the application names no subject of the record", field="case.details.subject")
    subject = Person.model_validate(details["subject"])
    parties = [Person.model_validate(p) for p in details.get("parties") or []]
    facts: dict[str, Any] = dict(details.get("facts") or {})
    docs = [CERTIFICATE_OF[kind]] if not restored else ["restored_record_certificate"]
    if kind == "death" and details.get("document") == "death_spravka":
        docs = ["death_spravka"]  # S002/App.7 p.3: a death certificate or a death справка
    # One person dies once (S002/App.7): a second registration is refused, the first record stands.
    if (
        kind == "death"
        and not restored
        and subject.iin
        and (number := await store.registered_death(conn, subject.iin))
    ):
        raise RuleViolation(
            f"the death of the person with IIN {subject.iin} is already registered (record {number}); "
            "prepare a reasoned refusal",
            field="case.details.subject.iin",
            code="already_registered_dead",
        )
    birth_record: Record | None = None
    # Paternity is entered into the child's birth record (S002/App.4 p.3): without one it registers nothing.
    if kind == "paternity" and not restored and not details.get("birth_record_id"):
        await _record(conn, None, "case.details.birth_record_id")
    if kind in BIRTH_RECORD_EFFECTS and not restored and details.get("birth_record_id"):
        birth_record = await _record(conn, details["birth_record_id"], "case.details.birth_record_id")
        if birth_record.kind != "birth" or birth_record.status != "active":
            raise RuleViolation(
                f"record {birth_record.number} is not an active birth record; prepare a reasoned refusal",
                field="case.details.birth_record_id",
                code="record_kind_mismatch",
            )
        facts["birth_record_id"] = birth_record.id
        docs.append("birth_certificate")  # the birth certificate is re-issued (S002/App.4, App.5, App.8 p.3)
    seq, number, year = await _new_number(conn, case.office_id, kind, now)
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
    await record.save(conn, ctx, SOURCE)
    if birth_record is not None:
        birth_record.amend(
            case_id=case.id,
            by=actor.id,
            change=kind,
            changes=dict(details.get("changes") or {"basis_record": number}),
            reason=f"{kind} record {number}",
            at=now,
        )
        await _save(conn, birth_record, ctx, now)
    await store.insert_record(
        conn,
        record_id=record_id,
        kind=kind,
        office_id=case.office_id,
        year=year,
        seq=seq,
        number=number,
        case_id=case.id,
        subject_iin=subject.iin,
        subject_name=subject.name.full(),
        registered_at=now,
        content={**event.to_data(), "party_iins": [p.iin for p in parties if p.iin]},
        search_names=store.fold_name(subject.name.full(), *(p.name.full() for p in parties)),
    )


async def _annul(
    conn: asyncpg.Connection, case: Case, actor: Actor, ctx: RequestContext, now: dt.datetime
) -> None:
    """S002/App.10 p.3: annulling paternity, adoption or name change gives the birth record its original data back
    (with the originally assigned IIN) and a repeat birth certificate; annulling a divorce gives the marriage
    certificate; otherwise the answer on annulment."""
    assert case.opened is not None
    details = case.opened.details
    record = await _record(conn, details.get("record_id"), "case.details.record_id")
    reason = str(details.get("reason") or "annulment")
    record.annul(case_id=case.id, by=actor.id, reason=reason, at=now)
    await _save(conn, record, ctx, now)
    docs = ["annulment_answer"]
    birth_record_id = record.facts.get("birth_record_id")
    if record.kind in BIRTH_RECORD_EFFECTS and isinstance(birth_record_id, str):
        birth = await _record(conn, birth_record_id, "case.details.record_id")
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
            await _save(conn, birth, ctx, now)
        docs.append("repeat_birth_certificate_with_original_data")
    elif record.kind == "divorce":
        docs.append("marriage_certificate")
    assert record.number is not None
    case.register_act(actor, record.id, record.number, now, docs)
