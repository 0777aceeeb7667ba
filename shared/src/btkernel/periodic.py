"""A job run every few seconds in the background of a service, surviving its own failures, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from btkernel import logging as btlog

log = btlog.get(__name__)


class Periodic:
    def __init__(self, name: str, job: Callable[[], Awaitable[object]], interval_s: float) -> None:
        self.name = name
        self.job = job
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next round may succeed: a database restart must not end the job
                log.warning("periodic_job_failed", job=self.name, error=repr(exc))
            await asyncio.sleep(self.interval_s)
