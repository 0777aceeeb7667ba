"""P2 and P4 of `make bench` (issue 13), open loops through the gateway: submission → case opened at a moderate
fixed rate beside raw aiokafka produce → consume at the same rate (`bench_kafka`), and the sustained-rate search
over increasing rates (`bench_stats.sustained` decides each step).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from btdeploy import bench_kafka, bench_load, bench_skeleton_measure
from btdeploy.bench_stats import Step, highest_sustained, latency_summary, percentile, sustained
from btdeploy.e2e import Gateway
from btdeploy.stack import Stack

_numbers = iter(range(20_000_000, 10**9))  # application numbers for open loops: e-mails never repeat


def _say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def _ms(seconds: float) -> float:
    return seconds * 1000


async def _platform_step(
    stack: Stack, rate: float, seconds: float, catch_up_s: float
) -> tuple[Step, list[float]]:
    async with bench_load.client(stack.url("gateway"), 256) as http:
        send = await bench_load.gateway_sender(Gateway(http))
        load = await bench_load.open_loop(send, rate, seconds, first=next(_numbers))
        for _ in range(round(rate * seconds)):
            next(_numbers)
    delays = await bench_load.wait_for_cases(
        stack.database_url("registry"), list(load.accepted_at), catch_up_s
    )
    step = Step(
        rate=rate,
        offered=round(rate * seconds),
        receipts=load.accepted,
        errors=load.errors,
        late=load.late,
        receipt_p99_s=percentile(load.latencies, 99),
        case_p99_s=percentile(list(delays.values()), 99),
        backlog=load.accepted - len(delays),
    )
    return step, list(delays.values())


async def p2(
    stack: Stack,
    opts: argparse.Namespace,
    skeletons: Mapping[str, bench_skeleton_measure.Skeleton] | None = None,
) -> dict[str, Any]:
    """The platform's open loop, and the card's skeletons' at the same moments when they run (all meet the same
    fsync stalls of the disk); then the raw baselines, one after the other."""
    beside_them = dict(skeletons or {})
    _say(
        f"P2 platform: open loop {opts.p2_rate}/s for {opts.p2_seconds} s through the gateway"
        + (f", {' and '.join(beside_them)} beside it at the same rate" if beside_them else "")
    )
    (step, delays), *beside = await asyncio.gather(
        _platform_step(stack, opts.p2_rate, opts.p2_seconds, 30.0),
        *(s.open_loop(opts.p2_rate, opts.p2_seconds) for s in beside_them.values()),
    )
    _say(f"P2 raw: aiokafka produce → consume {opts.p2_rate}/s for {opts.p2_seconds} s, acks=all")
    raw, sent = await bench_kafka.produce_consume(stack.kafka, opts.p2_rate, opts.p2_seconds)
    _say("P2 raw in transactions: the same, each record in a transaction, read_committed (the relay's floor)")
    raw_tx, sent_tx = await bench_kafka.produce_consume(
        stack.kafka, opts.p2_rate, opts.p2_seconds, transactional=True
    )
    return {
        "rate": opts.p2_rate,
        "seconds": opts.p2_seconds,
        "platform_case": latency_summary(delays),
        "platform_backlog": step.backlog,
        "raw_kafka": latency_summary(raw),
        "raw_sent": sent,
        "raw_lost": sent - len(raw),
        "raw_kafka_transactions": latency_summary(raw_tx),
        "raw_transactions_lost": sent_tx - len(raw_tx),
        **{f"{key}_beside": kept for key, kept in zip(beside_them, beside, strict=True)},
    }


async def p4(stack: Stack, opts: argparse.Namespace) -> dict[str, Any]:
    steps: list[Step] = []
    for rate in opts.rates:
        # A step not kept up is tried once more before the search stops: on a shared machine one noisy step
        # would otherwise end it (both attempts are kept; `highest_sustained` credits the rate if either passed).
        for attempt in (1, 2):
            _say(
                f"P4 step: {rate}/s for {opts.step_seconds} s, then {opts.catch_up_seconds} s to catch up"
                + (" (again)" if attempt == 2 else "")
            )
            step, _ = await _platform_step(stack, rate, opts.step_seconds, opts.catch_up_seconds)
            ok, why = sustained(step)
            _say(
                f"  {rate}/s: {step.receipts}/{step.offered} receipts, receipt p99 "
                f"{_ms(step.receipt_p99_s):.0f} ms, case p99 {_ms(step.case_p99_s):.0f} ms, "
                f"backlog {step.backlog} — {why}"
            )
            steps.append(step)
            if ok:
                break
        if not ok:
            break  # higher rates would only fail the more, and cost minutes
    return {
        "sustained_per_s": highest_sustained(steps),
        "steps": [
            dataclasses.asdict(s) | {"sustained": sustained(s)[0], "why": sustained(s)[1]} for s in steps
        ],
    }
