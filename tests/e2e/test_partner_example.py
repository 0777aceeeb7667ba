"""A partner agency integrates from what it is given alone: onboarded on the broker (its credentials printed), it
runs the example consumer (docs/partners/example-consumer/consumer.py, with only the onboarding output) and sees a
birth registered through the gateway as a verified event carrying exactly its contract's fields."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from services_flow import Office, register_birth

from btdeploy import partners
from btdeploy.e2e import Gateway
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

CONSUMER = Path(__file__).resolve().parents[2] / "docs" / "partners" / "example-consumer" / "consumer.py"
# The statistics office: what it sees also shows the contract holds (no IIN, no name).
AGENCY = "kz-statistics"
PERSONAL = {"iin", "surname", "first_name", "patronymic"}
WAIT_S = 90.0


async def _verified_event_of(process: asyncio.subprocess.Process, record_id: str) -> dict[str, Any]:
    """The first verified event about `record_id` the consumer prints; fails on a refused one."""
    assert process.stdout is not None
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        if not line:
            break
        out = json.loads(line)
        if out["status"] == "verified" and out["event"]["subject"] == record_id:
            event: dict[str, Any] = out["event"]
            return event
    raise AssertionError(f"no verified event about {record_id} within {WAIT_S}s")


async def _collect(process: asyncio.subprocess.Process, into: list[str]) -> None:
    assert process.stderr is not None
    async for line in process.stderr:
        into.append(line.decode(errors="replace"))


def _personal_fields(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {k for k in node if k in PERSONAL} | set().union(*map(_personal_fields, node.values()))
    if isinstance(node, list):
        return set().union(*map(_personal_fields, node))
    return set()


async def test_the_example_consumer_sees_a_verified_birth(
    stack: Stack, gateway: Gateway, tmp_path: Path
) -> None:
    connection = partners.onboard(
        stack.kafka.admin(), AGENCY, bootstrap=stack.kafka.bootstrap, gateway_url=stack.url("gateway")
    )
    onboarding = tmp_path / "onboarding.json"
    onboarding.write_text(json.dumps(asdict(connection)))
    record = await register_birth(gateway, Office())

    # The partner's side: the project's interpreter has the consumer's packages, but the consumer imports none of
    # ours; its settings are the onboarding output and a group of its own under the agency's prefix.
    env = {
        **os.environ,
        "PARTNER_GROUP": f"{connection.group_prefix}e2e-{uuid.uuid4().hex[:8]}",
        "PARTNER_RUN_SECONDS": str(WAIT_S + 30),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CONSUMER),
        "--settings",
        str(onboarding),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Its reports (refused events, duplicates) are read all along, so a full pipe cannot stall it.
    reports: list[str] = []
    drain = asyncio.create_task(_collect(process, reports))
    try:
        event = await _verified_event_of(process, record["record_id"])
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the consumer reported:\n" + "".join(reports[-40:])) from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        await drain
    assert not [r for r in reports if '"refused"' in r], reports

    assert event["type"] == "kz.civreg.partner.birth-registered.v1"
    assert event["dataschema"] == f"urn:birtereze:partner:{AGENCY}:birth-registered.v1"
    assert event["btsignature"]
    assert event["data"]["record_id"] == record["record_id"]
    assert _personal_fields(event["data"]) == set()
