"""Partner feeds on the whole platform (issue 9, "Partner contracts"): acts registered through the gateway reach
each agency's own topic with exactly its fields, signed with the platform's key, exactly once per internal record
event even when the registry is killed mid-stream, and again with the same ids after a re-publication.

Read as an agency reads: read_committed, from the beginning of `partner.<agency>` (as the administrator here)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from services_flow import Office, find_case, finish, register_birth, submit, through_review

from btdeploy import partner_keys
from btdeploy.e2e import Gateway, eventually
from btdeploy.samples import act_application, birth_application, person
from btdeploy.stack import Stack
from btkernel import clock, signing
from btkernel.envelope import Envelope
from civreg import partners, topics
from civreg.calendar import ALMATY
from civreg.events.record import RecordAmended, RecordAnnulled
from civreg.iin import make
from civreg.partners import RecordRef

pytestmark = pytest.mark.e2e

STATISTICS = "kz-statistics"
POPULATION = "kz-population-register"
PERSONAL_FIELDS = {"iin", "surname", "first_name", "patronymic"}


# -- reading topics as an agency does ----------------------------------------------------------------------


async def _partitions(kafka: dict[str, Any], topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [
        TopicPartition(topic, p["partition"])
        for t in described
        if not t["error_code"]
        for p in t["partitions"]
    ]
    assert tps, f"no topic {topic}"
    return sorted(tps)


async def _read(kafka: dict[str, Any], topic: str) -> tuple[list[ConsumerRecord[bytes, bytes]], int]:
    """Every committed record of `topic` from its beginning, and how many records were truncated before it."""
    tps = await _partitions(kafka, topic)
    # earliest: a read racing a truncation (re-publication) that finds its offset gone starts again at the new
    # beginning instead of jumping to the end and missing what was re-published.
    consumer = AIOKafkaConsumer(
        **kafka, group_id=None, isolation_level="read_committed", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        beginnings = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, beginnings[tp])
        out: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(*tps, timeout_ms=500)).items():
                out.extend(r for r in records if r.offset < ends[tp])
        return out, sum(beginnings.values())
    finally:
        await consumer.stop()


async def _agency_events(kafka: dict[str, Any], agency: str) -> tuple[list[dict[str, Any]], int]:
    records, truncated = await _read(kafka, f"partner.{agency}")
    return [json.loads(r.value) for r in records], truncated


async def _expected_ids(kafka: dict[str, Any], registry_db: asyncpg.Connection, agency: str) -> set[str]:
    """What the agency's topic must hold: the projection of every internal record event (as the feed makes it)."""
    contract = partners.by_agency(agency)
    assert contract is not None
    consumer_envs = await _envelopes(kafka)
    rows = await registry_db.fetch("SELECT record_id, kind, registry_office_id FROM records")
    refs = {r["record_id"]: RecordRef(r["kind"], r["registry_office_id"]) for r in rows}
    out = set()
    for env in consumer_envs:
        ref = (
            refs.get(str(env.data.get("record_id")))
            if env.type in (RecordAmended.TYPE, RecordAnnulled.TYPE)
            else None
        )
        try:
            event = partners.project(contract, env, ref)
        except (KeyError, ValueError, TypeError):
            continue
        if event is not None:
            out.add(event.id)
    return out


async def _envelopes(kafka: dict[str, Any]) -> list[Envelope]:
    records, _ = await _read(kafka, topics.RECORD)
    return [Envelope.from_kafka(r.key, r.value, list(r.headers or ())) for r in records]


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for k, v in value.items() for s in {k, *_strings(v)}}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {str(value)}


def _personal_values(value: Any) -> set[str]:
    """The IINs and name parts anywhere in an event (what the statistics office must never see)."""
    if isinstance(value, dict):
        own = {str(v) for k, v in value.items() if k in PERSONAL_FIELDS}
        return own | {s for v in value.values() for s in _personal_values(v)}
    if isinstance(value, list):
        return {s for v in value for s in _personal_values(v)}
    return set()


def _public_keys(stack: Stack) -> dict[str, Any]:
    key = signing.load_public_pem(partner_keys.public_keys_file(stack.run_dir).read_text())
    return {signing.key_id(key): key}


async def _register_birth_with_iin(gateway: Gateway, people: Office) -> tuple[str, str]:
    """A birth registered at the desk with the child's IIN given at registration; (record id, child IIN)."""
    born = clock.today(ALMATY) - dt.timedelta(days=1)
    child_iin = make(born, "male", secrets.randbelow(9000))
    accepted = await submit(gateway, people, "desk", birth_application(born=born))
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    done = await finish(gateway, people, case_id, registration={"child_iin": child_iin})
    return str(done["record_id"]), child_iin


