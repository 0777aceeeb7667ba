"""A service's instances behind the gateway: which one gets the next request, and which to try when it is away.

`BT_<SERVICE>_URL` may list several base URLs, comma-separated (two processes of a stateless service sharing its
database and Kafka group, docs/adr/0029-more-than-one-machine.md). Each request goes to the instance with the fewest
requests in flight, ties taken in turn (round robin), so a slow instance gets less. An instance the gateway could
not connect to is passed over for `away_s`, then tried again by the next request that picks it: there is no
separate prober, the traffic itself finds out when it is back. When every instance is marked away, they are all
tried all the same: a mark is a guess, a connection attempt is the truth.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence


def split_urls(value: str) -> tuple[str, ...]:
    """The base URLs of one `BT_<SERVICE>_URL`, without trailing slashes; at least one."""
    urls = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    if not urls:
        raise ValueError(f"no URL in {value!r}")
    return urls


class Instances:
    def __init__(
        self,
        service: str,
        bases: Sequence[str],
        *,
        away_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not bases:
            raise ValueError(f"{service} has no instance")
        self.service = service
        self.bases = tuple(base.rstrip("/") for base in bases)
        self.away_s = away_s
        self._clock = clock
        self._in_flight = dict.fromkeys(self.bases, 0)
        self._away_until = dict.fromkeys(self.bases, 0.0)
        self._turn = itertools.count()

    def __len__(self) -> int:
        return len(self.bases)

    def pick(self) -> str:
        """The base URL for the next request: fewest in flight among those not marked away, in turn on a tie."""
        now = self._clock()
        present = [b for b in self.bases if self._away_until[b] <= now] or list(self.bases)
        fewest = min(self._in_flight[b] for b in present)
        tied = [b for b in present if self._in_flight[b] == fewest]
        return tied[next(self._turn) % len(tied)]

    def failover_order(self, first: str) -> list[str]:
        """`first`, then the others (those not marked away before those that are), each once."""
        now = self._clock()
        others = [b for b in self.bases if b != first]
        others.sort(key=lambda b: self._away_until[b] > now)
        return [first, *others]

    def base_of(self, url: str) -> str | None:
        """Which instance `url` was made for (the proxy builds it from `pick()`)."""
        for base in self.bases:
            if url == base or url.startswith(base + "/") or url.startswith(base + "?"):
                return base
        return None

    def mark_away(self, base: str) -> None:
        self._away_until[base] = self._clock() + self.away_s

    def mark_present(self, base: str) -> None:
        self._away_until[base] = 0.0

    def is_away(self, base: str) -> bool:
        return self._away_until[base] > self._clock()

    @contextlib.contextmanager
    def in_flight(self, base: str) -> Iterator[None]:
        self._in_flight[base] += 1
        try:
            yield
        finally:
            self._in_flight[base] -= 1

    def load(self) -> dict[str, int]:
        return dict(self._in_flight)


class Picks(Mapping[str, str]):
    """`gateway.upstreams[service]`: each lookup is a pick, so the proxy and the OpenAPI fetch spread too."""

    def __init__(self, instances: Mapping[str, Instances]) -> None:
        self._instances = instances

    def __getitem__(self, service: str) -> str:
        return self._instances[service].pick()

    def __iter__(self) -> Iterator[str]:
        return iter(self._instances)

    def __len__(self) -> int:
        return len(self._instances)
