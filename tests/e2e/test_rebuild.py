"""Projections rebuilt from the history while the platform works (ADR 0027): the registry's `records` (its own
record streams, through `python -m btkernel.rebuild`) and intake's `known_records` (the civreg.record events its
consumer kept), each rebuilt and swapped in while births are registered and records searched through the gateway.
Afterwards each table equals, row for row, a build from the whole history: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

import asyncpg
import pytest
from services_flow import Office, register_birth, register_birth_applied, submit

from btdeploy.e2e import Gateway, eventually
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btkernel import db, rebuild
from fees.projections import PROJECTIONS as FEES
from intake.projections import PROJECTIONS as INTAKE
from notification.projections import PROJECTIONS as NOTIFICATION
from registry.projections import PROJECTIONS as REGISTRY

pytestmark = pytest.mark.e2e

RECORDS = next(p for p in REGISTRY if p.name == "records")
DEADLINES = next(p for p in REGISTRY if p.name == "deadlines")
KNOWN = next(p for p in INTAKE if p.name == "known_records")
CABINET = next(p for p in INTAKE if p.name == "cabinet_notifications")
DECISIONS = next(p for p in FEES if p.name == "decisions")
DELIVERY_LOG = next(p for p in NOTIFICATION if p.name == "delivery_log")


async def _rows(dsn: str, table: str, *key: str) -> dict[Any, dict[str, Any]]:
    """The table's rows by their key (one column: its value; more: a tuple)."""
    conn = await db.connect(dsn)
    try:
        rows = await conn.fetch(f"SELECT * FROM {table}")
        return {(r[key[0]] if len(key) == 1 else tuple(r[k] for k in key)): dict(r) for r in rows}
    finally:
        await conn.close()


async def _record_streams(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            r["stream_id"]
            for r in await conn.fetch("SELECT DISTINCT stream_id FROM events WHERE stream_type = 'record'")
        }
    finally:
        await conn.close()


