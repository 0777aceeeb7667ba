"""The card's skeleton (`bench_skeleton`) measured by `make bench` (issue 13) as the platform is: P1's closed loop
(same bodies, count and concurrency) with CPU per submission per process over a window that closes once all three
consumers have kept every submission, and P2's open loop (same rate and length) with submission → kept by the
skeleton's registry, as the platform's submission → case opened.

What is counted, so that the figure is a floor and not inflated by the platform resting beside it: the skeleton's
five processes, PostgreSQL's backends on the bare database (as the bare endpoint's figure), and the broker's CPU
above its rate at rest just before (the platform's consumers' long polls, and the skeleton's own, are left out).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from btdeploy import bench_kafka, bench_load, bench_procs
from btdeploy.bench_p1 import bare_backends, load_dict
from btdeploy.bench_skeleton import ROLES, SkeletonProcesses, wait_consumed
from btdeploy.bench_stats import latency_summary
from btdeploy.stack import Stack

FIRST = 40_000_000  # application numbers of the skeleton's loads: e-mails never repeat the platform's
CATCH_UP_S = 60.0


def _say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def _ms(seconds: float) -> float:
    return seconds * 1000


async def measure(stack: Stack, bare_dsn: str, log_dir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    async with bench_kafka.scratch_topic(stack.kafka, "bench.skeleton") as topic:
        skeleton = SkeletonProcesses(log_dir, bare_dsn, stack.kafka.admin_options(), topic)
        await asyncio.to_thread(skeleton.__enter__)
        try:
            return await _measure(stack, skeleton, bare_dsn, opts)
        finally:
            await asyncio.to_thread(skeleton.__exit__)


async def _measure(
    stack: Stack, skeleton: SkeletonProcesses, dsn: str, opts: argparse.Namespace
) -> dict[str, Any]:
    broker = {"kafka": stack.pids().get("kafka", [])}
    async with bench_load.client(skeleton.proxy.url, opts.concurrency) as http:
        send = bench_load.bare_sender(http)
        # Warm-up: the pools, the producer, the groups' first fetches.
        warm = await bench_load.closed_loop(send, 20, 4, first=FIRST)
        await wait_consumed(dsn, list(warm.accepted_at), CATCH_UP_S)
        groups = {**skeleton.pids(), "postgres (skeleton backends)": await bare_backends(stack), **broker}

        rest0 = bench_procs.cpu_seconds(broker, bench_procs.all_stats())
        await asyncio.sleep(opts.idle_seconds)
        rest = bench_procs.cpu_delta(rest0, bench_procs.cpu_seconds(broker, bench_procs.all_stats()))
        broker_rest_per_s = rest["kafka"] / opts.idle_seconds

        _say(f"skeleton P1: {opts.n} submissions through the bare proxy, concurrency {opts.concurrency}")
        before = bench_procs.cpu_seconds(groups, bench_procs.all_stats())
        window_start = time.perf_counter()
        load = await bench_load.closed_loop(send, opts.n, opts.concurrency, first=FIRST + 1_000_000)
        kept = await wait_consumed(dsn, list(load.accepted_at), CATCH_UP_S)
        window_s = time.perf_counter() - window_start
        used = bench_procs.cpu_delta(before, bench_procs.cpu_seconds(groups, bench_procs.all_stats()))

        _say(f"skeleton P2: open loop {opts.p2_rate}/s for {opts.p2_seconds} s")
        open_load = await bench_load.open_loop(send, opts.p2_rate, opts.p2_seconds, first=FIRST + 2_000_000)
        p2_kept = await wait_consumed(dsn, list(open_load.accepted_at), CATCH_UP_S)

    per = max(load.accepted, 1)
    used["kafka"] = max(0.0, used["kafka"] - broker_rest_per_s * window_s)
    cpu = {("kafka (above its rest)" if k == "kafka" else k): _ms(v) / per for k, v in used.items()}
    return {
        "load": load_dict(load),
        "not_kept": {role: load.accepted - len(kept[role]) for role in ROLES},
        "cpu_ms_per_submission": cpu,
        "cpu_total_ms": sum(cpu.values()),
        "cpu_window_s": window_s,
        "broker_rest_ms_per_s": _ms(broker_rest_per_s),
        "p2": {
            "rate": opts.p2_rate,
            "seconds": opts.p2_seconds,
            "accepted": open_load.accepted,
            "kept": {role: latency_summary(list(p2_kept[role].values())) for role in ROLES},
            "not_kept": {role: open_load.accepted - len(p2_kept[role]) for role in ROLES},
        },
    }
