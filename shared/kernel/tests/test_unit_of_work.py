"""The seedwork on fakes: a pure aggregate, the in-memory event store and the fake unit of work behave as their
PostgreSQL counterparts do (optimistic concurrency, rollback unless committed), so use-case tests can trust them."""

from __future__ import annotations

import datetime as dt

import pytest

from btkernel import errors, problems
from btkernel.aggregate import Aggregate
from btkernel.context import new_context
from btkernel.testing import FakeUnitOfWork, InMemoryEventStore
from civreg.events.case import CaseRegisteredInChancellery

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


class Tally(Aggregate):
    STREAM_TYPE = "case"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.by: list[str] = []

    def register(self, by: str) -> None:
        if by in self.by:
            raise errors.RuleViolation(f"{by} registered already", code="twice")
        self.record(CaseRegisteredInChancellery(case_id=self.id, registered_at=NOW, registered_by=by))

    def when_CaseRegisteredInChancellery(self, e: CaseRegisteredInChancellery) -> None:
        self.by.append(e.registered_by)


async def _register(uow: FakeUnitOfWork, stream_id: str, by: str) -> None:
    async with uow:
        tally = await uow.events.load_aggregate(Tally, stream_id) or Tally(stream_id)
        tally.register(by)
        await uow.events.save(tally, new_context(), "/t")
        await uow.commit()


async def test_a_committed_change_is_kept_and_announced() -> None:
    uow = FakeUnitOfWork()
    await _register(uow, "k1", "a")
    await _register(uow, "k1", "b")
    assert uow.commits == 2
    assert uow.events.types("k1") == ["kz.civreg.case.registered-in-chancellery.v1"] * 2
    assert [env.data["registered_by"] for env in uow.appended] == ["b"]
    assert [topic for topic, _ in uow.events.outbox] == ["civreg.case", "civreg.case"]
    loaded = await uow.events.load_aggregate(Tally, "k1")
    assert loaded is not None
    assert (loaded.by, loaded.version, loaded.pending) == (["a", "b"], 2, [])


async def test_a_refusal_halfway_leaves_nothing_behind() -> None:
    uow = FakeUnitOfWork()
    await _register(uow, "k1", "a")
    # PT012: a unit of work that writes and then raises is what is under test.
    with pytest.raises(errors.RuleViolation):  # noqa: PT012
        async with uow:
            tally = await uow.events.load_aggregate(Tally, "k1")
            assert tally is not None
            await uow.events.save(Tally.fold("k2", []), new_context(), "/t")  # nothing pending: no-op
            other = Tally("k3")
            other.register("x")
            await uow.events.save(other, new_context(), "/t")
            tally.register("a")  # refused after another stream was written: that write must go too
    assert uow.commits == 1
    assert uow.rollbacks == 1
    assert "k3" not in uow.events.streams
    assert uow.appended == ()


async def test_leaving_without_commit_rolls_back() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        t = Tally("k1")
        t.register("a")
        await uow.events.save(t, new_context(), "/t")
    assert uow.events.streams.get("k1", []) == []
    assert not uow.committed


async def test_a_stale_aggregate_is_a_concurrency_conflict() -> None:
    store = InMemoryEventStore()
    store.given("k1", CaseRegisteredInChancellery(case_id="k1", registered_at=NOW, registered_by="a"))
    first = await store.load_aggregate(Tally, "k1")
    second = await store.load_aggregate(Tally, "k1")
    assert first is not None
    assert second is not None
    first.register("b")
    await store.save(first, new_context(), "/t")
    second.register("c")
    with pytest.raises(errors.ConcurrencyConflict) as caught:
        await store.save(second, new_context(), "/t")
    assert caught.value.code == "concurrent_change"
    assert second.pending, "a refused save keeps the pending events, to show or retry"
    assert [s.data["registered_by"] for s in await store.load("k1")] == ["a", "b"]


def test_domain_errors_render_with_their_old_statuses() -> None:
    # problems re-exports the domain's errors under their old names and maps each kind to its HTTP status.
    assert problems.NotFound is errors.NotFound
    assert problems.Problem is errors.DomainError
    cases = [
        (errors.NotFound("x"), 404),
        (errors.Forbidden("x"), 403),
        (errors.Conflict("x"), 409),
        (errors.ConcurrencyConflict("x"), 409),
        (errors.RuleViolation("x"), 422),
        (errors.InvalidInput("x", field="body.a"), 422),
        (problems.Unauthorized("x"), 401),
        (problems.Unavailable("x"), 503),
    ]
    assert [problems.status_of(e) for e, _ in cases] == [status for _, status in cases]
    assert errors.InvalidInput("too long", field="body.a").errors == [
        {"path": "body.a", "reason": "too long"}
    ]


def test_the_domain_base_does_no_io() -> None:
    import ast
    import inspect

    from btkernel import aggregate

    for module in (aggregate, errors):
        tree = ast.parse(inspect.getsource(module))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
        }
        assert not imported & {"asyncpg", "fastapi", "aiokafka", "starlette", "httpx"}, module.__name__
