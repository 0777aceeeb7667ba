"""What the broker charges for the relay's guarantee (issue 13, ADR 0043): `python -m btdeploy.bench_broker
[--seconds 20] [--rate 10]` starts a broker as `make bench` does (SASL, ACLs, C1 only) in a temporary folder and
measures, on it alone and after a warm-up:

* the broker's CPU per record for plain idempotent produces (acks=all) and per one-record transaction (begin, send,
  commit; spaced so that no AddPartitionsToTxn is refused while the previous commit's markers are written), above
  the broker's idle CPU measured in the same run;
* produce → consume latency at `--rate` per second, plain (read_uncommitted) and a transaction per record
  (read_committed), as `make bench`'s P2 baselines measure it.

It prints figures and never fails on timing; it is not part of `make bench` or `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from btdeploy import bench_kafka, bench_procs
from btdeploy import kafka as kafka_mod
from btdeploy.bench_stats import latency_summary
from btdeploy.kafka import KafkaServer
from btdeploy.ports import free_ports

RECORD = b"x" * 800  # about a kept envelope's size
# Longer than a commit's markers take on this machine: the next transaction's AddPartitionsToTxn is not refused
# with CONCURRENT_TRANSACTIONS (aiokafka would wait 20 ms and ask again, an extra request).
TRANSACTION_GAP_S = 0.03


def process_cpu_s(pid: int) -> float:
    """User and system CPU of a process, all its threads (and its children's, none for the JVM)."""
    return bench_procs.cpu_seconds({"broker": [pid]}, bench_procs.all_stats())["broker"]


async def cpu_per_record(
    kafka: KafkaServer, seconds: float, *, transactional: bool, idle_ms_per_s: float
) -> float:
    """Broker CPU in ms per record sent for `seconds` (one at a time), above its idle CPU."""
    async with bench_kafka.scratch_topic(kafka, "bench.broker") as topic:
        producer = bench_kafka.raw_producer(kafka.admin_options(), topic, transactional=transactional)
        await producer.start()
        try:
            return await _send_one_at_a_time(kafka, producer, topic, seconds, transactional, idle_ms_per_s)
        finally:
            await producer.stop()


async def _send_one_at_a_time(
    kafka: KafkaServer,
    producer: AIOKafkaProducer,
    topic: str,
    seconds: float,
    transactional: bool,
    idle_ms_per_s: float,
) -> float:
    """Broker CPU in ms per record, `producer` sending one at a time for `seconds`, above its idle CPU."""
    pid = kafka.pid
    assert pid is not None
    sent, before, started = 0, process_cpu_s(pid), time.perf_counter()
    while time.perf_counter() - started < seconds:
        if transactional:
            async with producer.transaction():
                await producer.send_and_wait(topic, RECORD, key=str(sent).encode())
            await asyncio.sleep(TRANSACTION_GAP_S)
        else:
            await producer.send_and_wait(topic, RECORD, key=str(sent).encode())
        sent += 1
    wall = time.perf_counter() - started
    used_ms = (process_cpu_s(pid) - before) * 1000 - idle_ms_per_s * wall
    return used_ms / sent


async def measure(kafka: KafkaServer, seconds: float, rate: float) -> dict[str, Any]:
    pid = kafka.pid
    assert pid is not None
    # A fresh broker compiles its hot paths for the first seconds of load: those are not what a record costs.
    for transactional in (False, True):
        await cpu_per_record(kafka, seconds / 2, transactional=transactional, idle_ms_per_s=0.0)
    before = process_cpu_s(pid)
    await asyncio.sleep(seconds / 2)
    idle = (process_cpu_s(pid) - before) * 1000 / (seconds / 2)
    plain_cpu = await cpu_per_record(kafka, seconds, transactional=False, idle_ms_per_s=idle)
    tx_cpu = await cpu_per_record(kafka, seconds, transactional=True, idle_ms_per_s=idle)
    plain, _ = await bench_kafka.produce_consume(kafka, rate, seconds)
    tx, _ = await bench_kafka.produce_consume(kafka, rate, seconds, transactional=True)
    return {
        "idle_cpu_ms_per_s": idle,
        "cpu_ms_per_plain_record": plain_cpu,
        "cpu_ms_per_transaction": tx_cpu,
        "plain_latency": latency_summary(plain),
        "transaction_latency": latency_summary(tx),
    }


def lines(m: dict[str, Any], rate: float) -> list[str]:
    plain, tx = m["plain_latency"], m["transaction_latency"]
    return [
        f"broker idle                                 {m['idle_cpu_ms_per_s']:7.1f} ms of CPU per second",
        f"broker CPU per plain record (acks=all)       {m['cpu_ms_per_plain_record']:7.2f} ms",
        f"broker CPU per one-record transaction        {m['cpu_ms_per_transaction']:7.2f} ms"
        f"   ({m['cpu_ms_per_transaction'] / m['cpu_ms_per_plain_record']:.1f}× a plain record)",
        f"produce → consume at {rate}/s, plain          p50 {plain['p50_ms']:6.2f}  p99 {plain['p99_ms']:6.2f} ms",
        f"produce → consume at {rate}/s, transaction    p50 {tx['p50_ms']:6.2f}  p99 {tx['p99_ms']:6.2f} ms"
        f"   (p99 {tx['p99_ms'] / plain['p99_ms']:.1f}× plain)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m btdeploy.bench_broker",
        description="The broker's CPU and latency for plain produces and one-record transactions (issue 13).",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement (default 20)")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="records per second for the latency (default 10)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bt-bench-broker-") as tmp:
        kafka_mod.fetch(quiet=True)
        port, controller = free_ports(2)
        kafka = KafkaServer(Path(tmp) / "kafka", port, controller)
        kafka.launch()
        try:
            kafka.wait_ready()
            print(
                "\n".join(lines(asyncio.run(measure(kafka, args.seconds, args.rate)), args.rate)), flush=True
            )
        finally:
            kafka.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
