"""`make bench` (issue 13, "What `make bench` must show"): the platform's figures beside their bare baselines, in
ONE run on the SAME PostgreSQL (fsync on) and Kafka, each printed with its ratio, the issue's goal and a verdict
("met"/"not met", text only: it never fails on timing). This module runs the parts in order and keeps going when
one breaks:

* P1 (`bench_p1`): submissions/s through the gateway vs the bare insert endpoint and a bare proxy in front of it
  (`bench_bare`); CPU per submission per process (`bench_procs`); memory per process idle and under load.
* The card's skeletons (`bench_skeleton`, `bench_skeleton_measure`): P1's and P2's loads through the least the
  design card's shape allows (proxy → insert + one Kafka record → three consumers), and through the same shape
  held to the platform's guarantees (gapless receipts, an outbox and its relay's transactions), no goal: what any
  implementation of the card pays on this machine, beside what the platform pays.
* P2 and P4 (`bench_open`): submission → case opened p99 at a fixed rate vs raw aiokafka (`bench_kafka`); the
  highest rate sustained in increasing open-loop steps.
* The whole act (`bench_act`): acts/s and each request's p50/p99.
* P3 (`bench_p3`): rebuilding from the history vs a raw consumer of the topic, small and at scale.

What is printed: `bench_report`; each run is appended to docs/bench/results.jsonl and docs/bench/README.md
(`bench_results`). It starts its own stack (PostgreSQL with fsync on, as in production) in a temporary folder;
with --gateway it only runs P1's platform half against a running gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from btdeploy import (
    bench_act,
    bench_load,
    bench_open,
    bench_p1,
    bench_p3,
    bench_report,
    bench_results,
    bench_skeleton_measure,
)
from btdeploy.aio import run_sync
from btdeploy.bench_bare import BareProcesses
from btdeploy.bench_stats import latency_summary
from btdeploy.e2e import Gateway
from btdeploy.stack import PortPlan, Stack

T = TypeVar("T")

SKELETON_NAMES = {"skeleton": "the card's skeleton", "guaranteed": "the card's skeleton with the guarantees"}

# btkernel.settings' defaults, which Stack's test environment shortens to 2 s.
PRODUCTION_INTERVALS = {"BT_SEAL_INTERVAL_S": "60", "BT_VERIFY_INTERVAL_S": "300"}


def bench_stack(run_dir: Path, progress: Callable[[str], None]) -> Stack:
    """The platform as `make bench` (and `bench_profile`) measure it, in `run_dir` (which the postgres OS user must
    be able to enter): PostgreSQL with fsync on, Kafka, the five services on free ports."""
    return Stack(
        run_dir,
        PortPlan.free(),
        env_name="test",
        fast=False,
        # No trace files: the figures are the platform's own cost (tracing is off by default, ADR 0028).
        # The history's seal and verification rounds at production's intervals, not the tests' 2 s: a
        # verification every 2 s was a fifth of the consumers' CPU in the bench (ADR 0043).
        extra_env={"BT_LOG_LEVEL": "WARNING", "BT_TRACE_FILE": "", **PRODUCTION_INTERVALS},
        progress=progress,
    )


def _say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


async def _section(name: str, work: Callable[[], Awaitable[T]]) -> T | None:
    """One part of the bench; an exception is printed and the part reported as not measured, so one broken part
    does not cost the figures of the others."""
    _say(f"{name} ...")
    try:
        return await work()
    except Exception:
        _say(f"{name} FAILED, not measured:\n{traceback.format_exc()}")
        return None


async def _acts(stack: Stack, opts: argparse.Namespace) -> dict[str, Any]:
    concurrency = max(1, min(opts.concurrency, opts.acts))
    async with bench_load.client(stack.url("gateway"), concurrency) as http:
        acts = await bench_act.run(Gateway(http), opts.acts, concurrency, first=30_000_000)
    return {
        "completed": acts.completed,
        "failed": acts.failed,
        "concurrency": concurrency,
        "elapsed_s": acts.elapsed_s,
        "per_second": acts.per_second,
        "steps": {name: latency_summary(values) for name, values in acts.timings.items()},
        "_timings": acts.timings,
    }


async def measure_all(stack: Stack, bare: BareProcesses, opts: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    results["p1"] = await _section("P1", lambda: bench_p1.measure(stack, bare, opts))
    skeletons = (
        {
            "skeleton": bench_skeleton_measure.Skeleton(stack, bare.dsn, bare.log_dir),
            "guaranteed": bench_skeleton_measure.Skeleton(stack, bare.dsn, bare.log_dir, guarantees=True),
        }
        if opts.skeleton
        else {}
    )
    try:
        for key, skeleton in skeletons.items():
            results[key] = await _section(SKELETON_NAMES[key], functools.partial(skeleton.p1, opts))
        running = {key: s for key, s in skeletons.items() if s.processes is not None}
        results["p2"] = await _section("P2", lambda: bench_open.p2(stack, opts, running))
    finally:
        for skeleton in skeletons.values():
            await skeleton.close()
    results["p4"] = await _section("P4", lambda: bench_open.p4(stack, opts))
    results["acts"] = await _section("the whole act", lambda: _acts(stack, opts)) if opts.acts else None
    if opts.rebuild_events:
        # Cases opened by the load above, registered now: real record events, made through the gateway.
        ids = await bench_p3.opened_applications(stack, opts.rebuild_events)
        results["p3"] = await _section("P3", lambda: bench_p3.small(stack, ids, opts))
    if opts.rebuild_scale:
        results["p3_scale"] = await _section("P3 at scale", lambda: bench_p3.at_scale(stack, opts))
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a run of about 2–3 minutes")
    parser.add_argument("--n", type=int, help="P1: submissions per side (default 400; quick 100)")
    parser.add_argument("--concurrency", type=int, default=16, help="P1 and the acts (default 16)")
    parser.add_argument("--p2-rate", type=float, default=5.0, help="P2: arrivals per second (default 5)")
    parser.add_argument("--p2-seconds", type=float, help="P2: seconds at that rate (default 20; quick 8)")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        help="P4: rates per second to try, increasing (default 10,20,30,42,60,80,100; quick 10,20,42)",
    )
    parser.add_argument("--step-seconds", type=float, help="P4: seconds per step (default 15; quick 6)")
    parser.add_argument(
        "--catch-up-seconds",
        type=float,
        default=5.0,
        help="P4: time the registry gets after a step (default 5)",
    )
    parser.add_argument("--acts", type=int, help="whole acts to run (default 60; quick 10; 0: none)")
    parser.add_argument(
        "--rebuild-events",
        type=int,
        help="P3: cases registered (five steps each, through the gateway) before the rebuild, besides the whole "
        "acts' (default 100; quick 20; 0: no P3)",
    )
    parser.add_argument(
        "--rebuild-scale",
        type=int,
        help="P3 at scale: record events written straight into scratch databases and a scratch topic, then "
        "rebuilt beside a raw consumer; the P3 goal judges this one (default 20000; quick 2000; 0: none)",
    )
    parser.add_argument(
        "--no-skeleton",
        dest="skeleton",
        action="store_false",
        help="leave out the card's skeletons (proxy → insert + Kafka → three consumers) beside P1 and P2",
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=3.0, help="idle CPU window before P1 (default 3)"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=bench_results.default_dir(),
        help="where results.jsonl and README.md get this run (default docs/bench)",
    )
    parser.add_argument(
        "--gateway", help="only P1's platform half, against a running gateway (dev users seeded)"
    )
    return parser


def options(argv: list[str] | None = None) -> argparse.Namespace:
    opts = _parser().parse_args(argv)
    defaults: dict[str, Any] = (
        {
            "n": 100,
            "p2_seconds": 8.0,
            "rates": [10.0, 20.0, 42.0],
            "step_seconds": 6.0,
            "acts": 10,
            "rebuild_events": 20,
            "rebuild_scale": 2000,
        }
        if opts.quick
        else {
            "n": 400,
            "p2_seconds": 20.0,
            "rates": [10.0, 20.0, 30.0, 42.0, 60.0, 80.0, 100.0],
            "step_seconds": 15.0,
            "acts": 60,
            "rebuild_events": 100,
            "rebuild_scale": 20_000,
        }
    )
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    if opts.gateway:

        async def against_gateway() -> bench_load.Load:
            async with bench_load.client(opts.gateway, opts.concurrency) as http:
                send = await bench_load.gateway_sender(Gateway(http))
                return await bench_load.closed_loop(send, opts.n, opts.concurrency)

        load = asyncio.run(against_gateway())
        print(f"{load.throughput:.1f} submissions/s ({load.accepted} accepted, {load.errors} errors)")
        print(bench_report.lat_line("submission latency", load.latencies))
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as tmp:
        run_dir = Path(tmp)
        run_dir.chmod(0o755)  # the postgres OS user must enter it
        stack = bench_stack(run_dir, _say)
        with stack:
            run_sync(stack.postgres.create_database(bench_p1.BARE_DATABASE))
            with BareProcesses(run_dir / "logs", stack.postgres.owner_dsn(bench_p1.BARE_DATABASE)) as bare:
                results = asyncio.run(measure_all(stack, bare, opts))
    figs = bench_report.figures(results)
    print(bench_report.report(results, figs))
    args = {k: v for k, v in vars(opts).items() if k not in ("results_dir", "gateway")}
    run = bench_results.record(args | {"wall_s": round(time.monotonic() - started)}, figs, results)
    jsonl, readme = bench_results.write(opts.results_dir, run, figs)
    print(f"\nbench: this run's figures appended to {jsonl} and {readme}")
    return 0