async def _register_death(gateway: Gateway, people: Office) -> str:
    deceased = person("Сейтов", "Болат", sex="male", born=dt.date(1941, 3, 8))
    body = act_application(
        "death_registration",
        subject=deceased,
        facts={"died_on": clock.today(ALMATY).isoformat()},
        document="death_spravka",
    )
    accepted = await submit(gateway, people, "desk", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    done = await finish(gateway, people, case_id)
    return str(done["record_id"])


async def _partners_cli(stack: Stack, *args: str) -> str:
    env = {**os.environ, **stack.env_for("registry")}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "registry.partners", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


async def _exactly_once(
    kafka: dict[str, Any], registry_db: asyncpg.Connection, agency: str, records: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Wait until the agency's topic holds each expected event exactly once, `records` among them; return its
    events. What is expected is read from the internal record topic, which a record registered a moment ago may not
    have reached yet (the registry's relay gathers a busy interval's commits into one round, ADR 0043)."""
    state: dict[str, Any] = {}
    awaited = set(records)

    async def probe() -> list[dict[str, Any]] | None:
        events, _ = await _agency_events(kafka, agency)
        ids = [e["id"] for e in events]
        expected = await _expected_ids(kafka, registry_db, agency)
        state.update(published=len(ids), distinct=len(set(ids)), expected=len(expected))
        assert len(ids) == len(set(ids)), f"{agency}: an event is in its topic twice"
        return events if set(ids) == expected and awaited <= {e["subject"] for e in events} else None

    try:
        return await eventually(probe, timeout_s=90, what=f"{agency}'s topic to hold every event once")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {state}") from exc


# -- the test ------------------------------------------------------------------------------------------------


async def test_partner_feeds_are_scoped_signed_exactly_once_and_republishable(
    stack: Stack, gateway: Gateway, kafka_options: dict[str, Any]
) -> None:
    people = Office()
    birth_id, child_iin = await _register_birth_with_iin(gateway, people)
    death_id = await _register_death(gateway, people)
    ours = {birth_id, death_id}
    registry_db = await asyncpg.connect(stack.database_url("registry"))
    try:
        population = await _exactly_once(kafka_options, registry_db, POPULATION, ours)
        statistics = await _exactly_once(kafka_options, registry_db, STATISTICS, ours)

        # Population register: the child's IIN. Statistics: no IIN and no name, anywhere in the event.
        pop_ours = [e for e in population if e["subject"] in ours]
        stats_ours = [e for e in statistics if e["subject"] in ours]
        assert {e["subject"] for e in pop_ours} == ours == {e["subject"] for e in stats_ours}
        pop_birth = next(e for e in pop_ours if e["type"].endswith("birth-registered.v1"))
        assert pop_birth["data"]["child"]["iin"] == child_iin
        personal = set().union(*(_personal_values(e["data"]) for e in pop_ours))
        assert child_iin in personal
        for event in statistics:
            assert not PERSONAL_FIELDS & _strings(event["data"]), event
            text = json.dumps(event, ensure_ascii=False)
            leaked = [p for p in personal if p in text]
            assert not leaked, (leaked, event)

        # Every event verifies with the published key; altering one field breaks it.
        keys = _public_keys(stack)
        for event in population + statistics:
            signing.verify(event, keys)
        altered = {
            **stats_ours[0],
            "data": {**stats_ours[0]["data"], "registry_office_id": "almaty-bostandyk"},
        }
        with pytest.raises(signing.SignatureInvalid):
            signing.verify(altered, keys)

        # Killed mid-stream: a re-publication of the population register restarts the whole stream; the registry
        # is killed (-9) once the feed has rewound and is publishing again, then restarted.
        before = await registry_db.fetchval(
            "SELECT republished_at FROM partner_feeds WHERE agency = $1", POPULATION
        )
        await _partners_cli(stack, "republish", POPULATION, "--by", "e2e")

        async def rewound() -> bool:
            after = await registry_db.fetchval(
                "SELECT republished_at FROM partner_feeds WHERE agency = $1", POPULATION
            )
            return bool(after is not None and after != before)

        await eventually(rewound, what="the population register's feed to rewind")
        registry = stack.service("registry")
        registry.kill()
        await asyncio.to_thread(registry.restart)
        later = await register_birth(gateway, people)  # and the stream goes on after the restart
        await _exactly_once(kafka_options, registry_db, POPULATION, [str(later["record_id"])])

        # An operator re-publishes the statistics topic: truncated, then the same events (same ids), once each.
        stats_before, truncated_before = await _agency_events(kafka_options, STATISTICS)
        await _partners_cli(stack, "republish", STATISTICS)

        async def republished() -> list[dict[str, Any]] | None:
            events, truncated = await _agency_events(kafka_options, STATISTICS)
            ids = [e["id"] for e in events]
            return (
                events
                if truncated > truncated_before and set(ids) >= {e["id"] for e in stats_before}
                else None
            )

        await eventually(republished, timeout_s=90, what="the statistics topic truncated and published again")
        again = await _exactly_once(kafka_options, registry_db, STATISTICS)
        assert {e["id"] for e in stats_before} <= {e["id"] for e in again}

        async with httpx.AsyncClient(base_url=stack.url("registry"), timeout=10.0) as client:
            health = (await client.get("/health")).json()
        assert health["checks"]["partner_feeds"] == "ok", health

        status = await _partners_cli(stack, "status")
        assert STATISTICS in status
        lags = [line.split()[1] for line in status.splitlines() if line.strip().startswith("lag ")]
        assert len(lags) == len(partners.all_contracts())
        assert all(lag.isdigit() for lag in lags), status
    finally:
        await registry_db.close()
