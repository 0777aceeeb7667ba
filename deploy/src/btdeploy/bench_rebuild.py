"""The rebuild part of `make bench` (ADR 0027): births registered through the gateway, then intake's `known_records`
rebuilt from the civreg.record events its consumer kept, next to a raw aiokafka consumer reading the same topic
from the beginning on the same broker; the registry's `records` from its own streams besides. Rates in events
per second and their ratio, printed, never asserted: the machine decides them.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from btdeploy.e2e import Gateway, dev_user
from btdeploy.stack import Stack

OFFICE = "almaty-almaly"
RECORD_TOPIC = "civreg.record"
_PRINTED = re.compile(r": (\d+) events in ([0-9.]+) s")
_LOCKED = re.compile(r"the live tables locked for (\d+) ms")


@dataclass(frozen=True)
class Rate:
    events: int
    seconds: float
    # A rebuild's: how long its swap held the live tables (what requests waited at most), as it printed it.
    locked_ms: float | None = None

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def register(gw: Gateway, application_ids: list[str], concurrency: int) -> int:
    """Each application's case through the office's five steps (S002 p.5): one record each; how many made it."""
    chancellery = dev_user("registry_chancellery", OFFICE)
    head = dev_user("registry_head", OFFICE)
    executive = dev_user("registry_executive", OFFICE)
    queue = list(application_ids)
    registered = 0

    async def one(application_id: str) -> bool:
        r = await gw.as_(head, "GET", "/api/v1/cases", params={"application_id": application_id})
        if r.status_code != 200 or not r.json():
            return False
        case_id = r.json()[0]["case_id"]
        for user, action, body in (
            (chancellery, "chancellery-registration", None),
            (head, "resolution", {"executive_id": executive.username}),
            (executive, "registration", {}),
            (head, "signature", None),
            (chancellery, "dispatch", None),
        ):
            if (
                await gw.as_(user, "POST", f"/api/v1/cases/{case_id}/{action}", json=body)
            ).status_code != 200:
                return False
        return True

    async def worker() -> None:
        nonlocal registered
        while queue:
            if await one(queue.pop()):
                registered += 1

    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return registered


async def raw_read(
    kafka_options: dict[str, Any], expected: int, timeout_s: float = 120.0, topic: str = RECORD_TOPIC
) -> Rate:
    """A bare consumer (no group, no database) reading the record topic from the beginning: the broker's pace."""
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_options,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    read = 0
    try:
        while read < expected and time.perf_counter() - started < timeout_s:
            for records in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                read += len(records)
    finally:
        await consumer.stop()
    return Rate(read, time.perf_counter() - started)


def _printed_rate(what: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Rate:
    """Run `python -m <argv>` in a process of its own and read the rate it prints (`…: N events in S s`)."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", *argv], env=env, capture_output=True, text=True, check=True)
    rate = printed(done.stdout)
    if rate is None:
        raise RuntimeError(f"unexpected output of the {what}: {done.stdout!r} {done.stderr!r}")
    return rate


def printed(stdout: str) -> Rate | None:
    """The rate a command printed (`…: N events in S s`), with a rebuild's lock (`… locked for M ms`) if it said."""
    found = _PRINTED.search(stdout)
    if found is None:
        return None
    locked = _LOCKED.search(stdout)
    return Rate(int(found.group(1)), float(found.group(2)), float(locked.group(1)) if locked else None)


def replay_skeleton(dsn: str, group: str) -> Rate:
    """`python -m btdeploy.bench_replay_skeleton` (the least a rebuild from the kept history can do), run as the
    rebuild is, in a process of its own; the rate it prints."""
    return _printed_rate("replay skeleton", ["btdeploy.bench_replay_skeleton", dsn, group])


def rebuild(dsn: str, target: str, projection: str, options: Sequence[str] = ()) -> Rate:
    """`python -m btkernel.rebuild`, as an operator runs it; the rate it prints (its own time, prepare to swap)."""
    return _printed_rate(
        "rebuild",
        ["btkernel.rebuild", target, projection, *options],
        {**os.environ, "BT_DATABASE_URL": dsn, "BT_LOG_LEVEL": "WARNING"},
    )


def lines(registered: int, consumed: Rate, raw: Rate, own: Rate) -> list[str]:
    ratio = consumed.per_second / raw.per_second if raw.per_second else float("nan")
    return [
        f"{'records registered for the rebuild':<38} {registered} (through the gateway)",
        f"{'rebuild known_records (intake)':<38} {consumed.events} events in {consumed.seconds:.2f} s"
        f"   {consumed.per_second:8.0f} events/s",
        f"{'raw consumer, civreg.record':<38} {raw.events} events in {raw.seconds:.2f} s"
        f"   {raw.per_second:8.0f} events/s",
        f"{'rebuild / raw':<38} {ratio:.2f}",
        f"{'rebuild records (registry)':<38} {own.events} events in {own.seconds:.2f} s"
        f"   {own.per_second:8.0f} events/s",
    ]


async def _count(dsn: str, query: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        n: int = await conn.fetchval(query)
        return n
    finally:
        await conn.close()


async def measure(
    stack: Stack, application_ids: list[str], concurrency: int
) -> tuple[list[str], dict[str, Any]]:
    """Register the cases of `application_ids` (through the gateway, five steps each: the events are real ones),
    wait until intake has consumed every record event, then time the rebuilds and the raw read. The printed lines
    and the rates for the results file."""
    import httpx

    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60.0) as client:
        registered = await register(Gateway(client), application_ids, concurrency)
    registry_dsn, intake_dsn = stack.owner_database_url("registry"), stack.owner_database_url("intake")
    expected = await _count(registry_dsn, "SELECT count(*) FROM events WHERE stream_type = 'record'")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        consumed = "SELECT count(*) FROM processed_events WHERE consumer_group = 'intake.records'"
        if await _count(intake_dsn, consumed) >= expected:
            break
        await asyncio.sleep(0.2)
    raw = await raw_read(stack.kafka.admin_options(), expected)
    from_consumed = await asyncio.to_thread(rebuild, intake_dsn, "intake.projections", "known_records")
    own = await asyncio.to_thread(rebuild, registry_dsn, "registry.projections", "records")
    figures = {
        "record_events": expected,
        "generated_through": "the gateway (cases registered in five steps each)",
        "rebuild_known_records_per_s": from_consumed.per_second,
        "rebuild_known_records_events": from_consumed.events,
        "raw_consume_per_s": raw.per_second,
        "raw_consume_events": raw.events,
        "rebuild_records_per_s": own.per_second,
        "rebuild_records_events": own.events,
    }
    return lines(registered, from_consumed, raw, own), figures
