"""Civil-status records: by number, IIN, names, kind and date; each with its history. The register is national:
every registry office reads it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from btkernel.bounded import CODE_MAX, Id
from btkernel.history import audit
from btkernel.problems import InvalidInput
from btkernel.service import ActorDep, ContextDep, PoolDep
from registry.api.deps import UowDep
from registry.api.schemas import CaseHistoryEntry, RecordView
from registry.app import queries
from registry.domain.record import KINDS

router = APIRouter(prefix="/api/v1/records", tags=["records"])


@router.get("", response_model=list[RecordView], summary="Find records by number, IIN, names, kind and date")
async def find_records(
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
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
    # The value's own fault first: `kind=dog` is about query.kind, whatever else is missing.
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown kind of record; one of: {', '.join(KINDS)}", field="query.kind")
    if number is None and iin is None and name is None:
        raise InvalidInput("give a record number, an IIN or a name to search by", field="query.number")
    rows = await queries.find_records(
        uow,
        number=number,
        iin=iin,
        name=name,
        kind=kind,
        registered_from=registered_from,
        registered_to=registered_to,
        limit=limit,
    )
    views = [RecordView(**r) for r in rows]
    # Audited before anything is returned: a read that cannot be recorded is not answered (ADR 0030).
    asked: dict[str, object] = {"number": number, "iin": iin, "name": name, "kind": kind, "limit": limit}
    asked |= {"registered_from": registered_from, "registered_to": registered_to}
    await audit.record_read(
        pool,
        ctx,
        action="records.search",
        query={k: v for k, v in asked.items() if v is not None},
        returned=[v.record_id for v in views],
    )
    return views


@router.get("/{record_id}", response_model=RecordView, summary="One record")
async def get_record(
    record_id: Id, uow: UowDep, actor: ActorDep, pool: PoolDep, ctx: ContextDep
) -> RecordView:
    found = RecordView(**await queries.record(record_id, uow))
    await audit.record_read(
        pool, ctx, action="records.view", query={"record_id": record_id}, returned=[found.record_id]
    )
    return found


@router.get(
    "/{record_id}/history",
    response_model=list[CaseHistoryEntry],
    summary="Every event of the record, oldest first: registration, amendments, annulment",
)
async def record_history(
    record_id: Id, uow: UowDep, actor: ActorDep, pool: PoolDep, ctx: ContextDep
) -> list[CaseHistoryEntry]:
    entries = [CaseHistoryEntry(**e.history_entry()) for e in await queries.record_history(record_id, uow)]
    await audit.record_read(
        pool,
        ctx,
        action="records.history",
        query={"record_id": record_id},
        returned=[record_id] if entries else [],
    )
    return entries
