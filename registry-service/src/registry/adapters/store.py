"""Read models of cases and records, and the record-number counter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel.events.case import CaseOpened
from registry.domain.case import RESULT_SENT, Case


async def next_record_seq(conn: asyncpg.Connection, office_id: str, kind: str, year: int) -> int:
    # The upsert's row lock serialises concurrent registrations of one office, kind and year: no gaps reused,
    # no number given twice, and a rolled-back registration gives its number back with the transaction.
    seq: int = await conn.fetchval(
        "INSERT INTO record_counters (registry_office_id, kind, year, last) VALUES ($1,$2,$3,1)"
        " ON CONFLICT (registry_office_id, kind, year) DO UPDATE SET last = record_counters.last + 1"
        " RETURNING last",
        office_id,
        kind,
        year,
    )
    return seq


def record_number(office_id: str, kind: str, year: int, seq: int) -> str:
    return f"{office_id}/{kind}/{year}/{seq:06d}"


async def insert_case(conn: asyncpg.Connection, e: CaseOpened) -> None:
    await conn.execute(
        "INSERT INTO cases (case_id, application_id, registry_office_id, centre_id, service_id, channel, status,"
        " receipt_number, applicant_iin, applicant_name, review_term, opened_at, review_due_at, updated_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,'opened',$7,$8,$9,$10,$11,$12,$11)",
        e.case_id,
        e.application_id,
        e.registry_office_id,
        e.centre_id,
        e.service_id,
        e.channel,
        e.receipt_number,
        e.applicant.iin,
        e.applicant.name.full(),
        e.review_term.model_dump(),
        e.opened_at,
        e.review_due_at,
    )


async def update_case(
    conn: asyncpg.Connection, case: Case, at: dt.datetime, review_due_at: dt.datetime | None = None
) -> None:
    """The worklist row after a command. The review due moment is written only when the command moved it (an
    extension): a decree recomputes it in the read model, and the aggregate's older value must not undo that."""
    await conn.execute(
        "UPDATE cases SET status=$2, executive_id=$3, record_id=$4, record_number=$5, updated_at=$6,"
        " completed_at = CASE WHEN $2 = $7 THEN $6 ELSE completed_at END,"
        " review_due_at = COALESCE($8, review_due_at) WHERE case_id=$1",
        case.id,
        case.status,
        case.executive_id,
        case.record_id,
        case.record_number,
        at,
        RESULT_SENT,
        review_due_at,
    )


async def insert_record(
    conn: asyncpg.Connection,
    *,
    record_id: str,
    kind: str,
    office_id: str,
    year: int,
    seq: int,
    number: str,
    case_id: str,
    subject_iin: str | None,
    subject_name: str,
    registered_at: dt.datetime,
    content: dict[str, Any],
    search_names: str = "",
) -> None:
    await conn.execute(
        "INSERT INTO records (record_id, kind, registry_office_id, year, seq, record_number, case_id, subject_iin,"
        " subject_name, registered_at, content, search_names, updated_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$10)",
        record_id,
        kind,
        office_id,
        year,
        seq,
        number,
        case_id,
        subject_iin,
        subject_name,
        registered_at,
        content,
        search_names or fold_name(subject_name),
    )


def fold_name(*names: str) -> str:
    """Names as search compares them: case-folded (А = а, Ә = ә, Ұ = ұ), ё as е, one space between words."""
    return " | ".join(" ".join(n.casefold().replace("ё", "е").split()) for n in names if n)


async def update_record(
    conn: asyncpg.Connection, record_id: str, *, status: str, facts: dict[str, Any], at: dt.datetime
) -> None:
    """The row shows the record's current state; the history stays in its events."""
    await conn.execute(
        "UPDATE records SET status=$2, content = content || jsonb_build_object('current', $3::jsonb),"
        " updated_at=$4 WHERE record_id=$1",
        record_id,
        status,
        facts,
        at,
    )


async def registered_death(conn: asyncpg.Connection, iin: str) -> str | None:
    """The number of the active death record of the person with `iin`, if any. Takes a transaction lock on the
    IIN first, so two registrations of the same death at once are decided one after the other."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('death:' || $1))", iin)
    number: str | None = await conn.fetchval(
        "SELECT record_number FROM records WHERE kind = 'death' AND subject_iin = $1 AND status = 'active'"
        " LIMIT 1",
        iin,
    )
    return number
