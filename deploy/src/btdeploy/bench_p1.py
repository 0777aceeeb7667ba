"""P1 of `make bench` (issue 13): submissions through the gateway beside the bare insert endpoint and the bare
proxy in front of it (`bench_bare`), same bodies, count and concurrency, in one run; CPU per submission per process
from /proc (`bench_procs`) over a window that closes once the work the submissions set off downstream is done; the
platform's idle CPU; memory per process idle and under load.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from typing import Any

import asyncpg

from btdeploy import bench_load, bench_procs
from btdeploy.bench_bare import BareProcesses
from btdeploy.bench_stats import latency_summary
from btdeploy.e2e import Gateway
from btdeploy.stack import Stack

BARE_DATABASE = "bt_bench_bare"
SETTLE_S = 2.0  # after P1's last case opened, for the consumers downstream of it


def _say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def _ms(seconds: float) -> float:
    return seconds * 1000


async def bare_backends(stack: Stack) -> list[int]:
    """The PostgreSQL backends on the bare database (the bare endpoint's pool; the card's skeleton's too, once it
    runs): the bare run's share of the server, without the platform's idle polling that runs meanwhile."""
    conn = await asyncpg.connect(stack.postgres.admin_dsn())
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", BARE_DATABASE)
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


def load_dict(load: bench_load.Load) -> dict[str, Any]:
    return {
        "accepted": load.accepted,
        "errors": load.errors,
        "late": load.late,
        "elapsed_s": load.elapsed_s,
        "per_second": load.throughput,
        "latency": latency_summary(load.latencies),
        "client_cpu_ms_per_request": 1000 * load.client_cpu_s / max(load.accepted + load.errors, 1),
    }


async def measure(stack: Stack, bare: BareProcesses, opts: argparse.Namespace) -> dict[str, Any]:
    platform_groups = stack.pids()
    bare_groups = {"bare endpoint": [bare.endpoint.pid or 0], "bare proxy": [bare.proxy.pid or 0]}
    out: dict[str, Any] = {}
    async with bench_load.client(stack.url("gateway"), opts.concurrency) as http:
        gw = Gateway(http)
        send = await bench_load.gateway_sender(gw)
        await bench_load.closed_loop(send, 20, 4, first=10_000_000)  # warm-up: pools, consumer groups
        async with (
            bench_load.client(bare.endpoint.url, opts.concurrency) as bare_http,
            bench_load.client(bare.proxy.url, opts.concurrency) as proxy_http,
        ):
            await bench_load.closed_loop(bench_load.bare_sender(bare_http), 20, 4)
            await bench_load.closed_loop(bench_load.bare_sender(proxy_http), 20, 4)
            # The warm-up's aftermath (its events projected, its relays' transactions, the broker's work on them)
            # would otherwise be read as the platform at rest: the broker's "idle" ranged 47–417 ms/s over runs,
            # and its share above idle fell to 1.4 ms a submission in the worst, against 3.5–8.9 in the others.
            out["quiet_after_s"] = await bench_procs.wait_until_quiet(platform_groups)
            everything = {**platform_groups, **bare_groups}
            out["memory_idle_mib"] = bench_procs.memory_mib(everything, bench_procs.all_stats())
            # The platform at rest: its timers, relays and consumers' polls, to read the loaded figures against.
            idle0 = bench_procs.cpu_seconds(platform_groups, bench_procs.all_stats())
            await asyncio.sleep(opts.idle_seconds)
            idle = bench_procs.cpu_delta(
                idle0, bench_procs.cpu_seconds(platform_groups, bench_procs.all_stats())
            )
            out["idle_cpu_ms_per_s"] = {k: _ms(v) / opts.idle_seconds for k, v in idle.items()}

            _say(f"P1 platform: {opts.n} submissions through the gateway, concurrency {opts.concurrency}")
            before = bench_procs.cpu_seconds(platform_groups, bench_procs.all_stats())
            window_start = time.perf_counter()
            with bench_procs.PeakMemory(platform_groups) as peak:
                platform = await bench_load.closed_loop(send, opts.n, opts.concurrency)
                # The window closes after the work the submissions set off downstream (cases opened, then the
                # notification and fee consumers' share), not when the last receipt is back.
                delays = await bench_load.wait_for_cases(
                    stack.database_url("registry"), list(platform.accepted_at), opts.catch_up_seconds * 4
                )
                await asyncio.sleep(SETTLE_S)
            used = bench_procs.cpu_delta(
                before, bench_procs.cpu_seconds(platform_groups, bench_procs.all_stats())
            )
            window_s = time.perf_counter() - window_start
            out["memory_load_mib"] = dict(peak.peak)

            _say(f"P1 bare: {opts.n} submissions to the bare endpoint, concurrency {opts.concurrency}")
            backends = await bare_backends(stack)
            bare_cpu_groups = {
                "bare endpoint": bare_groups["bare endpoint"],
                "postgres (bare backends)": backends,
            }
            server = {"postgres (whole server)": platform_groups.get("postgres", [])}
            b_before = bench_procs.cpu_seconds({**bare_cpu_groups, **server}, bench_procs.all_stats())
            with bench_procs.PeakMemory(bare_groups) as bare_peak:
                bare_load = await bench_load.closed_loop(
                    bench_load.bare_sender(bare_http), opts.n, opts.concurrency
                )
            b_used = bench_procs.cpu_delta(
                b_before, bench_procs.cpu_seconds({**bare_cpu_groups, **server}, bench_procs.all_stats())
            )

            _say(f"P1 bare proxy: {opts.n} submissions through the bare proxy to the bare endpoint")
            p_before = bench_procs.cpu_seconds(bare_groups, bench_procs.all_stats())
            with bench_procs.PeakMemory(bare_groups) as proxy_peak:
                proxied = await bench_load.closed_loop(
                    bench_load.bare_sender(proxy_http), opts.n, opts.concurrency
                )
            p_used = bench_procs.cpu_delta(
                p_before, bench_procs.cpu_seconds(bare_groups, bench_procs.all_stats())
            )

    out["memory_load_mib"] |= {
        "bare endpoint": bare_peak.peak.get("bare endpoint", math.nan),
        "bare proxy": proxy_peak.peak.get("bare proxy", math.nan),
    }
    per = max(platform.accepted, 1)
    # What the load added to the platform at rest (its timers and consumers' polls run all the time), for reading
    # the totals: the goal is judged on the totals, as the issue measured them.
    above_idle = {
        k: max(0.0, _ms(v) - out["idle_cpu_ms_per_s"].get(k, 0.0) * window_s) / per for k, v in used.items()
    }
    out |= {
        "platform": load_dict(platform) | {"submission_to_case": latency_summary(list(delays.values()))},
        "bare": load_dict(bare_load),
        "proxy": load_dict(proxied),
        "cpu_ms_per_submission": {k: _ms(v) / per for k, v in used.items()},
        "cpu_ms_per_submission_above_idle": above_idle,
        "cpu_window_s": window_s,
        "bare_cpu_ms_per_submission": {
            k: _ms(v) / max(bare_load.accepted, 1) for k, v in b_used.items() if k in bare_cpu_groups
        },
        "bare_run_whole_postgres_ms_per_submission": _ms(b_used["postgres (whole server)"])
        / max(bare_load.accepted, 1),
        "proxy_cpu_ms_per_submission": {k: _ms(v) / max(proxied.accepted, 1) for k, v in p_used.items()},
    }
    out["cpu_total_ms"] = sum(out["cpu_ms_per_submission"].values())
    out["bare_cpu_total_ms"] = sum(out["bare_cpu_ms_per_submission"].values())
    return out
