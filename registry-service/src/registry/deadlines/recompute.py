"""Recomputing running deadlines when the calendar or a site's schedule changes."""

from __future__ import annotations

import datetime as dt

import asyncpg

from registry.deadlines import terms
from registry.deadlines.projector import APPROACHING_SHARE

# Terms counted without the working calendar, or fixed by a person (the head's resolution), are left alone.
_RECOMPUTED_UNITS = ("minutes", "hours", "working_hours", "working_days")


async def recompute_running(conn: asyncpg.Connection) -> int:
    """New due moments for every running deadline counted in working time; returns how many moved. Events
    already emitted stay emitted: a decree does not un-send a warning."""
    site_clock = await terms.load(conn)
    rows = await conn.fetch(
        "SELECT deadline_id, case_id, kind, term, site_id, started_at, extension_days, due_at FROM deadlines"
        " WHERE status = 'running' AND term->>'unit' = ANY($1::text[]) FOR UPDATE",
        list(_RECOMPUTED_UNITS),
    )
    moved = 0
    for r in rows:
        due_at = site_clock.due(r["started_at"], r["term"], r["site_id"]) + dt.timedelta(
            days=r["extension_days"]
        )
        if due_at == r["due_at"]:
            continue
        approaching_at = r["started_at"] + (due_at - r["started_at"]) * APPROACHING_SHARE
        await conn.execute(
            "UPDATE deadlines SET due_at = $2, approaching_at = $3, updated_at = now()"
            " WHERE deadline_id = $1",
            r["deadline_id"],
            due_at,
            approaching_at,
        )
        if r["kind"] in ("review", "review:extended"):
            await conn.execute("UPDATE cases SET review_due_at = $2 WHERE case_id = $1", r["case_id"], due_at)
            # The executive's review step runs to the review term: it moves with it.
            await conn.execute(
                "UPDATE deadlines SET due_at = $2, approaching_at = started_at + ($2 - started_at) * $3,"
                " updated_at = now() WHERE case_id = $1 AND term->>'unit' = 'resolution' AND status = 'running'",
                r["case_id"],
                due_at,
                APPROACHING_SHARE,
            )
        moved += 1
    return moved
