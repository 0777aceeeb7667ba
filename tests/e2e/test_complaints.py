"""Complaints end to end through the gateway (S004 p.11-12, docs/adr/0035-complaints.md): one sent through the
portal, registered by the office's chancellery with its confirmation (services.md §3.4), marked and answered in
term — the deadline met, the personal cabinet showing each stage, the answer in the applicant's mail; another
handed in at the chancellery, refused, escalated to the quality-control body and missed — the registry restarted
past its 15 working days, the term overdue in the deadlines and the complaints' worklist."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from services_flow import OFFICE, Office, ok

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.smtp_sink import SmtpSink
from btdeploy.stack import Stack
from civreg.calendar import ALMATY

pytestmark = pytest.mark.e2e


@pytest.fixture
def people() -> Office:
    return Office()


@pytest.fixture
def registry_clock(stack: Stack) -> Iterator[Callable[[dt.datetime], None]]:
    """Restarts the registry with its clock at a given moment (BT_CLOCK_OFFSET_S), back to real time after."""
    registry = stack.service("registry")

    def shift(to: dt.datetime) -> None:
        registry.env["BT_CLOCK_OFFSET_S"] = str((to - dt.datetime.now(dt.UTC)).total_seconds())
        registry.restart()

    yield shift
    registry.env.pop("BT_CLOCK_OFFSET_S", None)
    registry.restart()


def _complaint(email: str, **extra: Any) -> dict[str, Any]:
    return {
        "applicant": {
            "surname": "Сейткали",
            "first_name": "Асель",
            "patronymic": "Маратовна",
            "postal_address": "050000, Алматы, ул. Абая 10, кв. 5",
            "email": email,
        },
        "subject": {
            "kind": "inaction",
            "body": "official",
            "official_name": "Исполнитель отдела",
            "description": "справка не выдана в срок",
        },
        "text": "Прошу рассмотреть и выдать справку.",
        **extra,
    }


async def _deadline(gw: Gateway, user: Any, complaint_id: str, **params: Any) -> dict[str, Any] | None:
    r = await gw.as_(user, "GET", "/api/v1/deadlines", params={"case_id": complaint_id, **params})
    rows = [d for d in (r.json() if r.status_code == 200 else []) if d["kind"] == "complaint"]
    return rows[0] if rows else None


async def test_a_portal_complaint_is_registered_marked_and_answered_in_term(
    gateway: Gateway, people: Office, smtp_sink: SmtpSink
) -> None:
    email = f"complainant-{uuid.uuid4().hex[:8]}@example.kz"
    # Bad input names its field: the postal address is required (S004 p.11).
    no_address = _complaint(email, site_id=OFFICE)
    del no_address["applicant"]["postal_address"]
    refused = await gateway.as_(people.portal, "POST", "/api/v1/complaints", json=no_address)
    assert refused.status_code == 422
    assert any("postal_address" in e["path"] for e in refused.json()["errors"])

    # Delivered through the portal; the office's chancellery registers it and the confirmation comes back.
    filed = ok(
        await gateway.as_(
            people.portal, "POST", "/api/v1/complaints", json=_complaint(email, site_id=OFFICE)
        ),
        201,
    )
    complaint_id = filed["complaint_id"]
    assert filed["status"] == "filed"
    assert filed["confirmation"] is None
    registered = ok(
        await gateway.as_(people.chancellery, "POST", f"/api/v1/complaints/{complaint_id}/registration")
    )
    confirmation = registered["confirmation"]
    year = dt.datetime.fromisoformat(registered["registered_at"]).astimezone(ALMATY).year
    assert confirmation["incoming_number"].startswith(f"Ж-{year}/")
    assert confirmation["incoming_number"] in confirmation["stamp"]
    surname = people.chancellery.full_name.split()[0]
    assert confirmation["receiver_name"].startswith(surname)
    assert confirmation["receiver_name"].endswith(".")
    assert confirmation["answer_term"]["value"] == 5
    assert confirmation["answer_term"]["unit"] == "working_days"
    assert "канцелярия" in confirmation["answer_place"]
    due = dt.datetime.fromisoformat(confirmation["answer_due_at"])
    assert due > dt.datetime.fromisoformat(registered["registered_at"]) + dt.timedelta(days=4)

    # The deadline engine runs the term, answerable by the head.
    running = await eventually(
        lambda: _deadline(gateway, people.head, complaint_id), what="the complaint's deadline"
    )
    assert running["status"] == "running"
    assert running["responsible_role"] == "registry_head"
    assert dt.datetime.fromisoformat(running["due_at"]) == due

    for user, mark in ((people.chancellery, "passed_to_executive"), (people.executive, "under_review")):
        ok(await gateway.as_(user, "POST", f"/api/v1/complaints/{complaint_id}/marks", json={"mark": mark}))
    # The executive may mark, not answer: the answer is the head's (S004 p.11).
    by_executive = await gateway.as_(
        people.executive,
        "POST",
        f"/api/v1/complaints/{complaint_id}/answer",
        json={"answer": "x", "delivery": "post"},
    )
    assert by_executive.status_code == 403
    answer = "Справка выдана 15.12; исполнителю сделано замечание."
    answered = ok(
        await gateway.as_(
            people.head,
            "POST",
            f"/api/v1/complaints/{complaint_id}/answer",
            json={"answer": answer, "delivery": "post"},
        )
    )
    assert answered["status"] == "answered"
    assert answered["overdue"] is False

    async def met_deadline() -> dict[str, Any] | None:
        row = await _deadline(gateway, people.head, complaint_id, include_done="true")
        return row if row and row["status"] == "met" else None

    assert (await eventually(met_deadline, what="the deadline met"))["overdue"] is False

    # The personal cabinet: delivery, registration, the marks, the answer.
    async def cabinet() -> list[dict[str, Any]] | None:
        r = await gateway.as_(
            people.portal, "GET", "/api/v1/portal/notifications", params={"complaint_id": complaint_id}
        )
        rows: list[dict[str, Any]] = r.json() if r.status_code == 200 else []
        return rows if len(rows) >= 5 else None

    shown = await eventually(cabinet, what="the complaint in the personal cabinet")
    assert [n["kind"] for n in shown] == [
        "complaint_delivered",
        "complaint_registered",
        "complaint_execution_mark",
        "complaint_execution_mark",
        "complaint_answered",
    ]
    assert confirmation["incoming_number"] in shown[1]["text"]
    assert answer in shown[4]["text"]

    # The answer by mail, in Russian and Kazakh.
    mails = await asyncio.to_thread(smtp_sink.wait_for, email, 1, 60)
    text = mails[0].text()
    assert confirmation["incoming_number"] in text
    assert answer in text
    assert "Құрметті" in text


async def test_a_complaint_escalated_to_the_quality_control_body_and_missed(
    gateway: Gateway, people: Office, registry_clock: Callable[[dt.datetime], None]
) -> None:
    supervisor = dev_user("supervisor")
    email = f"escalating-{uuid.uuid4().hex[:8]}@example.kz"
    # Handed in at the chancellery: registered at once, the confirmation in the answer.
    first = ok(
        await gateway.as_(people.chancellery, "POST", "/api/v1/complaints", json=_complaint(email)), 201
    )
    assert first["status"] == "registered"
    assert first["confirmation"]["incoming_number"]
    ok(
        await gateway.as_(
            people.head,
            "POST",
            f"/api/v1/complaints/{first['complaint_id']}/refusal",
            json={"reason": "Жалоба не содержит сведений о нарушении"},
        )
    )
    # Not before the first level has ended, and not by the office.
    by_head = await gateway.as_(
        people.head,
        "POST",
        f"/api/v1/complaints/{first['complaint_id']}/escalation",
        json={"text": "Не согласна"},
    )
    assert by_head.status_code == 403
    second = ok(
        await gateway.as_(
            supervisor,
            "POST",
            f"/api/v1/complaints/{first['complaint_id']}/escalation",
            json={"text": "Не согласна с отказом"},
        ),
        201,
    )
    qc_id = second["complaint_id"]
    assert second["addressee"] == "quality_control"
    assert second["escalated_from"] == first["complaint_id"]
    assert second["confirmation"]["answer_term"]["value"] == 15
    again = await gateway.as_(
        supervisor, "POST", f"/api/v1/complaints/{first['complaint_id']}/escalation", json={"text": "Ещё"}
    )
    assert again.status_code == 409

    running = await eventually(
        lambda: _deadline(gateway, people.head, qc_id),
        what="the quality-control term in the office's deadlines",
    )
    due = dt.datetime.fromisoformat(running["due_at"])
    assert running["responsible_role"] == "supervisor"
    # 15 working days are at least three calendar weeks.
    assert due - dt.datetime.fromisoformat(second["registered_at"]) >= dt.timedelta(days=20)

    # Nobody answers: the registry (and its scheduler) a day past the term.
    await asyncio.to_thread(registry_clock, due + dt.timedelta(days=1))

    async def overdue() -> dict[str, Any] | None:
        row = await _deadline(gateway, people.head, qc_id, due="overdue")
        return row if row and row["overdue"] else None

    missed = await eventually(overdue, what="the quality-control term overdue")
    assert missed["status"] == "running"
    assert missed["seconds_left"] < 0
    late = await gateway.as_(supervisor, "GET", "/api/v1/complaints", params={"overdue": "true"})
    assert late.status_code == 200
    assert qc_id in [c["complaint_id"] for c in late.json()]
