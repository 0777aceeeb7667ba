"""The least a rebuild from the kept history can do: the card's skeleton for `make bench`'s P3 (issue 13, ADR 0043).

A consumer group's kept envelopes (`processed_events`) read in the order the rebuild reads them, each decoded, and
one row per event copied into a new table, in one transaction per process that does not wait for its fsync, with
the partitions shared among one process per core, as `btkernel.rebuild`'s first pass shares them. No validation,
upcasting or projection: what the rebuild adds over this is what those cost. The tables are dropped afterwards,
outside the time.

    python -m btdeploy.bench_replay_skeleton DSN GROUP [--processes N]

prints `skeleton: N events in S s (R/s)`, the time from the first process's fork to the last one's commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time

import asyncpg

BATCH = 2000  # rows per fetch and per COPY, as the rebuild's default batch
TABLE = "bench_replay_skeleton"


def shard_table(shard: int) -> str:
    return f"{TABLE}_{shard}"


async def replay_shard(dsn: str, group: str, shard: int, shards: int) -> int:
    """Partitions `p` with `p % shards == shard`; how many events were copied."""
    conn = await asyncpg.connect(dsn)
    copied = 0
    try:
        await conn.execute("SET synchronous_commit TO off")
        async with conn.transaction():
            await conn.execute(
                f"CREATE TABLE {shard_table(shard)} (event_id text PRIMARY KEY, subject text NOT NULL,"
                " type text NOT NULL)"
            )
            # As the rebuild's first pass reads them (`btkernel.rebuild._kept_in_index_order`): by the replay index.
            await conn.execute("SET LOCAL enable_sort = off")
            cursor = await conn.cursor(
                "SELECT envelope::text FROM processed_events WHERE consumer_group = $1"
                " AND kafka_partition % $2 = $3 ORDER BY topic, kafka_partition, kafka_offset",
                group,
                shards,
                shard,
            )
            while rows := await cursor.fetch(BATCH):
                decoded = [json.loads(r[0]) for r in rows]
                await conn.copy_records_to_table(
                    shard_table(shard),
                    records=[(e["id"], e["subject"], e["type"]) for e in decoded],
                    columns=("event_id", "subject", "type"),
                )
                copied += len(rows)
    finally:
        await conn.close()
    return copied


def _shard(args: tuple[str, str, int, int]) -> int:
    return asyncio.run(replay_shard(*args))


async def drop(dsn: str, shards: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for shard in range(shards):
            await conn.execute(f"DROP TABLE IF EXISTS {shard_table(shard)}")
    finally:
        await conn.close()


def replay(dsn: str, group: str, processes: int) -> tuple[int, float]:
    """Events copied and seconds taken, `processes` shards at once (forked: this process has no threads)."""
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        copied = sum(pool.map(_shard, [(dsn, group, shard, processes) for shard in range(processes)]))
    elapsed = time.perf_counter() - started
    asyncio.run(drop(dsn, processes))
    return copied, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m btdeploy.bench_replay_skeleton", description=__doc__)
    parser.add_argument("dsn")
    parser.add_argument("group")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    copied, seconds = replay(args.dsn, args.group, max(1, args.processes))
    print(f"skeleton: {copied} events in {seconds:.3f} s ({copied / seconds if seconds else 0:.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
