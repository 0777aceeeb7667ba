"""Runs one service's outbox relay as its own process: `python -m btkernel.relay` with BT_* settings.

The kernel's settings, not the service's: give the service's own values where it changes the kernel's defaults
(intake's relay: BT_RELAY_ROUND_INTERVAL_S=0.1 and BT_RELAY_BUSY_COMMITS_PER_S=20, as `IntakeSettings` has it)."""

from __future__ import annotations

import asyncio
import signal

from btkernel import logging as btlog
from btkernel import tracing
from btkernel.kafka_client import client_options
from btkernel.outbox import OutboxRelay
from btkernel.settings import ServiceSettings


async def _main() -> None:
    settings = ServiceSettings()
    btlog.configure(f"{settings.service_name}-relay", settings.log_level)
    tracing.configure(
        settings.service_name,
        trace_file=settings.trace_file,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
    )
    relay = OutboxRelay.from_settings(settings, client_options(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    relay.start()
    await stop.wait()
    await relay.stop()


if __name__ == "__main__":
    asyncio.run(_main())
