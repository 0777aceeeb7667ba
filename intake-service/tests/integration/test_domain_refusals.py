"""What a registrar refuses at the counter (issue 7), over intake's HTTP API on real PostgreSQL: one row per
refusal — the request, the status, the field path and a fragment of the reason. Nothing refused leaves a trace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.samples import act_application, birth_application, person
from btkernel import clock
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers
from civreg.calendar import ALMATY
from civreg.events.record import BirthRegistered, RecordRegistered
from civreg.events.values import Person, PersonName
from intake.api import subscriptions

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")
DESK = actor_headers("ch-almaly", "registry_chancellery", "almaty-almaly")
PILOT_OPERATOR = actor_headers("operator3", "centre_operator", "astana-yesil-con-1")
# Records the registry has registered, as intake learns them from civreg.record.
BIRTH_RECORD, DEATH_RECORD = str(uuid.uuid4()), str(uuid.uuid4())
DEAD = person("Ахметов", "Ерлан", sex="male", born=dt.date(1950, 1, 1))


async def _registered(dsn: str) -> None:
    now = dt.datetime.now(dt.UTC)
    events = [
        BirthRegistered(
            record_id=BIRTH_RECORD,
            record_number="almaty-almaly/birth/2026/1",
            registry_office_id="almaty-almaly",
            registered_at=now,
            case_id="c1",
            child_name=PersonName(surname="Жұмабаев", first_name="Нұрсұлтан"),
            child_sex="male",
            child_birth_date=now.date(),
            child_birth_place="Алматы",
        ),
        RecordRegistered(
            record_id=DEATH_RECORD,
            kind="death",
            record_number="almaty-almaly/death/2026/1",
            registry_office_id="almaty-almaly",
            registered_at=now,
            case_id="c2",
            subject=Person.model_validate(DEAD),
        ),
    ]
    conn = await asyncpg.connect(dsn)
    try:
        for e in events:
            envelope = Envelope.new(
                type=e.TYPE,
                source="/registry",
                subject=e.record_id,
                data=e.to_data(),
                correlation_id=None,
                causation_id=None,
            )
            await subscriptions.on_record_event(conn, envelope, new_context())
    finally:
        await conn.close()


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`body` with the value at a dotted path replaced (a missing last key is added; None deletes it)."""
    keys = path.split(".")
    node = body
    for k in keys[:-1]:
        node = node[k]
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return body


def _representative(valid_until: dt.date) -> dict[str, Any]:
    return {
        "person": {k: v for k, v in person("Сейітов", "Марат", sex="male").items() if k != "birth_date"},
        "power_of_attorney": {
            "number": "ДОВ-1",
            "issued_on": (valid_until - dt.timedelta(days=400)).isoformat(),
            "notary": "Нотариус г. Алматы",
            "valid_until": valid_until.isoformat(),
        },
    }


def _death(**details: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "subject": person("Бекова", "Роза", born=dt.date(1940, 3, 3)),
        "facts": {"died_on": clock.today(ALMATY).isoformat()},
    }
    return act_application("death_registration", **{**base, **details})


