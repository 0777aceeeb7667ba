"""Civil-status records: by number, by IIN, by id. The register is national: every registry office reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from btkernel.problems import InvalidInput, NotFound
from btkernel.service import ActorDep, PoolDep, require_role
from registry.api.schemas import RecordView

router = APIRouter(prefix="/api/v1/records", tags=["records"])
READ_ROLES = ("registry_chancellery", "registry_head", "registry_executive", "supervisor")


@router.get("", response_model=list[RecordView], summary="Find records by number or by IIN")
async def find_records(
    pool: PoolDep,
    actor: ActorDep,
    number: Annotated[str | None, Query(max_length=200)] = None,
    iin: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="the subject's or a parent's IIN")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RecordView]:
    require_role(actor, *READ_ROLES)
    if number is None and iin is None:
        raise InvalidInput("give a record number or an IIN to search by", field="query.number")
    rows = await pool.fetch(
        "SELECT * FROM records WHERE ($1::text IS NULL OR record_number=$1) AND ($2::text IS NULL OR"
        " subject_iin=$2 OR content->'parent_iins' ? $2) ORDER BY registered_at DESC LIMIT $3",
        number,
        iin,
        limit,
    )
    return [RecordView(**dict(r)) for r in rows]


@router.get("/{record_id}", response_model=RecordView, summary="One record")
async def get_record(record_id: str, pool: PoolDep, actor: ActorDep) -> RecordView:
    require_role(actor, *READ_ROLES)
    row = await pool.fetchrow("SELECT * FROM records WHERE record_id=$1", record_id)
    if row is None:
        raise NotFound(f"no record {record_id}")
    return RecordView(**dict(row))
