"""Command line: `python -m btdeploy kafka-fetch | run | bench | partners | k8s` (`make kafka`, `make run`, `make bench`
call the first three; `partners onboard|revoke <agency>` manages partner agencies on the broker)."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from typing import Any

from btdeploy import kafka, paths
from btdeploy.stack import PortPlan, Stack


def _kafka_fetch(_args: argparse.Namespace) -> int:
    lib = kafka.fetch()
    print(f"Kafka jars in {lib}")
    return 0


def _run(_args: argparse.Namespace) -> int:
    stopping = threading.Event()
    # Handlers first: a Ctrl-C while things start must still stop what has started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stack = Stack(paths.repo_root() / ".run", PortPlan.fixed(), progress=lambda msg: print(msg, flush=True))
    start_error: list[BaseException] = []

    def start() -> None:
        # In a thread, so the main thread stays free to notice Ctrl-C; Stack.start() cleans up after itself.
        try:
            stack.start()
        except BaseException as exc:
            start_error.append(exc)

    try:
        starting = threading.Thread(target=start, name="stack-start", daemon=True)
        starting.start()
        while starting.is_alive() and not stopping.is_set():
            starting.join(0.2)
        if stopping.is_set():
            print("stopping ...", flush=True)
            stack.cancel.set()
            starting.join()
            return 130
        if start_error:
            print(f"could not start: {start_error[0]}", file=sys.stderr)
            return 1
        _print_welcome(stack)
        warned: set[str] = set()
        while not stopping.wait(1.0):
            for name, process in stack.services.items():
                if not process.running and name not in warned:
                    warned.add(name)
                    print(
                        f"{name} exited (code {process.returncode}); see {process.log_path}", file=sys.stderr
                    )
        print("stopping ...", flush=True)
        return 0
    finally:
        stack.stop()


def _print_welcome(stack: Stack) -> None:
    info = stack.summary()
    print()
    print(f"Bir Tereze is running. Gateway: {info['gateway']}   API docs: {info['gateway']}/docs")
    print(f"Mail sent by the platform lands in {info['mail_dir']}")
    # The SMS provider's stand-in (ADR 0038): each SMS a JSON line; its script shows the delivery reports too.
    print(
        f"SMS land in {info['sms_dir']}/messages.jsonl (provider stand-in {info['sms']}, "
        f"messages and reports: {info['sms']}/_script/messages)"
    )
    print(f"Service logs in {info['logs']}; PostgreSQL {info['postgres']}; Kafka {info['kafka']}")
    print(f"Traces (one JSON span a line) in {info['logs']}/<service>.traces.jsonl")
    users = _dev_users()
    if users:
        print("Development users:")
        for user in users:
            print(f"  {user.username:<20} {user.password:<20} {user.role:<22} {user.site or ''}")
    print("Ctrl-C stops everything.", flush=True)


def _dev_users() -> list[Any]:
    # Imported lazily: the gateway is written by others and may not have its seed yet.
    try:
        seed = importlib.import_module("gateway.seed")
    except ImportError:
        return []
    return list(getattr(seed, "DEV_USERS", []))


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["bench"]:
        # The benchmark parses its own options: argparse's REMAINDER does not pass on leading `--n 200`.
        from btdeploy import bench

        return int(bench.main(raw[1:]) or 0)
    if raw[:1] == ["partners"]:
        from btdeploy import partners

        return partners.main(raw[1:])
    if raw[:1] == ["k8s"]:
        from btdeploy.k8s import generate

        return generate.main(raw[1:])
    parser = argparse.ArgumentParser(prog="python -m btdeploy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("kafka-fetch", help="fetch Apache Kafka's jars from Maven Central").set_defaults(
        handler=_kafka_fetch
    )
    commands.add_parser("run", help="start everything on the fixed ports; Ctrl-C stops it").set_defaults(
        handler=_run
    )
    # Listed for --help only: `bench` is dispatched above with its own options.
    commands.add_parser("bench", help="throughput and latency through the gateway (see `bench --help`)")
    commands.add_parser(
        "partners", help="onboard or revoke a partner agency on Kafka (see `partners --help`)"
    )
    commands.add_parser(
        "k8s", help="write deploy/k8s/generated/ from the tables `make run` uses (see `k8s --help`)"
    )
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
