"""httpx's transport on the one-pass pool (btkernel.http_pool): httpcore's decisions, made in one pass."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpcore

from btkernel.http_pool import HTTPCORE_VERSION, SWEEP_S, OnePassPool


def test_the_pinned_httpcore_is_the_one_the_pass_was_written_for() -> None:
    """The pass replaces a private method: an httpcore of another version must be looked at again (and, if it
    fixed its pass, `btkernel.http_pool` dropped)."""
    assert httpcore.__version__ == HTTPCORE_VERSION


@dataclass(eq=False)
class FakeConnection:
    """A pooled connection as the pass sees it. `calls` counts every question asked of it."""

    name: str
    origin: str
    state: str  # "idle", "active", "new" or "closed"
    expired: bool = False
    calls: list[int] = field(default_factory=lambda: [0])

    def _asked(self) -> None:
        self.calls[0] += 1

    def is_closed(self) -> bool:
        self._asked()
        return self.state == "closed"

    def has_expired(self) -> bool:
        self._asked()
        return self.expired

    def is_idle(self) -> bool:
        self._asked()
        return self.state == "idle"

    def is_available(self) -> bool:
        self._asked()
        return self.state == "idle"

    def can_handle_request(self, origin: str) -> bool:
        self._asked()
        return origin == self.origin


@dataclass
class _Url:
    origin: str


@dataclass
class _Request:
    url: _Url


@dataclass(eq=False)
class FakePoolRequest:
    request: _Request
    connection: Any = None

    def is_queued(self) -> bool:
        return self.connection is None

    def assign_to_connection(self, connection: Any) -> None:
        self.connection = connection


def _pool(cls: type[httpcore.AsyncConnectionPool], state: dict[str, Any]) -> httpcore.AsyncConnectionPool:
    """A pool of `cls` holding copies of `state`'s connections and requests; new connections are named in turn."""
    pool = cls(max_connections=state["max_connections"], max_keepalive_connections=state["max_keepalive"])
    pool._connections = [FakeConnection(**c) for c in state["connections"]]  # type: ignore[list-item]
    pool._requests = [  # type: ignore[list-item]
        FakePoolRequest(_Request(_Url(r["origin"])), r.get("connection")) for r in state["requests"]
    ]
    made = iter(range(1000))

    def create_connection(origin: str) -> FakeConnection:
        return FakeConnection(f"new{next(made)}", origin, "new")

    pool.create_connection = create_connection  # type: ignore[assignment,method-assign]
    return pool


def _outcome(pool: httpcore.AsyncConnectionPool, closing: list[Any]) -> tuple[Any, ...]:
    def name(c: Any) -> str | None:
        return None if c is None else str(getattr(c, "name", c))

    return (
        [name(c) for c in pool._connections],
        [name(c) for c in closing],
        [name(r.connection) for r in pool._requests],
    )


def _random_state(rng: random.Random, *, queued: int) -> dict[str, Any]:
    origins = ["a", "b"]
    connections = [
        {
            "name": f"c{i}",
            "origin": rng.choice(origins),
            "state": rng.choice(["idle", "idle", "active", "new", "closed"]),
            "expired": rng.random() < 0.2,
        }
        for i in range(rng.randint(0, 12))
    ]
    requests = [{"origin": rng.choice(origins)} for _ in range(queued)]
    # Some requests are under way on a connection already (not queued).
    requests += [{"origin": "a", "connection": "busy"} for _ in range(rng.randint(0, 2))]
    rng.shuffle(requests)
    return {
        "max_connections": rng.randint(1, 10),
        "max_keepalive": rng.randint(0, 8),
        "connections": connections,
        "requests": requests,
    }


def test_the_one_pass_decides_what_httpcore_decides() -> None:
    """Over random pools — closed, expired, idle, busy and new connections to two origins, a queued request or none,
    every limit — on a pass that asks every connection whether it expired (a pool's first): the same connections
    kept in the same order, the same ones closed, the same assignment."""
    rng = random.Random(20261205)
    changed = 0
    for _ in range(3000):
        state = _random_state(rng, queued=rng.randint(0, 1))
        theirs = _pool(httpcore.AsyncConnectionPool, state)
        ours = _pool(OnePassPool, state)
        expected = _outcome(theirs, theirs._assign_requests_to_connections())
        assert _outcome(ours, ours._assign_requests_to_connections()) == expected, state
        changed += expected != _outcome(_pool(OnePassPool, state), [])
    # The random pools did exercise the pass: most of them changed something.
    assert changed > 2000


