"""The tamper-evident history on the running platform (ADR 0030): a birth registered through the gateway, the
supervisor's IIN search and record view audited and readable through the gateway, every service's history sealed
and published at `/history/seals` (verified with the published JWKS), `verify` clean on every database — and an
alteration by the database owner turning the gateway's /health to unavailable, naming the event."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btkernel import db, signing
from btkernel.history.verify import verify

pytestmark = pytest.mark.e2e

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"


async def _registered_birth(gateway: Gateway) -> tuple[str, str]:
    """A birth through the office to its record; returns (the mother's IIN, the record number)."""
    operator = dev_user("centre_operator", CENTRE)
    chancellery = dev_user("registry_chancellery", OFFICE)
    head = dev_user("registry_head", OFFICE)
    executive = dev_user("registry_executive", OFFICE)
    body = birth_application(email=f"mother-{uuid.uuid4().hex[:8]}@example.kz")
    first = await gateway.as_(operator, "POST", "/api/v1/applications", json=body)
    assert first.status_code == 201, first.text
    application_id = first.json()["application_id"]

    async def case_in_worklist() -> dict[str, Any] | None:
        r = await gateway.as_(chancellery, "GET", "/api/v1/worklist")
        return next((c for c in r.json() if c["application_id"] == application_id), None)

    case_id = (await eventually(case_in_worklist, what="the case in the worklist"))["case_id"]
    for user, path, payload in (
        (chancellery, f"/api/v1/cases/{case_id}/chancellery-registration", None),
        (head, f"/api/v1/cases/{case_id}/resolution", {"executive_id": executive.username}),
        (executive, f"/api/v1/cases/{case_id}/registration", {}),
        (head, f"/api/v1/cases/{case_id}/signature", None),
    ):
        r = await gateway.as_(user, "POST", path, json=payload)
        assert r.status_code == 200, (path, r.text)
    return body["applicant"]["iin"], r.json()["record_number"]


async def test_reads_are_audited_sealed_and_a_change_is_reported(stack: Stack, gateway: Gateway) -> None:
    supervisor = dev_user("supervisor")
    mother_iin, record_number = await _registered_birth(gateway)

    # The supervisor searches by the mother's IIN and opens the record: two audit entries, ids only.
    found = await gateway.as_(supervisor, "GET", "/api/v1/records", params={"iin": mother_iin})
    assert found.status_code == 200, found.text
    record = next(r for r in found.json() if r["record_number"] == record_number)
    record_id = record["record_id"]
    assert (await gateway.as_(supervisor, "GET", f"/api/v1/records/{record_id}")).status_code == 200
    answer = await gateway.as_(
        supervisor, "GET", "/api/v1/audit/records", params={"actor": supervisor.username}
    )
    assert answer.status_code == 200, answer.text
    entries = answer.json()
    search = next(
        e for e in entries if e["action"] == "records.search" and e["query"].get("iin") == mother_iin
    )
    assert record_id in search["returned"]
    assert search["count"] == len(search["returned"])
    view = next(
        e for e in entries if e["action"] == "records.view" and e["query"] == {"record_id": record_id}
    )
    assert view["returned"] == [record_id]
    assert "Жұмабаева" not in answer.text  # what was returned is named by id, never copied
    # Only a supervisor reads the audit.
    clerk = dev_user("registry_chancellery", OFFICE)
    assert (await gateway.as_(clerk, "GET", "/api/v1/audit/records")).status_code == 403

    # Every service's history is sealed and the seals are published; the published keys verify them.
    keys = signing.keys_from_jwks((await gateway.client.get("/.well-known/bt-partner-keys.json")).json())

    async def sealed_past_the_audit() -> dict[str, Any] | None:
        body = (await gateway.client.get("/history/seals")).json()
        seals = body["services"]["registry"]["seals"]
        return body if seals and seals[0]["position"] >= await _ledger_size(stack) else None

    published = await eventually(
        sealed_past_the_audit, timeout_s=30, what="a seal covering the audit entries"
    )
    for name in ("intake", "registry"):
        latest = published["services"][name]["seals"][0]
        signing.verify(latest, keys)
        assert latest["service"] == name
    forged = dict(published["services"]["registry"]["seals"][0], position=1)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(forged, keys)

    # verify is clean on every service's database, the audit entries included.
    for name in ("intake", "registry", "notification", "fee"):
        report = await _verify(stack, name, keys)
        assert report.ok, (name, [str(f) for f in report.findings])
    assert await _audit_events(stack) >= 2

    # The owner moves a birth record's time back three days: /health names the event; restored, it clears.
    owner = await db.connect(stack.owner_database_url("registry"))
    try:
        before = await owner.fetchval(
            "SELECT recorded_at FROM events WHERE stream_id = $1 AND version = 1", record_id
        )
        await _as_owner(
            owner,
            "UPDATE events SET recorded_at = recorded_at - interval '3 days' WHERE stream_id = $1 AND version = 1",
            record_id,
        )
        try:

            async def reported() -> str | None:
                health = (await gateway.client.get("/health")).json()
                reasons = [r for r in health.get("reasons", []) if r.startswith("registry: history")]
                return reasons[0] if reasons and health["status"] == "unavailable" else None

            reason = await eventually(reported, timeout_s=30, what="/health reporting the broken history")
            assert f"stream {record_id} version 1" in reason
            assert "altered" in reason
        finally:
            await _as_owner(
                owner,
                "UPDATE events SET recorded_at = $2 WHERE stream_id = $1 AND version = 1",
                record_id,
                before,
            )
    finally:
        await owner.close()

    async def healed() -> bool:
        health = (await gateway.client.get("/health")).json()
        return not any(r.startswith("registry: history") for r in health.get("reasons", []))

    await eventually(healed, timeout_s=30, what="/health clear again once the event is restored")


async def test_reads_of_the_notification_log_are_audited(stack: Stack, gateway: Gateway) -> None:
    """The delivery log shows recipients' addresses (personal data): each read of it is an audit entry of the
    notification service, with the notification ids returned and not the addresses, read by a supervisor only."""
    operator = dev_user("centre_operator", CENTRE)
    supervisor = dev_user("supervisor")
    email = f"audit-{uuid.uuid4().hex[:8]}@example.kz"
    submitted = await gateway.as_(
        operator, "POST", "/api/v1/applications", json=birth_application(email=email)
    )
    assert submitted.status_code == 201, submitted.text
    application_id = submitted.json()["application_id"]

    async def log_read() -> dict[str, Any] | None:
        r = await gateway.as_(
            operator, "GET", "/api/v1/notifications", params={"application_id": application_id}
        )
        return r.json() if r.status_code == 200 else None

    shown = await eventually(log_read, what="the application known to the notification service")
    answer = await gateway.as_(
        supervisor, "GET", "/api/v1/audit/notifications", params={"actor": operator.username}
    )
    assert answer.status_code == 200, answer.text
    entry = next(
        e
        for e in answer.json()
        if e["action"] == "notifications.list" and e["query"] == {"application_id": application_id}
    )
    assert entry["returned"] == [n["notification_id"] for n in shown["items"]]
    assert entry["count"] == len(shown["items"])
    assert email not in answer.text  # the addresses shown are never copied into the audit
    assert (await gateway.as_(operator, "GET", "/api/v1/audit/notifications")).status_code == 403
    report = await _verify(stack, "notification", None)
    assert report.ok, [str(f) for f in report.findings]


async def _as_owner(conn: asyncpg.Connection, sql: str, *args: Any) -> None:
    async with conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER history_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER history_append_only")


async def _ledger_size(stack: Stack) -> int:
    conn = await db.connect(stack.database_url("registry"))
    try:
        size: int = await conn.fetchval("SELECT count(*) FROM events")
        return size
    finally:
        await conn.close()


async def _audit_events(stack: Stack) -> int:
    conn = await db.connect(stack.database_url("registry"))
    try:
        n: int = await conn.fetchval("SELECT count(*) FROM events WHERE stream_type = 'audit'")
        return n
    finally:
        await conn.close()


async def _verify(stack: Stack, service: str, keys: Any) -> Any:
    conn = await db.connect(stack.database_url(service))
    try:
        return await verify(conn, keys)
    finally:
        await conn.close()
