"""Where a submission's time goes in intake (issue 13, P1/P4): a burst of birth applications of ONE centre at
concurrency C through the intake app in-process, on a private PostgreSQL with fsync on, as in production.

    .venv/bin/python intake-service/tests/perf/bench_submit.py --n 400 --concurrency 16 [--profile out.prof]

Prints throughput and latency; database statements per submission (asyncpg's query logger, by kind); how long
the receipt counter's row lock is held (the counter statement answered → COMMIT answered, per transaction); how
many sessions wait on a lock on average (pg_stat_activity sampled every 5 ms); and the process's CPU per
submission (client, ASGI and intake in one process: the figure to compare between runs, not an absolute).
Not a test: `make test` does not collect it (no test_ prefix), and it never fails on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import logging
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from btdeploy.ports import free_port
from btdeploy.postgres import PostgresServer
from btdeploy.samples import birth_application
from btkernel import db, testing
from btkernel.testing import actor_headers

CENTRE = "almaty-con-1"


class Statements:
    """Every statement intake's pool ran, by kind, and the counter's lock hold per transaction. asyncpg calls a
    query logger soon after the statement answered (call_soon), so both ends of a hold are late alike."""

    def __init__(self) -> None:
        self.kinds: collections.Counter[str] = collections.Counter()
        self.holds: list[float] = []
        self._taken: dict[int, float] = {}

    def attach(self, conn: asyncpg.Connection) -> None:
        key = id(conn)

        def log(record: Any) -> None:
            now = time.perf_counter()
            kind = _kind(" ".join(record.query.split()))
            self.kinds[kind] += 1
            if kind == "counter":
                self._taken[key] = now
            elif kind in ("COMMIT", "ROLLBACK") and key in self._taken:
                self.holds.append(now - self._taken.pop(key))

        conn.add_query_logger(log)


def _kind(query: str) -> str:
    q = query.upper()
    if q.startswith("INSERT INTO RECEIPT_COUNTERS"):
        return "counter"
    if q.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
        return q.split()[0].rstrip(";")
    words = q.split()
    for i, w in enumerate(words):
        if w in ("INTO", "FROM", "UPDATE") and i + 1 < len(words):
            return f"{words[0]} {words[i + 1].strip('(')}"
    return words[0] if words else "?"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def _ms(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    mean = statistics.fmean(ms) if ms else float("nan")
    return f"{name:<34} p50 {_pct(ms, 50):7.1f} ms  p99 {_pct(ms, 99):7.1f} ms  mean {mean:7.1f} ms"


async def _sample_lock_waits(admin_dsn: str, dbname: str, stop: asyncio.Event) -> list[int]:
    conn = await asyncpg.connect(admin_dsn)
    samples: list[int] = []
    try:
        while not stop.is_set():
            samples.append(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname=$1 AND wait_event_type='Lock'",
                    dbname,
                )
            )
            await asyncio.sleep(0.005)
    finally:
        await conn.close()
    return samples


async def _burst(
    client: httpx.AsyncClient, n: int, concurrency: int, headers: dict[str, str]
) -> tuple[list[float], int, float]:
    todo = list(range(n))
    latencies: list[float] = []
    errors = 0

    async def submitter() -> None:
        nonlocal errors
        while todo:
            i = todo.pop()
            body = birth_application(email=f"bench-{i}@example.kz")
            t0 = time.perf_counter()
            r = await client.post(
                "/api/v1/applications", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            if r.status_code != 201:
                errors += 1
                if errors == 1:
                    print(f"bench: first error {r.status_code} {r.text[:300]}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*[submitter() for _ in range(concurrency)])
    return latencies, errors, time.perf_counter() - start


async def measure(
    server: PostgresServer, n: int, concurrency: int, profile: Path | None, log: Callable[[str], None]
) -> None:
    from intake.main import build_app
    from intake.settings import IntakeSettings

    dbname = f"bench_{uuid.uuid4().hex[:8]}"
    await server.create_database(dbname)
    statements = Statements()
    original_init = db._init_connection

    async def init(conn: asyncpg.Connection) -> None:
        await original_init(conn)
        statements.attach(conn)

    db._init_connection = init  # the bench's own hook on intake's pool
    settings = IntakeSettings(
        database_url=server.owner_dsn(dbname),
        relay_enabled=False,
        consumers_enabled=False,
        storage_sweep_enabled=False,
        log_level="WARNING",
    )
    headers = actor_headers("op-bench", "centre_operator", CENTRE, "Бенчмарк Оператор")
    async with testing.serve(lambda: build_app(settings)) as client:
        await _burst(client, 20, 4, headers)  # warm-up: pool connections, caches, first imports
        statements.kinds.clear()
        statements.holds.clear()
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_lock_waits(server.admin_dsn(), dbname, stop))
        profiler = cProfile.Profile() if profile else None
        cpu0 = time.process_time()
        if profiler:
            profiler.enable()
        latencies, errors, elapsed = await _burst(client, n, concurrency, headers)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - cpu0
        stop.set()
        waits = await sampler
    ok = len(latencies)
    log(f"bench: {ok} of {n} accepted (errors {errors}), concurrency {concurrency}, {elapsed:.2f} s")
    log(f"{'throughput':<34} {ok / elapsed:7.1f} submissions/s")
    log(_ms("latency (in-process intake)", latencies))
    log(_ms("counter lock hold", statements.holds))
    log(f"{'sessions waiting on a lock (mean)':<34} {statistics.fmean(waits) if waits else 0:7.2f}")
    log(f"{'CPU of this process / submission':<34} {cpu / max(ok, 1) * 1000:7.2f} ms")
    total = sum(statements.kinds.values())
    log(f"{'statements / submission':<34} {total / max(ok, 1):7.2f}")
    for kind, count in statements.kinds.most_common():
        log(f"    {kind:<30} {count / max(ok, 1):6.2f}")
    if profiler and profile:
        profiler.dump_stats(str(profile))
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(45)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the burst here and print its top")
    args = parser.parse_args(argv)
    testing.trust_test_key(["intake"])
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the bench's own client, one INFO line per request
    with tempfile.TemporaryDirectory(prefix="bt-bench-submit-") as tmp:
        run_dir = Path(tmp)
        run_dir.chmod(0o755)  # the postgres OS user must enter it
        server = PostgresServer(run_dir / "postgres", free_port(), fast=False)  # fsync on
        server.start()
        try:
            asyncio.run(measure(server, args.n, args.concurrency, args.profile, print))
        finally:
            server.stop()
            server.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
