"""In-memory sliding-window guards against password guessing and password spraying on the token endpoint."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


class FailureGuard:
    """Counts failures per key within a sliding window; once `limit` are counted the key is blocked until the
    oldest one leaves the window. Per process: several gateway processes each allow `limit`, which still
    turns guessing into a trickle."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        # Bounded so that guessing random user names cannot grow memory without end; least recent go first.
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until `key` may try again, or None when it may try now."""
        now = self._clock()
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window_s - now))

    def fail(self, key: str) -> None:
        now = self._clock()
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque()
        times.append(now)
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeed(self, key: str) -> None:
        # A correct password proves the earlier failures were typos, not an attack in progress.
        self._failures.pop(key, None)


@dataclass(frozen=True)
class Blocked:
    """Why the token endpoint refuses to try a password now, and for how long."""

    retry_after_s: int
    reason: str


class SignInGuard:
    """The sign-in rule of ADR 0021, two sliding windows over failed sign-ins:

    * per (client address, user name): guessing one account's password from one place stops after
      `per_name` failures;
    * per client address, whatever the names: spraying a few passwords over many accounts stops after
      `per_address` failures.

    Neither counts a user name alone, so failures from a stranger's address never block the account's owner
    signing in from another one. A success forgets the failures of its own pair only: knowing one password must
    not buy an address more guesses at the others."""

    def __init__(
        self,
        per_name: int,
        per_address: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pairs = FailureGuard(per_name, window_s, clock=clock)
        self._addresses = FailureGuard(per_address, window_s, clock=clock)

    @staticmethod
    def _pair(address: str, username: str) -> str:
        # An address never contains a NUL, so no two pairs share a key whatever the user name holds.
        return f"{address}\0{username}"

    def blocked(self, address: str, username: str) -> Blocked | None:
        if (wait := self._addresses.retry_after(address)) is not None:
            return Blocked(wait, "too many failed sign-ins from this address")
        if (wait := self._pairs.retry_after(self._pair(address, username))) is not None:
            return Blocked(wait, f"too many failed sign-ins for {username} from this address")
        return None

    def fail(self, address: str, username: str) -> None:
        self._addresses.fail(address)
        self._pairs.fail(self._pair(address, username))

    def succeed(self, address: str, username: str) -> None:
        self._pairs.succeed(self._pair(address, username))