async def _cli_rebuild(dsn: str) -> str:
    """The operator's command, as a process of its own."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "btkernel.rebuild",
        "registry.projections",
        "records",
        "--batch",
        "3",
        "--keep-retired",
        env={**os.environ, "BT_DATABASE_URL": dsn},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_records_and_known_records_rebuilt_while_births_are_registered(
    gateway: Gateway, stack: Stack
) -> None:
    people = Office()
    registry_dsn = stack.owner_database_url("registry")
    intake_dsn = stack.owner_database_url("intake")
    seeded = [await register_birth(gateway, people) for _ in range(4)]
    # A portal application: its acceptance is told in the personal cabinet (intake's own streams).
    portal = await submit(gateway, people, "portal", birth_application())

    stop = asyncio.Event()
    registered: list[str] = []
    answers: list[int] = []

    async def traffic() -> None:
        while not stop.is_set():
            registered.append((await register_birth(gateway, people))["record_id"])

    async def searches() -> None:
        while not stop.is_set():
            wanted = seeded[len(answers) % len(seeded)]
            r = await gateway.as_(
                people.executive, "GET", "/api/v1/records", params={"number": wanted["record_number"]}
            )
            # Found, whichever table is live at the moment: the search never sees a half-built one.
            found = r.json() if r.status_code == 200 else []
            answers.append(r.status_code if [x["record_id"] for x in found] == [wanted["record_id"]] else -1)
            await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(traffic()), asyncio.create_task(searches())]
    try:
        # Several builds and swaps while births go on, each from the beginning of the history.
        retired: dict[str, dict[str, Any]] = {}
        for _ in range(3):
            printed = await _cli_rebuild(registry_dsn)
            assert "swapped in" in printed
            # How long requests may have waited for the swap, said to the operator.
            assert re.search(r"the live tables locked for \d+ ms", printed), printed
            # The table swapped out was written by the commands: the rebuild wrote each of its rows alike.
            retired = await _rows(registry_dsn, "bt_retired_records.records", "record_id")
            rebuilt = await _rows(registry_dsn, "records", "record_id")
            assert {k: rebuilt[k] for k in retired} == retired
            await rebuild.rebuild(intake_dsn, KNOWN, batch=3)
            await rebuild.rebuild(intake_dsn, CABINET, batch=3)

        async def births_went_on() -> bool:  # during the builds, not only before them
            return len(registered) >= 3

        await eventually(births_went_on, what="births registered while the builds ran")
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    assert answers
    assert set(answers) == {200}, answers
    # Every record of the history, once: the rebuilt table and what the commands wrote after the swap.
    streams = await _record_streams(registry_dsn)
    assert set(registered) <= streams
    live = await _rows(registry_dsn, "records", "record_id")
    assert set(live) == streams
    # A last build with nothing going on: the history's own answer, row for row.
    await rebuild.rebuild(registry_dsn, RECORDS, keep_retired=True)
    assert await _rows(registry_dsn, "records", "record_id") == live
    assert await _rows(registry_dsn, "bt_retired_records.records", "record_id") == live

    # Intake learns of the last records a moment later (ADR 0012); then its table is the history's too.
    async def intake_caught_up() -> dict[str, dict[str, Any]] | None:
        known = await _rows(intake_dsn, "known_records", "record_id")
        return known if set(known) == streams else None

    known = await eventually(intake_caught_up, what="intake to know every record")
    await rebuild.rebuild(intake_dsn, KNOWN)
    assert await _rows(intake_dsn, "known_records", "record_id") == known
    assert {k: v["record_number"] for k, v in known.items()} == {
        k: v["record_number"] for k, v in live.items()
    }

    # The cabinet: rebuilt from the application streams, the rows the commands wrote.
    cabinet = await _rows(intake_dsn, "cabinet_notifications", "application_id", "version")
    assert any(app_id == portal["application_id"] for app_id, _ in cabinet)
    await rebuild.rebuild(intake_dsn, CABINET)
    assert await _rows(intake_dsn, "cabinet_notifications", "application_id", "version") == cabinet


async def test_fee_decisions_and_the_delivery_log_rebuilt_while_births_are_registered(
    gateway: Gateway, stack: Stack
) -> None:
    """The fee service decides and the notification worker mails throughout (ADR 0027, fourth pass): each
    rebuilt table equals, once the platform is quiet, both what the services wrote and a build from the whole
    history, and no decision or message is lost to a swap."""
    people = Office()
    fee_dsn = stack.owner_database_url("fee")
    notification_dsn = stack.owner_database_url("notification")
    stop = asyncio.Event()
    registered: list[str] = []
    mailed: list[str] = []  # the applications of births registered to the end, whose results are mailed

    async def traffic() -> None:
        while not stop.is_set():
            # A submission the fee service decides, and a birth registered to the end, whose result is mailed.
            registered.append((await submit(gateway, people, "desk", birth_application()))["application_id"])
            mailed.append((await register_birth_applied(gateway, people))[0])

    task = asyncio.create_task(traffic())
    try:
        for _ in range(2):
            await rebuild.rebuild(fee_dsn, DECISIONS, batch=3)
            await rebuild.rebuild(notification_dsn, DELIVERY_LOG, batch=3)

        async def births_went_on() -> bool:
            return len(registered) >= 2

        await eventually(births_went_on, what="births registered while the builds ran")
    finally:
        stop.set()
        await task

    seen: list[Any] = [None, 0]

    async def quiet() -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]] | None:
        """Every birth decided, every result's notice queued and settled, both tables unchanged over the last 20
        looks: a notice comes a while after its registration (the registry's relay, intake, notification's
        consumer), and the comparison below needs them all in."""
        decisions = await _rows(fee_dsn, "fee_decisions", "decision_id")
        log = await _rows(notification_dsn, "notifications", "notification_id")
        decided = {d["application_id"] for d in decisions.values()}
        noticed = {n["application_id"] for n in log.values()}
        settled = all(n["status"] not in ("pending", "sent") for n in log.values())
        same = seen[0] == (decisions, log)
        seen[0], seen[1] = (decisions, log), (seen[1] + 1 if same else 0)
        everything_in = set(registered) <= decided and set(mailed) <= noticed
        return (decisions, log) if everything_in and settled and seen[1] >= 20 else None

    decisions, log = await eventually(quiet, what="every birth decided and every message settled")
    assert any(n["status"] == "delivered" for n in log.values())
    await rebuild.rebuild(fee_dsn, DECISIONS)
    await rebuild.rebuild(notification_dsn, DELIVERY_LOG)
    assert await _rows(fee_dsn, "fee_decisions", "decision_id") == decisions
    assert await _rows(notification_dsn, "notifications", "notification_id") == log


async def test_deadlines_rebuilt_while_births_are_registered(gateway: Gateway, stack: Stack) -> None:
    """The registry's legal terms, written by three consumer groups and the scheduler (ADR 0027, `deadlines`):
    rebuilt twice while births go through their steps, then, once the platform is quiet, equal to what the consumers
    wrote and the warnings they kept, row for row."""
    people = Office()
    registry_dsn = stack.owner_database_url("registry")
    stop = asyncio.Event()
    registered: list[str] = []  # the births' applications

    async def traffic() -> None:
        while not stop.is_set():
            registered.append((await register_birth_applied(gateway, people))[0])

    task = asyncio.create_task(traffic())
    try:
        for _ in range(2):
            await rebuild.rebuild(registry_dsn, DEADLINES, batch=3)

        async def births_went_on() -> bool:
            return len(registered) >= 2

        await eventually(births_went_on, what="births registered while the builds ran")
    finally:
        stop.set()
        await task

    seen: list[Any] = [None, 0]

    async def quiet() -> dict[Any, dict[str, Any]] | None:
        """The consumers have applied the last steps: every birth's terms closed (its result sent to the centre
        ends the review term; the registry's own events reach its deadline consumers through its relay), and the
        table unchanged over the last 20 looks."""
        rows = await _rows(registry_dsn, "deadlines", "deadline_id")
        running = {r["application_id"] for r in rows.values() if r["status"] == "running"}
        termed = {r["application_id"] for r in rows.values()}
        closed = set(registered) <= termed and not running & set(registered)
        same = seen[0] == rows
        seen[0], seen[1] = rows, (seen[1] + 1 if same else 0)
        return rows if closed and seen[1] >= 20 else None

    live = await eventually(quiet, what="the deadline consumers to catch up")
    assert live
    await rebuild.rebuild(registry_dsn, DEADLINES)
    assert await _rows(registry_dsn, "deadlines", "deadline_id") == live
