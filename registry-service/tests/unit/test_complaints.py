"""Complaints (S004 p.11-12) on a fake unit of work, with the clock fixed (never today's date): the confirmation
of services.md §3.4, incoming numbers per site and year, the answer's term of 5 working days across a weekend and
a holiday, 15 for the quality-control body, and who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from registry_fakes import FakeRegistryUnitOfWork

from btkernel.context import Actor, new_context
from btkernel.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from civreg.calendar import ALMATY
from civreg.events.complaint import (
    ComplaintApplicant,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintRegistered,
    ComplaintSubject,
)
from civreg.events.values import PersonName
from registry.app import complaints as use_cases
from registry.domain.complaint import ANSWERED, FILED, QUALITY_CONTROL, REGISTERED, REVIEW_REFUSED, Complaint

OFFICE = "almaty-almaly"
CENTRE = "almaty-con-1"
# Friday 12 December 2025, 10:00 in Almaty: a weekend follows, and Tuesday the 16th is Independence Day.
FRIDAY = dt.datetime(2025, 12, 12, 10, 0, tzinfo=ALMATY)
CHANCELLERY = Actor("ch-almaly", "Жумабаева Айгерим Сериковна", "registry_chancellery", OFFICE)
HEAD = Actor("head-almaly", "Руководитель Отдела", "registry_head", OFFICE)
EXEC = Actor("exec-almaly-1", "Исполнитель", "registry_executive", OFFICE)
OPERATOR = Actor("op-con-1", "Оператор Центра", "centre_operator", CENTRE)
OTHER_HEAD = Actor("head-bostandyk", "Руководитель", "registry_head", "almaty-bostandyk")
PORTAL = Actor("egov-portal", "egov", "portal", None)
SUPERVISOR = Actor("supervisor", "Контроль Качества", "supervisor", None)


class FakeComplaintViews:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.counters: dict[tuple[str, int], int] = {}

    async def next_number(self, site_id: str, year: int) -> int:
        self.counters[(site_id, year)] = self.counters.get((site_id, year), 0) + 1
        return self.counters[(site_id, year)]

    async def save(self, c: Complaint, at: dt.datetime, confirmation: dict[str, Any] | None) -> None:
        row = self.rows.setdefault(c.id, {"confirmation": None})
        row.update(status=c.status, escalated_to=c.escalated_to)
        if confirmation is not None:
            row["confirmation"] = confirmation

    async def row(self, complaint_id: str) -> dict[str, Any] | None:
        return self.rows.get(complaint_id)

    async def find(self, **kwargs: Any) -> list[dict[str, Any]]:
        return list(self.rows.values())

    async def history(self, complaint_id: str) -> list[Any]:
        return []


class FakeComplaintUnitOfWork(FakeRegistryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.complaints = FakeComplaintViews()
        self.track(self.complaints)


@pytest.fixture(autouse=True)
def _clock(clock_at: Callable[[dt.datetime], None]) -> None:
    clock_at(FRIDAY)


def _new(**overrides: Any) -> use_cases.NewComplaint:
    values: dict[str, Any] = {
        "applicant": ComplaintApplicant(
            name=PersonName(surname="Сейткали", first_name="Асель", patronymic="Маратовна"),
            postal_address="Алматы, ул. Абая 10, кв. 5",
        ),
        "subject": ComplaintSubject(kind="inaction", body="office", description="не выдана справка в срок"),
        "text": "Прошу рассмотреть.",
        "application_id": "app-1",
    }
    values.update(overrides)
    return use_cases.NewComplaint(**values)


async def _file(uow: FakeComplaintUnitOfWork, actor: Actor = CHANCELLERY, **kw: Any) -> Complaint:
    c, _ = await use_cases.file(uow, actor, new_context(actor), _new(**kw))
    return c


async def test_a_chancellery_complaint_is_registered_at_once_with_the_confirmation_of_3_4() -> None:
    uow = FakeComplaintUnitOfWork()
    c, given = await use_cases.file(uow, CHANCELLERY, new_context(CHANCELLERY), _new())
    assert uow.events.types(c.id) == [ComplaintFiled.TYPE, ComplaintRegistered.TYPE]
    assert c.status == REGISTERED
    assert given is not None
    assert given["incoming_number"] == "Ж-2025/1"
    assert given["receiver_name"] == "Жумабаева А. С."
    assert given["registered_on"] == dt.date(2025, 12, 12)
    assert "Вх. № Ж-2025/1 от 12.12.2025" in given["stamp"]
    assert "Жумабаева А. С." in given["stamp"]
    assert given["answer_term"]["value"] == 5
    assert given["answer_term"]["unit"] == "working_days"
    assert "Tole bi 155" in given["answer_place"]
    # Mon 15 (1), Tue 16 Independence Day, Wed 17 (2), Thu 18 (3), Fri 19 (4), weekend, Mon 22 (5): the end of
    # the office's day.
    assert given["answer_due_at"] == dt.datetime(2025, 12, 22, 17, 30, tzinfo=ALMATY)


async def test_incoming_numbers_run_per_site_without_gaps() -> None:
    uow = FakeComplaintUnitOfWork()
    numbers = []
    for _ in range(3):
        c = await _file(uow)
        assert c.registered is not None
        numbers.append(c.registered.incoming_number)
    at_centre = await _file(uow, OPERATOR)
    assert numbers == ["Ж-2025/1", "Ж-2025/2", "Ж-2025/3"]
    assert at_centre.registered is not None
    assert at_centre.registered.incoming_number == "Ж-2025/1"


async def test_a_centre_counts_its_term_on_its_own_schedule() -> None:
    """The centre works Monday to Saturday, 09:00-20:00 (S004 p.8): Saturday the 13th is one of its days."""
    uow = FakeComplaintUnitOfWork()
    c = await _file(
        uow, OPERATOR, subject=ComplaintSubject(kind="action", body="centre", description="грубость")
    )
    assert c.filed is not None
    assert c.filed.addressee == "centre"
    assert c.filed.registry_office_id == OFFICE
    assert c.registered is not None
    assert c.registered.answer_due_at == dt.datetime(2025, 12, 19, 20, 0, tzinfo=ALMATY)


async def test_a_portal_complaint_is_delivered_then_registered_by_the_addressee() -> None:
    uow = FakeComplaintUnitOfWork()
    c, given = await use_cases.file(uow, PORTAL, new_context(PORTAL), _new(site_id=OFFICE))
    assert c.status == FILED
    assert given is None
    with pytest.raises(NotFound):  # addressed to the office, not to the centre
        await use_cases.execute(use_cases.Register(c.id, OPERATOR), uow, new_context(OPERATOR))
    with pytest.raises(Forbidden):  # the office's, but registering is the chancellery's
        await use_cases.execute(use_cases.Register(c.id, SUPERVISOR), uow, new_context(SUPERVISOR))
    registered = await use_cases.execute(use_cases.Register(c.id, CHANCELLERY), uow, new_context(CHANCELLERY))
    assert registered.status == REGISTERED
    assert uow.complaints.rows[c.id]["confirmation"]["incoming_number"] == "Ж-2025/1"


async def test_the_portal_must_name_a_known_addressee() -> None:
    uow = FakeComplaintUnitOfWork()
    with pytest.raises(InvalidInput) as missing:
        await use_cases.file(uow, PORTAL, new_context(PORTAL), _new())
    assert missing.value.errors[0]["path"] == "body.site_id"
    with pytest.raises(InvalidInput):
        await use_cases.file(uow, PORTAL, new_context(PORTAL), _new(site_id="nowhere"))


async def test_the_postal_address_and_a_named_official_are_required() -> None:
    uow = FakeComplaintUnitOfWork()
    applicant = ComplaintApplicant(name=PersonName(surname="А", first_name="Б"), postal_address="  ")
    with pytest.raises(RuleViolation) as no_address:
        await _file(uow, applicant=applicant)
    assert no_address.value.errors[0]["path"] == "body.applicant.postal_address"
    with pytest.raises(RuleViolation) as no_official:
        await _file(uow, subject=ComplaintSubject(kind="action", body="official", description="x"))
    assert no_official.value.errors[0]["path"] == "body.subject.official_name"
    assert uow.complaints.rows == {}
    assert uow.complaints.counters == {}


async def test_marks_then_the_head_answers_and_only_the_head() -> None:
    uow = FakeComplaintUnitOfWork()
    c = await _file(uow)
    ctx = new_context(CHANCELLERY)
    await use_cases.execute(use_cases.Mark(c.id, CHANCELLERY, "passed_to_executive", None), uow, ctx)
    await use_cases.execute(use_cases.Mark(c.id, EXEC, "under_review", None), uow, ctx)
    with pytest.raises(RuleViolation):
        await use_cases.execute(use_cases.Mark(c.id, EXEC, "other", " "), uow, ctx)
    with pytest.raises(Forbidden):
        await use_cases.execute(use_cases.Answer(c.id, EXEC, "Ответ", "post"), uow, ctx)
    with pytest.raises(NotFound):
        await use_cases.execute(use_cases.Answer(c.id, OTHER_HEAD, "Ответ", "post"), uow, ctx)
    answered = await use_cases.execute(
        use_cases.Answer(c.id, HEAD, "Справка выдана 15.12.", "post"), uow, ctx
    )
    assert answered.status == ANSWERED
    assert answered.marks == ["passed_to_executive", "under_review"]
    with pytest.raises(RuleViolation):
        await use_cases.execute(use_cases.RefuseReview(c.id, HEAD, "поздно"), uow, ctx)


async def test_a_refusal_to_review_gives_its_reason() -> None:
    uow = FakeComplaintUnitOfWork()
    c = await _file(uow)
    with pytest.raises(RuleViolation):
        await use_cases.execute(use_cases.RefuseReview(c.id, HEAD, "  "), uow, new_context(HEAD))
    done = await use_cases.execute(use_cases.RefuseReview(c.id, HEAD, "анонимная"), uow, new_context(HEAD))
    assert done.status == REVIEW_REFUSED


async def test_escalation_is_a_new_complaint_with_15_working_days_linked_to_the_first() -> None:
    uow = FakeComplaintUnitOfWork()
    first = await _file(uow)
    with pytest.raises(RuleViolation):  # not before the answer
        await use_cases.escalate(uow, first.id, SUPERVISOR, new_context(SUPERVISOR), "Не согласна")
    await use_cases.execute(
        use_cases.Answer(first.id, HEAD, "Отказано", "chancellery"), uow, new_context(HEAD)
    )
    with pytest.raises(Forbidden):
        await use_cases.escalate(uow, first.id, HEAD, new_context(HEAD), "Не согласна")
    second = await use_cases.escalate(uow, first.id, SUPERVISOR, new_context(SUPERVISOR), "Не согласна")
    assert second.filed is not None
    assert second.registered is not None
    assert second.filed.addressee == QUALITY_CONTROL
    assert second.filed.escalated_from == first.id
    assert second.filed.registry_office_id == OFFICE
    assert second.registered.answer_term.value == 15
    # From Friday 12 December 2025: 16 Dec, 1-2 Jan and 7 Jan are holidays; the 15th working day is 8 January.
    assert second.registered.answer_due_at == dt.datetime(2026, 1, 8, 17, 30, tzinfo=ALMATY)
    assert uow.events.types(first.id)[-1] == ComplaintEscalated.TYPE
    assert first.id != second.id
    assert uow.complaints.rows[first.id]["escalated_to"] == second.id
    with pytest.raises(Conflict):
        await use_cases.escalate(uow, first.id, SUPERVISOR, new_context(SUPERVISOR), "Ещё раз")
    # Only the supervisor, the quality-control body's stand-in, answers it (the office does not even see it in its
    # complaints: it sees its term among its deadlines); and it goes no further.
    with pytest.raises(NotFound):
        await use_cases.execute(use_cases.Answer(second.id, HEAD, "Ответ", "post"), uow, new_context(HEAD))
    await use_cases.execute(
        use_cases.Answer(second.id, SUPERVISOR, "Ответ", "post"), uow, new_context(SUPERVISOR)
    )
    with pytest.raises(RuleViolation):
        await use_cases.escalate(uow, second.id, SUPERVISOR, new_context(SUPERVISOR), "Дальше")
