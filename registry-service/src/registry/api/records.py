"""Civil-status records: by number, IIN, names, kind and date; each with its history. The register is national:
every registry office reads it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from btkernel import eventstore
from btkernel.bounded import CODE_MAX, Id
from btkernel.problems import InvalidInput, NotFound
from btkernel.service import ActorDep, PoolDep, require_role
from registry.adapters.store import fold_name
from registry.api.schemas import CaseHistoryEntry, RecordView
from registry.domain.record import KINDS

router = APIRouter(prefix="/api/v1/records", tags=["records"])
READ_ROLES = ("registry_chancellery", "registry_head", "registry_executive", "registry_worker", "supervisor")


def _like(text: str) -> str:
    escaped = fold_name(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@router.get("", response_model=list[RecordView], summary="Find records by number, IIN, names, kind and date")
async def find_records(
    pool: PoolDep,
    actor: ActorDep,
    number: Annotated[str | None, Query(max_length=200)] = None,
    iin: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="the subject's, a parent's or a party's IIN")
    ] = None,
    name: Annotated[
        str | None,
        Query(
            min_length=2, max_length=200, description="part of a name, any case (Cyrillic and Kazakh letters)"
        ),
    ] = None,
    kind: Annotated[str | None, Query(max_length=CODE_MAX, description="one of: " + ", ".join(KINDS))] = None,
    registered_from: Annotated[dt.date | None, Query()] = None,
    registered_to: Annotated[dt.date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RecordView]:
    require_role(actor, *READ_ROLES)
    # The value's own fault first: `kind=dog` is about query.kind, whatever else is missing.
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown kind of record; one of: {', '.join(KINDS)}", field="query.kind")
    if number is None and iin is None and name is None:
        raise InvalidInput("give a record number, an IIN or a name to search by", field="query.number")
    rows = await pool.fetch(
        "SELECT * FROM records WHERE ($1::text IS NULL OR record_number=$1) AND ($2::text IS NULL OR"
        " subject_iin=$2 OR content->'parent_iins' ? $2 OR content->'party_iins' ? $2)"
        " AND ($3::text IS NULL OR search_names LIKE $3) AND ($4::text IS NULL OR kind=$4)"
        " AND ($5::date IS NULL OR (registered_at AT TIME ZONE 'Asia/Almaty')::date >= $5)"
        " AND ($6::date IS NULL OR (registered_at AT TIME ZONE 'Asia/Almaty')::date <= $6)"
        " ORDER BY registered_at DESC LIMIT $7",
        number,
        iin,
        _like(name) if name else None,
        kind,
        registered_from,
        registered_to,
        limit,
    )
    return [RecordView(**dict(r)) for r in rows]


@router.get("/{record_id}", response_model=RecordView, summary="One record")
async def get_record(record_id: Id, pool: PoolDep, actor: ActorDep) -> RecordView:
    require_role(actor, *READ_ROLES)
    row = await pool.fetchrow("SELECT * FROM records WHERE record_id=$1", record_id)
    if row is None:
        raise NotFound(f"no record {record_id}")
    return RecordView(**dict(row))


@router.get(
    "/{record_id}/history",
    response_model=list[CaseHistoryEntry],
    summary="Every event of the record, oldest first: registration, amendments, annulment",
)
async def record_history(record_id: Id, pool: PoolDep, actor: ActorDep) -> list[CaseHistoryEntry]:
    require_role(actor, *READ_ROLES)
    async with pool.acquire() as conn:
        # Records only: a case's stream has the same shape of id and is its office's business alone.
        is_record = await conn.fetchval(
            "SELECT true FROM events WHERE stream_id = $1 AND stream_type = 'record' LIMIT 1", record_id
        )
        events = await eventstore.load(conn, record_id) if is_record else []
    if not events:
        raise NotFound(f"no record {record_id}")
    return [CaseHistoryEntry(**e.history_entry()) for e in events]
