"""The background work of a service process, one lifecycle for all of it: started with the app, restarted after
its own failures with a growing pause, cancelled and awaited when the app stops.

* `Loop` runs a long body (the consumer's consume loop, the outbox relay as leader) and runs it again when it
  raises: the body's surroundings (broker, database) may come back. The body calls `loop.backoff.reset()` once it
  is going again (connected, leader), so the pause grows only while starting keeps failing.
* `Periodic` runs a short job every `interval_s` (the deadline scheduler, the storage sweep, notification
  delivery); a failing round is logged and the next one comes after the same interval. `busy` says from a round's
  result that more is waiting, and the next round starts at once instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from btkernel import logging as btlog

log = btlog.get(__name__)


class Backoff:
    """Pauses between restarts: `initial_s`, doubling up to `max_s`, back to `initial_s` on `reset()`."""

    def __init__(self, initial_s: float = 1.0, max_s: float = 5.0) -> None:
        if initial_s < 0 or max_s < initial_s:
            raise ValueError("a backoff needs 0 <= initial_s <= max_s")
        self.initial_s = initial_s
        self.max_s = max_s
        self._next = initial_s

    def next(self) -> float:
        """The pause before this restart; the following one is twice as long, up to `max_s`."""
        delay = self._next
        self._next = min(self.max_s, max(self._next * 2, self.initial_s))
        return delay

    def reset(self) -> None:
        self._next = self.initial_s


class Loop:
    """Runs `body` in its own task until `stop()`; when it raises, logs `error_event` (with `fields`) and runs it
    again after `backoff.next()`. A body that returns ends the loop: it only does so when told to stop."""

    def __init__(
        self,
        name: str,
        body: Callable[[], Awaitable[object]],
        *,
        backoff: Backoff | None = None,
        error_event: str = "loop_failed",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.body = body
        self.backoff = backoff or Backoff()
        self.error_event = error_event
        self.fields = dict(fields or {})
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: a body's own loop checks it between rounds."""
        return self._stopping

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it: whatever the body holds is released by its own `finally`."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Exception too: stopping must never fail the app's shutdown.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def run(self) -> None:
        """The loop itself, in the caller's task (what `start()` runs in a task of its own)."""
        while not self._stopping:
            try:
                await self.body()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the surroundings may come back: log, pause, run the body again
                self.failures += 1
                delay = self.backoff.next()
                log.warning(
                    self.error_event, loop=self.name, error=repr(exc), retry_in_s=delay, **self.fields
                )
                await asyncio.sleep(delay)


class Periodic(Loop):
    """Runs `job` every `interval_s`, surviving its failures (the next round comes after the same interval), until
    stopped. With `busy`, a round whose result says more is waiting is followed by the next one at once."""

    def __init__(
        self,
        name: str,
        job: Callable[[], Awaitable[Any]],
        interval_s: float,
        *,
        busy: Callable[[Any], bool] | None = None,
        error_event: str = "periodic_job_failed",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            name,
            self._rounds,
            backoff=Backoff(interval_s, interval_s),
            error_event=error_event,
            fields={"job": name, **(fields or {})},
        )
        self.job = job
        self.interval_s = interval_s
        self.busy = busy

    async def _rounds(self) -> None:
        while not self.stopping:
            result = await self.job()
            if self.busy is not None and self.busy(result):
                # Yield to the loop all the same: a job that is always busy must not starve the process.
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(self.interval_s)
