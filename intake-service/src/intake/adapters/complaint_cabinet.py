"""The personal cabinet's complaint notifications on PostgreSQL (`cabinet_complaint_notifications`)."""

from __future__ import annotations

import datetime as dt

import asyncpg


class PgComplaintCabinet:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def follows(self, complaint_id: str) -> bool:
        """Whether the cabinet shows this complaint (it was sent through the portal, or escalated from one)."""
        found: bool = await self.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM cabinet_complaint_notifications WHERE complaint_id = $1)",
            complaint_id,
        )
        return found

    async def add(self, event_id: str, complaint_id: str, kind: str, text: str, at: dt.datetime) -> None:
        # The consumer handles one complaint's events in order (one partition per subject): the next version is
        # the count so far.
        await self.conn.execute(
            "INSERT INTO cabinet_complaint_notifications (event_id, complaint_id, version, kind, text, notified_at)"
            " SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5 FROM cabinet_complaint_notifications"
            " WHERE complaint_id = $2 ON CONFLICT (event_id) DO NOTHING",
            event_id,
            complaint_id,
            kind,
            text,
            at,
        )
