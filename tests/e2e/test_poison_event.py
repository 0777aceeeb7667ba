"""Issue 7: one event never blocks the others, and /health tells the truth (ADR 0009).

The issue's reproduction was a birth application with 1.2 MB in `birth_place`: its event exceeded Kafka's message
limit, the relay retried it for ever and no later application reached the registry, while /health said "ok".
Requests that large are now refused at the HTTP layer (field lengths, body cap) and by `outbox.enqueue`, so the
poison is put where only an old row, a bug or a hand-made row could put it: straight into intake's outbox. Then,
through the gateway only: later applications still reach the registry, the gateway's /health is "degraded" with
the parked rows as reason, and an operator discards them from the command line (no SQL), after which the event
held behind one of them flows and intake's outbox is "ok" again.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import pytest

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.kafka_access import Grant, service_principal
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btkernel.envelope import Envelope
from btkernel.topics import TopicSpec
from civreg import topics

pytestmark = pytest.mark.e2e

LATER_APPLICATIONS = 3


def _envelope(subject: str, **data: Any) -> dict[str, Any]:
    return Envelope.new(
        type="kz.civreg.application.submitted.v1",
        source="/intake",
        subject=subject,
        data=data,
        correlation_id=f"poison-{subject}",
        causation_id=None,
    ).to_json()


async def _inject(conn: asyncpg.Connection, topic: str, envelope: dict[str, Any]) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO outbox (topic, event_id, envelope) VALUES ($1, $2, $3::text::jsonb) RETURNING id",
        topic,
        envelope["id"],
        _json(envelope),
    )
    return row_id


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_unpublishable_events_are_parked_and_every_other_application_reaches_the_registry(
    stack: Stack, gateway: Gateway, kafka_admin: KafkaAdmin
) -> None:
    run = uuid.uuid4().hex[:8]
    # The follower's own topic: the broker creates none by itself, and intake may write only the topics the access
    # table gives it (ADR 0023), so the test creates it and lets intake write it, for this test only.
    follower_topic = f"test.poison.{run}"
    kafka_admin.ensure_topics([TopicSpec(follower_topic, partitions=1)])
    intake = service_principal("intake")
    granted = kafka_admin.grants_of(intake)
    kafka_admin.set_grants(
        intake,
        granted
        | {
            Grant("topic", follower_topic, "literal", "WRITE"),
            Grant("topic", follower_topic, "literal", "DESCRIBE"),
        },
    )
    intake_db = await asyncpg.connect(stack.database_url("intake"))
    registry_db = await asyncpg.connect(stack.database_url("registry"))
    parked_ids: list[int] = []
    try:
        # 1. The poison: an event of 1.2 MB (larger than Kafka's 1 MiB limit) and one that cannot even be decoded,
        #    then a later event of the oversized one's aggregate, which must wait behind it (order per aggregate).
        too_big = await _inject(
            intake_db, topics.APPLICATION, _envelope(f"poison-{run}", birth_place="ж" * 600_000)
        )
        garbled = await _inject(
            intake_db, topics.APPLICATION, {**_envelope(f"garbled-{run}"), "time": "the day before yesterday"}
        )
        follower = _envelope(f"poison-{run}", n=2)
        # On a topic of its own: once released it is published, and no platform consumer should see a test event.
        follower_id = await _inject(intake_db, follower_topic, follower)
        parked_ids = [too_big, garbled]

        # 2. Later applications of the same service, through the gateway, all reach the registry.
        operator = dev_user("centre_operator", "almaty-con-1")
        ids = []
        for i in range(LATER_APPLICATIONS):
            r = await gateway.as_(
                operator,
                "POST",
                "/api/v1/applications",
                json=birth_application(email=f"after-poison-{run}-{i}@example.kz"),
                headers={"Idempotency-Key": f"after-poison-{run}-{i}"},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["application_id"])

        async def all_cases_opened() -> bool:
            n = await registry_db.fetchval("SELECT count(*) FROM cases WHERE application_id = ANY($1)", ids)
            return bool(n == LATER_APPLICATIONS)

        await eventually(all_cases_opened, timeout_s=90, what="the later applications' cases in the registry")

        rows = {
            r["id"]: r
            for r in await intake_db.fetch(
                "SELECT id, parked_at, published_at, last_error FROM outbox WHERE id = ANY($1)",
                [too_big, garbled, follower_id],
            )
        }
        assert rows[too_big]["parked_at"] is not None
        assert "EventTooLarge" in rows[too_big]["last_error"]
        assert rows[garbled]["parked_at"] is not None
        assert rows[follower_id]["parked_at"] is None
        assert rows[follower_id]["published_at"] is None

        # 3. The gateway's /health is honest: still 200 (the platform serves), "degraded", and says why.
        async def intake_degraded() -> dict[str, Any] | None:
            health = await gateway.client.get("/health")
            body: dict[str, Any] = health.json()
            if health.status_code == 200 and body["upstreams"]["intake"]["status"] == "degraded":
                return body
            return None

        body = await eventually(
            intake_degraded, timeout_s=30, what="intake degraded in the gateway's /health"
        )
        assert body["status"] == "degraded", body
        outbox_check = body["upstreams"]["intake"]["checks"]["outbox"]
        assert outbox_check.startswith("degraded: 2 event(s) parked"), outbox_check
        assert f"subject poison-{run}" in outbox_check
        assert any(r.startswith("intake: outbox: 2 event(s) parked") for r in body["reasons"]), body[
            "reasons"
        ]

        # 4. The operator discards both from the command line; the held-back event flows, health recovers.
        env = stack.env_for("intake")
        for row_id in parked_ids:
            done = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "btkernel.outbox",
                    "discard",
                    str(row_id),
                    "--by",
                    "ops",
                    "--reason",
                    "e2e",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        parked_ids = []

        async def follower_published() -> bool:
            return bool(
                await intake_db.fetchval(
                    "SELECT published_at IS NOT NULL FROM outbox WHERE id = $1", follower_id
                )
            )

        await eventually(
            follower_published, timeout_s=30, what="the held-back event published after the discard"
        )

        async def intake_outbox_ok() -> bool:
            health = (await gateway.client.get("/health")).json()
            return bool(health["upstreams"]["intake"]["checks"]["outbox"] == "ok")

        await eventually(intake_outbox_ok, timeout_s=30, what="intake's outbox check ok again")
        assert (
            await intake_db.fetchval(
                "SELECT count(*) FROM outbox_discarded WHERE id = ANY($1) AND discarded_by = 'ops'",
                [too_big, garbled],
            )
            == 2
        )
    finally:
        # Never leave poison behind for the tests that share this stack.
        for row_id in parked_ids:
            await intake_db.execute(
                "DELETE FROM outbox WHERE id = $1 OR (envelope->>'subject' = $2 AND published_at IS NULL)",
                row_id,
                f"poison-{run}",
            )
        await intake_db.close()
        await registry_db.close()
        kafka_admin.set_grants(intake, granted)
        kafka_admin.delete_topic(follower_topic)
