"""Where the platform's CPU goes under a burst of submissions (issue 13): `python -m btdeploy.bench_profile
--out DIR [--n 600] [--concurrency 16]` starts the bench's stack (PostgreSQL with fsync on, Kafka with SASL, the
five services) in a temporary folder, warms it, then records every service with py-spy (sampling, from outside
the process) while the closed loop of P1 runs, and writes one collapsed-stack file per service
(`DIR/<service>.txt`, flamegraph.pl's input) plus a summary of the hottest functions (self and inclusive samples).

py-spy is a developer's tool, not a dependency of the platform: `pip install py-spy` into the venv first. It never
fails on timing and is not part of `make bench` or `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from btdeploy import bench_load
from btdeploy.bench import bench_stack
from btdeploy.e2e import Gateway
from btdeploy.stack import Stack

SERVICES = ("gateway", "intake", "registry", "notification", "fee")


def _say(msg: str) -> None:
    print(f"profile: {msg}", flush=True)


async def _profiled_burst(
    stack: Stack, n: int, concurrency: int, record: Callable[[], list[subprocess.Popen[bytes]]]
) -> tuple[bench_load.Load, list[subprocess.Popen[bytes]]]:
    """Sign in and warm up (pools, consumer groups), then start the recorders and run the burst: the operator's
    sign-in (scrypt in the gateway, ~0.1 s of CPU) is not in the recording, as `make bench` keeps it out of P1's CPU
    window. The recorders are returned running, the consumers downstream given 3 s to finish."""
    async with bench_load.client(stack.url("gateway"), concurrency) as http:
        send = await bench_load.gateway_sender(Gateway(http))
        await bench_load.closed_loop(send, 60, 4, first=50_000_000)
        recorders = record()
        load = await bench_load.closed_loop(send, n, concurrency, first=51_000_000)
        await asyncio.sleep(3)
    return load, recorders


def summarise(collapsed: Path, top: int = 40) -> str:
    """The functions with the most samples: self (the stack's leaf) and inclusive (anywhere in the stack)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{collapsed.stem}: {total} samples", "  self:"]
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("  inclusive:")
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m btdeploy.bench_profile", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    opts = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(__file__).resolve().parents[3] / ".venv/bin/py-spy")
    opts.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bt-profile-") as tmp:
        run_dir = Path(tmp)
        run_dir.chmod(0o755)
        stack = bench_stack(run_dir, _say)
        with stack:
            pids = stack.pids()

            def record() -> list[subprocess.Popen[bytes]]:
                return [
                    subprocess.Popen(
                        [
                            py_spy,
                            "record",
                            "--pid",
                            str(pids[service][0]),
                            "--format",
                            "raw",
                            "--rate",
                            str(opts.rate),
                            "--output",
                            str(opts.out / f"{service}.txt"),
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for service in SERVICES
                ]

            load, recorders = asyncio.run(_profiled_burst(stack, opts.n, opts.concurrency, record))
            for rec in recorders:
                rec.send_signal(signal.SIGINT)
            for rec in recorders:
                rec.wait(timeout=30)
    _say(f"{load.accepted} submissions, {load.throughput:.1f}/s, {load.errors} errors")
    summary = "\n\n".join(
        summarise(opts.out / f"{s}.txt") for s in SERVICES if (opts.out / f"{s}.txt").exists()
    )
    (opts.out / "summary.txt").write_text(summary + "\n")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
