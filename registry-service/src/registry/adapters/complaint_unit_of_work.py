"""The registry's unit of work with the complaints' read model bound to the same connection (the complaint use
cases also write deadline rows' source events and read the calendar)."""

from __future__ import annotations

import asyncpg

from registry.adapters.complaint_views import ComplaintViews
from registry.adapters.unit_of_work import PgRegistryUnitOfWork


class PgComplaintUnitOfWork(PgRegistryUnitOfWork):
    complaints: ComplaintViews

    def bind(self, conn: asyncpg.Connection) -> None:
        super().bind(conn)
        self.complaints = ComplaintViews(conn)