def _promised_state(rng: random.Random) -> tuple[dict[str, Any], set[str]]:
    """A random pool in which some idle connections are promised to requests that have not begun on them."""
    state = _random_state(rng, queued=rng.randint(2, 6))
    # A pool never holds more than its limit.
    state["max_connections"] = max(state["max_connections"], len(state["connections"]))
    idle = [c["name"] for c in state["connections"] if c["state"] == "idle" and not c["expired"]]
    promised = set(rng.sample(idle, k=rng.randint(0, len(idle))))
    state["requests"] += [{"origin": "a", "connection": name} for name in sorted(promised)]
    return state, promised


def _pool_with_promises(state: dict[str, Any]) -> OnePassPool:
    pool = _pool(OnePassPool, state)
    by_name = {c.name: c for c in pool._connections}  # type: ignore[attr-defined]
    for r in pool._requests:
        if isinstance(r.connection, str) and r.connection in by_name:  # type: ignore[attr-defined]
            r.connection = by_name[r.connection]  # type: ignore[attr-defined]
    return pool


def test_each_idle_connection_goes_to_one_request_and_a_promised_one_to_no_other() -> None:
    """Several queued requests: httpcore hands one idle connection to all of them (all but one then fail on it and
    queue again, each setting off another pass), and closes a connection it promised to a request as surplus or to
    make room. The one pass hands each to one request, keeps the promised ones, and leaves a request queued only
    when the pool is full with nothing idle to replace."""
    rng = random.Random(5)
    for _ in range(3000):
        state, promised = _promised_state(rng)
        pool = _pool_with_promises(state)
        closing = pool._assign_requests_to_connections()
        kept = {c.name for c in pool._connections}  # type: ignore[attr-defined]
        holders: dict[str, int] = {}
        for r in pool._requests:
            name = getattr(r.connection, "name", None)
            if name is not None:
                holders[name] = holders.get(name, 0) + 1
        assert all(n == 1 for n in holders.values()), state
        assert promised <= kept, state
        assert not promised & {c.name for c in closing}, state
        assert len(pool._connections) <= state["max_connections"], state
        if any(r.is_queued() for r in pool._requests):
            assert len(pool._connections) == state["max_connections"], state
            assert not [
                c
                for c in pool._connections
                if c.name not in holders and c.is_idle()  # type: ignore[attr-defined]
            ], state


def test_between_sweeps_only_a_connection_about_to_be_handed_out_is_asked_whether_it_expired() -> None:
    """Asking an idle connection polls its socket: a pass asks all of them once every SWEEP_S; between, only the
    one about to be handed out, and one that expired is closed and the next one taken."""
    state = {
        "max_connections": 10,
        "max_keepalive": 10,
        "connections": [
            {"name": "stale", "origin": "a", "state": "idle", "expired": True},
            {"name": "good", "origin": "a", "state": "idle"},
            *({"name": f"other{i}", "origin": "b", "state": "idle", "expired": i == 0} for i in range(5)),
        ],
        "requests": [{"origin": "a"}],
    }
    pool = _pool(OnePassPool, state)
    pool._swept_at = time.monotonic()  # swept just now
    asked: list[str] = []
    for c in pool._connections:
        c.has_expired = lambda c=c: asked.append(c.name) or c.expired  # type: ignore[attr-defined,method-assign,misc]
    closing = pool._assign_requests_to_connections()
    assert asked == ["stale", "good"]
    assert [c.name for c in closing] == ["stale"]  # type: ignore[attr-defined]
    assert pool._requests[0].connection.name == "good"  # type: ignore[attr-defined]
    # The expired connection to the other origin waits for the next sweep, which closes it.
    pool._swept_at -= SWEEP_S
    asked.clear()
    closing = pool._assign_requests_to_connections()
    assert [c.name for c in closing] == ["other0"]  # type: ignore[attr-defined]
    assert len(asked) == len(state["connections"]) - 1


def test_a_pass_asks_each_connection_a_few_questions_however_many_there_are() -> None:
    """200 idle connections and a request: httpcore 1.0.9 asks ~40,000 questions (every connection counts all of
    them again); the one pass asks a few of each."""

    def questions(cls: type[httpcore.AsyncConnectionPool]) -> int:
        state = {
            "max_connections": 400,
            "max_keepalive": 400,
            "connections": [{"name": f"c{i}", "origin": "b", "state": "idle"} for i in range(200)],
            "requests": [{"origin": "a"}],
        }
        pool = _pool(cls, state)
        pool._assign_requests_to_connections()
        return sum(c.calls[0] for c in pool._connections[:200])  # type: ignore[attr-defined]

    assert questions(httpcore.AsyncConnectionPool) > 200 * 200
    assert questions(OnePassPool) <= 200 * 6