def _paternity(**details: Any) -> dict[str, Any]:
    child = {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"}}
    return act_application("paternity_registration", subject=child, **details)


# (id, who submits, the request, expected status, field path, fragment of the reason)
Row = tuple[str, dict[str, str], Callable[[], dict[str, Any]], int, str, str]
ROWS: list[Row] = [
    (
        "empty-surname",
        OPERATOR,
        lambda: _with(birth_application(), "applicant.name.surname", ""),
        422,
        "body.applicant.name.surname",
        "at least 1 character",
    ),
    (
        "blank-first-name",
        OPERATOR,
        lambda: _with(birth_application(), "details.child.name.first_name", "  "),
        422,
        "body.details.child.name.first_name",
        "at least 1 character",
    ),
    (
        "born-in-1800",
        OPERATOR,
        lambda: birth_application(born=dt.date(1800, 1, 1)),
        422,
        "body.details.child.birth_date",
        "before 1900-01-01",
    ),
    (
        "born-tomorrow",
        OPERATOR,
        lambda: birth_application(born=clock.today(ALMATY) + dt.timedelta(days=1)),
        422,
        "body.details.child.birth_date",
        "in the future",
    ),
    (
        "applicant-born-in-the-future",
        OPERATOR,
        lambda: _with(birth_application(), "applicant.birth_date", "2999-01-01"),
        422,
        "body.applicant.birth_date",
        "in the future",
    ),
    (
        "death-without-date",
        DESK,
        lambda: _death(facts={}),
        422,
        "body.details.facts.died_on",
        "date of death is required",
    ),
    (
        "death-in-the-future",
        DESK,
        lambda: _death(facts={"died_on": "2999-01-01"}),
        422,
        "body.details.facts.died_on",
        "in the future",
    ),
    ("dead-twice", DESK, lambda: _death(subject=DEAD), 422, "body.details.subject.iin", "already registered"),
    (
        "unknown-record",
        DESK,
        lambda: act_application("repeat_certificates", record_id="no-such-record", from_abroad=True),
        422,
        "body.details.record_id",
        "no civil-status record",
    ),
    (
        "unknown-birth-record",
        DESK,
        lambda: _paternity(birth_record_id="no-such-record"),
        422,
        "body.details.birth_record_id",
        "no civil-status record",
    ),
    (
        "paternity-without-birth-record",
        DESK,
        lambda: _paternity(),
        422,
        "body.details.birth_record_id",
        "birth record",
    ),
    (
        "birth-record-is-a-death-record",
        DESK,
        lambda: _paternity(birth_record_id=DEATH_RECORD),
        422,
        "body.details.birth_record_id",
        "name the person's birth record",
    ),
    (
        "expired-power-of-attorney",
        OPERATOR,
        lambda: birth_application(representative=_representative(clock.today(ALMATY) - dt.timedelta(days=1))),
        422,
        "body.representative.power_of_attorney.valid_until",
        "expired on",
    ),
    (
        "divorce-without-variant",
        OPERATOR,
        lambda: _with(
            act_application(
                "divorce_registration",
                subject=person("Сейітова", "Айгүл"),
                parties=[person("Сейітов", "Марат", sex="male")],
                documents=["identity_document"],
            ),
            "details.variant",
            None,
        ),
        422,
        "body.details.variant",
        "court_decision",
    ),
]


@pytest.mark.parametrize(
    ("who", "request_body", "status", "path", "fragment"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
async def test_the_domain_refuses_what_a_registrar_would(
    intake: tuple[httpx.AsyncClient, str],
    who: dict[str, str],
    request_body: Callable[[], dict[str, Any]],
    status: int,
    path: str,
    fragment: str,
) -> None:
    client, dsn = intake
    await _registered(dsn)
    r = await client.post("/api/v1/applications", json=request_body(), headers=who)
    assert r.status_code == status, r.text
    problem = r.json()
    assert path in [e["path"] for e in problem["errors"]], problem
    reason = next(e["reason"] for e in problem["errors"] if e["path"] == path)
    assert fragment in reason, problem
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM applications") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def test_the_records_it_knows_are_accepted(intake: tuple[httpx.AsyncClient, str]) -> None:
    """The other side of the rows above: the same requests naming registered records get receipts."""
    client, dsn = intake
    await _registered(dsn)
    for body in (
        act_application("repeat_certificates", record_id=BIRTH_RECORD, from_abroad=True),
        _paternity(
            birth_record_id=BIRTH_RECORD, changes={"father": {"name": {"surname": "А", "first_name": "Б"}}}
        ),
        _death(),
    ):
        r = await client.post("/api/v1/applications", json=body, headers=DESK)
        assert r.status_code == 201, r.text
        assert r.json()["receipt"], r.text


async def test_the_astana_pilot_promises_the_result_within_three_working_hours(
    intake: tuple[httpx.AsyncClient, str], clock_at: Callable[[dt.datetime], None]
) -> None:
    """S000: at the pilot centre birth is registered within 3 working hours, so the receipt promises the same
    day for an application accepted on a Monday morning — where an ordinary centre promises days later."""
    client, _ = intake
    clock_at(dt.datetime(2026, 3, 2, 10, 0, tzinfo=ALMATY))  # a Monday, no holiday
    born = dt.date(2026, 3, 1)
    pilot = await client.post(
        "/api/v1/applications", json=birth_application(born=born), headers=PILOT_OPERATOR
    )
    ordinary = await client.post("/api/v1/applications", json=birth_application(born=born), headers=OPERATOR)
    assert pilot.status_code == ordinary.status_code == 201, (pilot.text, ordinary.text)
    assert pilot.json()["receipt"]["result_issue_date"] == "2026-03-02"
    assert ordinary.json()["receipt"]["result_issue_date"] > "2026-03-02"
