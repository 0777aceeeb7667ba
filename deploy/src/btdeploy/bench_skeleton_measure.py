"""The card's skeleton (`bench_skeleton`) measured by `make bench` (issue 13) as the platform is: P1's closed loop
(same bodies, count and concurrency) with CPU per submission per process over a window that closes once all three
consumers have kept every submission, and P2's open loop (same rate and length) with submission → kept by the
skeleton's registry, as the platform's submission → case opened. P2's runs beside the platform's, at the same
moments: on this machine a p99 of 100 arrivals is mostly the disk's fsync stalls (ADR 0043), and two loops run
minutes apart meet different stalls (the skeleton's alone measured 9–67 ms p99 in three runs).

What is counted, so that the figure is a floor and not inflated by the platform resting beside it: the skeleton's
five processes, PostgreSQL's backends on the bare database (as the bare endpoint's figure), and the broker's CPU
above its rate at rest just before (the platform's consumers' long polls, and the skeleton's own, are left out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


class Skeleton:
    """The skeleton's processes on a scratch topic of their own, started by the first measurement that needs them
    and kept until `close`, so that P2 can run its open loop at the same moments as the platform's."""

    def __init__(self, stack: Stack, dsn: str, log_dir: Path, *, guarantees: bool = False) -> None:
        self.stack, self.dsn, self.log_dir, self.guarantees = stack, dsn, log_dir, guarantees
        # Application numbers of its loads apart from the other skeleton's, so e-mails never repeat either's.
        self.first = FIRST + (5_000_000 if guarantees else 0)
        self._topics = contextlib.AsyncExitStack()
        self.processes: SkeletonProcesses | None = None

    async def start(self) -> SkeletonProcesses:
        if self.processes is None:
            topic = await self._topics.enter_async_context(
                bench_kafka.scratch_topic(
                    self.stack.kafka, "bench.guaranteed" if self.guarantees else "bench.skeleton"
                )
            )
            processes = SkeletonProcesses(
                self.log_dir, self.dsn, self.stack.kafka.admin_options(), topic, guarantees=self.guarantees
            )
            await asyncio.to_thread(processes.__enter__)
            self.processes = processes
        return self.processes

    async def close(self) -> None:
        if self.processes is not None:
            await asyncio.to_thread(self.processes.__exit__)
            self.processes = None
        await self._topics.aclose()

    async def p1(self, opts: argparse.Namespace) -> dict[str, Any]:
        return await _p1(self.stack, await self.start(), self.dsn, opts, self.first)

    async def open_loop(self, rate: float, seconds: float) -> dict[str, Any]:
        """P2's open loop through the skeleton: submission → kept, per consumer."""
        processes = await self.start()
        async with bench_load.client(processes.proxy.url, 256) as http:
            load = await bench_load.open_loop(
                bench_load.bare_sender(http), rate, seconds, first=self.first + 2_000_000
            )
        kept = await wait_consumed(self.dsn, list(load.accepted_at), CATCH_UP_S)
        return {
            "accepted": load.accepted,
            "kept": {role: latency_summary(list(kept[role].values())) for role in ROLES},
            "not_kept": {role: load.accepted - len(kept[role]) for role in ROLES},
        }


async def _p1(
    stack: Stack, skeleton: SkeletonProcesses, dsn: str, opts: argparse.Namespace, first: int
) -> dict[str, Any]:
    broker = {"kafka": stack.pids().get("kafka", [])}
    async with bench_load.client(skeleton.proxy.url, opts.concurrency) as http:
        send = bench_load.bare_sender(http)
        # Warm-up: the pools, the producer, the groups' first fetches.
        warm = await bench_load.closed_loop(send, 20, 4, first=first)
        await wait_consumed(dsn, list(warm.accepted_at), CATCH_UP_S)
        groups = {**skeleton.pids(), "postgres (skeleton backends)": await bare_backends(stack), **broker}

        rest0 = bench_procs.cpu_seconds(broker, bench_procs.all_stats())
        await asyncio.sleep(opts.idle_seconds)
        rest = bench_procs.cpu_delta(rest0, bench_procs.cpu_seconds(broker, bench_procs.all_stats()))
        broker_rest_per_s = rest["kafka"] / opts.idle_seconds

        _say(
            f"{skeleton.name} P1: {opts.n} submissions through the bare proxy, concurrency {opts.concurrency}"
        )
        before = bench_procs.cpu_seconds(groups, bench_procs.all_stats())
        window_start = time.perf_counter()
        load = await bench_load.closed_loop(send, opts.n, opts.concurrency, first=first + 1_000_000)
        kept = await wait_consumed(dsn, list(load.accepted_at), CATCH_UP_S)
        window_s = time.perf_counter() - window_start
        used = bench_procs.cpu_delta(before, bench_procs.cpu_seconds(groups, bench_procs.all_stats()))

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
    }
