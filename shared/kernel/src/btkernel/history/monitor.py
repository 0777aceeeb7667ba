"""The history's work inside a running service: seal every BT_SEAL_INTERVAL_S (and once more at shutdown), verify
every BT_VERIFY_INTERVAL_S, and answer /health's `history` check from the last verification — a broken chain makes
the service `unavailable`, with the first finding as the reason.

A round hashes again only the events written since the last clean one (`verify(since=...)`, issue 13); the first
round, one after a finding, and one at least every `FULL_EVERY_S` hash them all."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from btkernel import logging as btlog
from btkernel.health import OK, Check
from btkernel.history import keys as history_keys
from btkernel.history.ledger import latest_seals, seal
from btkernel.history.verify import Checked, Report, verify
from btkernel.loops import Periodic
from btkernel.settings import ServiceSettings

log = btlog.get(__name__)

# A verification hashes every event again at least this often (seconds).
FULL_EVERY_S = 3600.0


def _now() -> float:
    return time.monotonic()


class HistoryMonitor:
    def __init__(self, *, service: str, pool: asyncpg.Pool, settings: ServiceSettings) -> None:
        self.service = service
        self.pool = pool
        self.key = history_keys.private_key(settings.partner_signing_key_file)
        self.public: dict[str, Ed25519PublicKey] | None = (
            history_keys.by_id([self.key.public_key()]) if self.key is not None else None
        )
        self.last: Report | None = None
        self._error: str | None = None
        # Where the last clean verification stood, and when the last full one began.
        self._checked: Checked | None = None
        self._full_at: float | None = None
        self._loops: list[Periodic] = []
        if self.key is not None and settings.seal_interval_s > 0:
            self._loops.append(Periodic(f"history-seal-{service}", self.seal, settings.seal_interval_s))
        if settings.verify_interval_s > 0:
            self._loops.append(Periodic(f"history-verify-{service}", self.verify, settings.verify_interval_s))

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()
        if self.key is not None:
            # What happened since the last round is sealed too: the next start's seal would come later.
            with contextlib.suppress(Exception):
                await self.seal()

    async def seal(self) -> dict[str, Any] | None:
        if self.key is None:
            return None
        async with self.pool.acquire() as conn:
            document = await seal(conn, self.key, self.service)
        if document is not None:
            log.info("history_sealed", position=document["position"], head=document["head"])
        return document

    async def verify(self) -> Report:
        started = _now()
        full = self._full_at is None or started - self._full_at >= FULL_EVERY_S
        since = None if full else self._checked
        try:
            async with self.pool.acquire() as conn:
                report = await verify(conn, self.public, since=since)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            raise
        if since is None:
            self._full_at = started
        # A broken history is verified whole again next round: what was found is not taken as checked.
        self._checked = report.checked if report.ok else None
        self._error = None
        self.last = report
        if not report.ok:
            log.error(
                "history_broken", findings=[str(f) for f in report.findings[:5]], total=len(report.findings)
            )
        return report

    def check(self) -> Check:
        """Answers at once from the last verification (no I/O)."""
        if self.last is not None and self.last.first is not None:
            more = len(self.last.findings) - 1
            return Check(
                "unavailable",
                f"the history is broken: {self.last.first}"
                + (f" (and {more} more)" if more else "")
                + "; `python -m btkernel.history verify` lists them",
            )
        if self._error is not None:
            return Check("degraded", f"the history could not be verified: {self._error}")
        return OK

    async def seals(self, limit: int = 10) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await latest_seals(conn, limit)
