"""The registry's working calendar in PostgreSQL: transfer decrees (`calendar_overrides`) and per-site schedule
exceptions. The `SiteClock` built from them is kept by the process under the calendar's version (`calendar_version`,
changed by a trigger in every transaction that changes either table): a transaction reads the version alone while
it stands, and the tables again, in the same statement, when it changed — so a change is still effective at once
(issue 13: a case opened read both tables and built the schedules every time)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from registry.domain import site_clock
from registry.domain.site_clock import Override, SiteClock

# One statement, one snapshot: the version, and the tables only when the version is not the one given ($1).
_CLOCK = (
    "SELECT v.version, CASE WHEN v.version IS DISTINCT FROM $1::uuid THEN"
    " json_build_object("
    "'overrides', (SELECT coalesce(json_agg(json_build_array(country, day, kind, reason, source) ORDER BY day),"
    " '[]') FROM calendar_overrides),"
    " 'exceptions', (SELECT coalesce(json_agg(json_build_array(site_id, day, hours) ORDER BY site_id, day), '[]')"
    " FROM site_schedule_exceptions))::text END AS tables"
    " FROM calendar_version v"
)

# The clock last built in this process, and the version it was built from.
_kept: tuple[uuid.UUID, SiteClock] | None = None


class CalendarRows:
    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def site_clock(self) -> SiteClock:
        global _kept
        kept = _kept
        row = await self._db.fetchrow(_CLOCK, kept[0] if kept is not None else None)
        if row["tables"] is None:
            assert kept is not None
            return kept[1]
        tables = json.loads(row["tables"])
        overrides: dict[str, list[Override]] = {}
        for country, day, kind, reason, source in tables["overrides"]:
            overrides.setdefault(country, []).append((dt.date.fromisoformat(day), kind, reason, source))
        exceptions: dict[str, list[dict[str, Any]]] = {}
        for site_id, day, hours in tables["exceptions"]:
            exceptions.setdefault(site_id, []).append({"day": dt.date.fromisoformat(day), "hours": hours})
        clock = site_clock.build(overrides, exceptions)
        _kept = (row["version"], clock)
        return clock

    async def overrides(self, country: str | None) -> list[dict[str, Any]]:
        rows = await self._db.fetch(
            "SELECT * FROM calendar_overrides WHERE ($1::text IS NULL OR country = $1) ORDER BY day", country
        )
        return [dict(r) for r in rows]

    async def add_override(
        self, *, country: str, day: dt.date, kind: str, reason: str, source: str, by: str
    ) -> bool:
        """False when the day already has an override for the country."""
        try:
            await self._db.execute(
                "INSERT INTO calendar_overrides (country, day, kind, reason, source, created_by)"
                " VALUES ($1,$2,$3,$4,$5,$6)",
                country,
                day,
                kind,
                reason,
                source,
                by,
            )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def delete_override(self, country: str, day: dt.date) -> bool:
        deleted = await self._db.fetchval(
            "DELETE FROM calendar_overrides WHERE country=$1 AND day=$2 RETURNING 1", country, day
        )
        return bool(deleted)

    async def set_schedule_exception(
        self, site_id: str, day: dt.date, hours: list[list[str]], reason: str, by: str
    ) -> None:
        await self._db.execute(
            "INSERT INTO site_schedule_exceptions (site_id, day, hours, reason, created_by) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (site_id, day) DO UPDATE SET hours = $3, reason = $4, created_by = $5, created_at = now()",
            site_id,
            day,
            hours,
            reason,
            by,
        )
