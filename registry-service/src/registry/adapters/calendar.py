"""The registry's working calendar in PostgreSQL: transfer decrees (`calendar_overrides`) and per-site schedule
exceptions; read into a `SiteClock` per transaction, so a change is effective at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from registry.domain import site_clock
from registry.domain.site_clock import Override, SiteClock


class CalendarRows:
    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def site_clock(self) -> SiteClock:
        overrides: dict[str, list[Override]] = {}
        for r in await self._db.fetch(
            "SELECT country, day, kind, reason, source FROM calendar_overrides ORDER BY day"
        ):
            overrides.setdefault(r["country"], []).append((r["day"], r["kind"], r["reason"], r["source"]))
        exceptions: dict[str, list[dict[str, Any]]] = {}
        for r in await self._db.fetch("SELECT site_id, day, hours FROM site_schedule_exceptions"):
            exceptions.setdefault(r["site_id"], []).append({"day": r["day"], "hours": r["hours"]})
        return site_clock.build(overrides, exceptions)

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
