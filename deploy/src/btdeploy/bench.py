"""`make bench`: N birth applications through the gateway with concurrency C; prints throughput, submission
latency and the delay until each case is visible in the registry office's worklist; then (own stack) registers
`--records` of them and prints the rate of rebuilding projections from the history beside a raw Kafka consumer's
(`btdeploy.bench_rebuild`). Never fails on timing.

Without --gateway it starts its own stack (PostgreSQL with fsync on, as in production) in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from btdeploy import bench_rebuild
from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application
from btdeploy.stack import PortPlan, Stack

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<38} p50 {_pct(ms, 50):8.1f} ms   p99 {_pct(ms, 99):8.1f} ms   max {max(ms, default=0):8.1f} ms"
        f"   mean {statistics.fmean(ms) if ms else 0:8.1f} ms"
    )


async def run(base_url: str, n: int, concurrency: int) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=base_url, timeout=60.0, limits=httpx.Limits(max_connections=concurrency + 4)
    ) as client:
        gw = Gateway(client)
        operator = dev_user("centre_operator", CENTRE)
        chancellery = dev_user("registry_chancellery", OFFICE)
        await gw.token(operator)
        await gw.token(chancellery)
        submitted_at: dict[str, float] = {}
        visible_at: dict[str, float] = {}
        latencies: list[float] = []
        errors = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        done = asyncio.Event()

        async def submitter() -> None:
            nonlocal errors
            while not queue.empty():
                i = queue.get_nowait()
                body = birth_application(email=f"bench-{i}@example.kz")
                t0 = time.perf_counter()
                r = await gw.as_(operator, "POST", "/api/v1/applications", json=body)
                t1 = time.perf_counter()
                if r.status_code != 201:
                    errors += 1
                    continue
                latencies.append(t1 - t0)
                submitted_at[r.json()["application_id"]] = t1

        async def watcher() -> None:
            # One worklist read per 50 ms, as an office screen that refreshes itself would.
            while not done.is_set() or len(visible_at) < len(submitted_at):
                r = await gw.as_(chancellery, "GET", "/api/v1/worklist", params={"limit": 1000})
                now = time.perf_counter()
                for case in r.json():
                    app_id = case["application_id"]
                    if app_id in submitted_at and app_id not in visible_at:
                        visible_at[app_id] = now
                if done.is_set() and time.perf_counter() - last_submit > 120:
                    break
                await asyncio.sleep(0.05)

        start = time.perf_counter()
        last_submit = start
        watch = asyncio.create_task(watcher())
        await asyncio.gather(*[submitter() for _ in range(concurrency)])
        last_submit = time.perf_counter()
        elapsed = last_submit - start
        done.set()
        await watch
        delays = [visible_at[a] - submitted_at[a] for a in visible_at]
        return {
            "n": n,
            "concurrency": concurrency,
            "elapsed_s": elapsed,
            "ok": len(latencies),
            "errors": errors,
            "throughput": len(latencies) / elapsed if elapsed else 0.0,
            "latencies": latencies,
            "delays": delays,
            "not_visible": len(submitted_at) - len(visible_at),
            "application_ids": list(submitted_at),
        }


async def commit_delays(registry_dsn: str, application_ids: list[str]) -> list[float]:
    """Submission → the case committed in the registry (from the registry's own rows): when a worklist query
    could first see it, without the polling screen's own cost (each poll returns up to 1000 cases)."""
    conn = await asyncpg.connect(registry_dsn)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM c.opened_at - (e.data->>'submitted_at')::timestamptz) AS d FROM cases c"
            " JOIN events e ON e.stream_id = c.case_id AND e.version = 1 WHERE c.application_id = ANY($1)",
            application_ids,
        )
    finally:
        await conn.close()
    return [float(r["d"]) for r in rows]


def report(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"bench: {result['ok']} applications accepted of {result['n']} (errors {result['errors']}), "
            f"concurrency {result['concurrency']}, {result['elapsed_s']:.1f} s",
            f"{'throughput':<38} {result['throughput']:.1f} applications/s",
            _line("submission latency (gateway → receipt)", result["latencies"]),
            _line("submission → seen by a worklist screen", result["delays"]),
            *(
                [_line("submission → case committed (registry)", result["commit_delays"])]
                if result.get("commit_delays")
                else []
            ),
            f"{'never became visible':<38} {result['not_visible']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--n", type=int, default=400, help="applications to submit (≤ 1000: one worklist page)"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--gateway", help="a running gateway's URL (with the development users seeded)")
    parser.add_argument(
        "--records",
        type=int,
        default=100,
        help="cases registered, then rebuilt from the history beside a raw consumer (0: none; own stack only)",
    )
    args = parser.parse_args(argv)
    n = min(args.n, 1000)
    if args.gateway:
        print(report(asyncio.run(run(args.gateway, n, args.concurrency))))
        return 0
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as tmp:
        run_dir = Path(tmp)
        run_dir.chmod(0o755)  # the postgres OS user must enter it
        stack = Stack(
            run_dir,
            PortPlan.free(),
            env_name="test",
            fast=False,
            # No trace files: the figures are the platform's own cost (tracing is off by default, ADR 0028).
            extra_env={"BT_LOG_LEVEL": "WARNING", "BT_TRACE_FILE": ""},
            progress=lambda msg: print(f"bench: {msg}", flush=True),
        )
        with stack:
            # A short warm-up so connection pools and consumer groups are settled before measuring.
            asyncio.run(run(stack.url("gateway"), 20, 4))
            result = asyncio.run(run(stack.url("gateway"), n, args.concurrency))
            result["commit_delays"] = asyncio.run(
                commit_delays(stack.database_url("registry"), result["application_ids"])
            )
            print(report(result))
            if args.records > 0:
                ids = result["application_ids"][: args.records]
                print("\n".join(asyncio.run(bench_rebuild.measure(stack, ids, args.concurrency))))
    return 0
