"""The case use cases on a fake unit of work (no database): what each command commits, and that a refusal leaves
nothing behind — no event, no worklist change, no record number taken (S002 p.5 steps; ADR 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from registry_fakes import FakeRegistryUnitOfWork

from btdeploy.samples import birth_application, person
from btkernel.context import Actor, new_context
from btkernel.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from civreg.events.case import (
    ActRegistered,
    CaseOpened,
    CaseRegisteredInChancellery,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
    ReviewExtended,
)
from civreg.events.record import BirthRegistered, RecordRegistered
from registry.app import cases as use_cases
from registry.app.acts import ACTS
from registry.app.staff import StaffMember
from registry.domain.case import OPENED, REFUSAL_PREPARED, RESULT_SENT, UNDER_REVIEW

OFFICE = "almaty-almaly"
FILED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)  # a Monday
LATER = FILED + dt.timedelta(hours=1)
CHANCELLERY = Actor("ch-almaly", "Канцелярия", "registry_chancellery", OFFICE)
HEAD = Actor("head-almaly", "Руководитель", "registry_head", OFFICE)
EXEC = Actor("exec-almaly-1", "Исполнитель", "registry_executive", OFFICE)
WORKER = Actor("worker-almaly", "Работник", "registry_worker", OFFICE)
OTHER_EXEC = Actor("exec-almaly-2", "Исполнитель 2", "registry_executive", OFFICE)
OTHER_HEAD = Actor("head-bostandyk", "Руководитель", "registry_head", "almaty-bostandyk")


@pytest.fixture(autouse=True)
def _clock(clock_at: Callable[[dt.datetime], None]) -> None:
    # Commands read the clock; every test acts one hour after the fixed filing moment, never at today's date.
    clock_at(LATER)


def _forwarded(
    n: int = 1, service_id: str = "birth_registration", details: dict[str, Any] | None = None
) -> ApplicationForwarded:
    if details is None:
        details = birth_application(born=FILED.date() - dt.timedelta(days=1))["details"]
    return ApplicationForwarded(
        application_id=f"app-{service_id}-{n}",
        service_id=service_id,
        channel="desk",
        centre_id=OFFICE,
        registry_office_id=OFFICE,
        submitted_at=FILED,
        forwarded_at=FILED,
        receipt_number=f"R-{n}",
        applicant=person("Сейітова", "Айгүл"),
        details=details,
        documents=[],
    )


async def _open(uow: FakeRegistryUnitOfWork, n: int = 1, **kwargs: Any) -> str:
    case = await use_cases.open_case(uow, _forwarded(n, **kwargs), new_context(), FILED)
    return case.id


async def _under_review(uow: FakeRegistryUnitOfWork, case_id: str, executive: str = EXEC.id) -> None:
    await use_cases.execute(use_cases.RegisterInChancellery(case_id, CHANCELLERY), uow, new_context())
    await use_cases.execute(
        use_cases.ImposeResolution(case_id, HEAD, executive, "рассмотреть"), uow, new_context()
    )


class Directory:
    """The gateway's staff directory as the registry sees it."""

    def __init__(self, *members: StaffMember) -> None:
        self.members = {m.username: m for m in members}
        self.asked: list[str] = []

    async def member(self, username: str) -> StaffMember | None:
        self.asked.append(username)
        return self.members.get(username)


async def test_a_forwarded_application_opens_one_case_however_often_it_is_delivered() -> None:
    uow = FakeRegistryUnitOfWork()
    first = await _open(uow)
    again = await _open(uow)  # the consumer's redelivery
    assert again == first
    assert uow.events.types(first) == [CaseOpened.TYPE]
    assert uow.commits == 1
    row = uow.case_views.rows[first]
    assert row["status"] == OPENED
    # Birth on time: 1 working day from the acceptance (S002/App.1 p.5(3)), i.e. by the end of Tuesday's day.
    assert row["review_due_at"].astimezone(ALMATY).date() == dt.date(2026, 11, 24)


async def test_the_six_steps_register_a_birth_with_the_next_number_of_the_office() -> None:
    uow = FakeRegistryUnitOfWork()
    first, second = await _open(uow, 1), await _open(uow, 2)
    for case_id in (first, second):
        await _under_review(uow, case_id)
        await use_cases.execute(use_cases.RegisterAct(case_id, EXEC, None), uow, new_context())
    numbers = [uow.case_views.rows[c]["record_number"] for c in (first, second)]
    assert numbers == [f"{OFFICE}/birth/2026/000001", f"{OFFICE}/birth/2026/000002"]
    record_id = uow.case_views.rows[first]["record_id"]
    assert uow.events.types(record_id) == [BirthRegistered.TYPE]
    assert uow.record_views.rows[record_id]["number"] == numbers[0]
    assert "жұмабаев нұрсұлтан" in uow.record_views.rows[record_id]["search_names"]

    await use_cases.execute(use_cases.SignResult(first, HEAD), uow, new_context())
    case = await use_cases.execute(use_cases.SendResult(first, CHANCELLERY), uow, new_context())
    assert case.status == RESULT_SENT
    assert uow.events.types(first) == [
        CaseOpened.TYPE,
        CaseRegisteredInChancellery.TYPE,
        ResolutionImposed.TYPE,
        ActRegistered.TYPE,
        ResultSigned.TYPE,
        ResultSentToCentre.TYPE,
    ]
    row = uow.case_views.rows[first]
    assert row["status"] == RESULT_SENT
    assert row["completed_at"] is not None
    assert row["completed_at"] >= LATER
    # The last command's events are what the relay will publish, on the case topic.
    assert [e.type for e in uow.appended] == [ResultSentToCentre.TYPE]


async def test_a_refused_command_leaves_nothing_behind() -> None:
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    await use_cases.execute(use_cases.RegisterInChancellery(case_id, CHANCELLERY), uow, new_context())
    commits, rollbacks = uow.commits, uow.rollbacks
    with pytest.raises(RuleViolation, match="must be under_review first"):
        await use_cases.execute(use_cases.RegisterAct(case_id, EXEC, None), uow, new_context())
    await use_cases.execute(use_cases.ImposeResolution(case_id, HEAD, EXEC.id, "x"), uow, new_context())
    # Only the assigned executive registers; the rule is checked before a record number is taken.
    with pytest.raises(Forbidden):
        await use_cases.execute(use_cases.RegisterAct(case_id, OTHER_EXEC, None), uow, new_context())
    assert (uow.commits, uow.rollbacks) == (commits + 1, rollbacks + 2)
    assert uow.events.types(case_id) == [
        CaseOpened.TYPE,
        CaseRegisteredInChancellery.TYPE,
        ResolutionImposed.TYPE,
    ]
    assert uow.record_views.counters == {}
    assert uow.record_views.rows == {}
    assert uow.case_views.rows[case_id]["status"] == UNDER_REVIEW
    # The number the refused registration did not take is the first one given.
    await use_cases.execute(use_cases.RegisterAct(case_id, EXEC, None), uow, new_context())
    assert uow.case_views.rows[case_id]["record_number"] == f"{OFFICE}/birth/2026/000001"


async def test_another_offices_case_is_not_found() -> None:
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    with pytest.raises(NotFound, match="in your registry office"):
        await use_cases.execute(use_cases.SignResult(case_id, OTHER_HEAD), uow, new_context())
    with pytest.raises(NotFound):
        await use_cases.execute(use_cases.SignResult("no-such-case", HEAD), uow, new_context())


@pytest.mark.parametrize(
    ("executive", "fragment"),
    [
        ("nobody-such", "there is no user nobody-such"),
        ("exec-bostandyk", "another registry office"),
        ("operator1", "not an executive"),
        ("exec-gone", "disabled"),
    ],
    ids=["unknown-user", "other-office", "operator", "inactive"],
)
async def test_only_an_active_executive_of_the_office_is_assigned(executive: str, fragment: str) -> None:
    staff = Directory(
        StaffMember("exec-almaly-1", "registry_executive", OFFICE, True),
        StaffMember("exec-bostandyk", "registry_executive", "almaty-bostandyk", True),
        StaffMember("operator1", "centre_operator", "almaty-con-1", True),
        StaffMember("exec-gone", "registry_executive", OFFICE, False),
    )
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    await use_cases.execute(use_cases.RegisterInChancellery(case_id, CHANCELLERY), uow, new_context())
    opened = uow.commits, uow.rollbacks
    with pytest.raises(InvalidInput) as refused:
        await use_cases.execute(
            use_cases.ImposeResolution(case_id, HEAD, executive, "x"), uow, new_context(), staff
        )
    assert refused.value.errors == [{"path": "body.executive_id", "reason": refused.value.detail}]
    assert fragment in refused.value.detail
    # Asked before the transaction: no unit of work was opened for a refused executive.
    assert (uow.commits, uow.rollbacks) == opened
    case = await use_cases.execute(
        use_cases.ImposeResolution(case_id, HEAD, "exec-almaly-1", "x"), uow, new_context(), staff
    )
    assert case.executive_id == "exec-almaly-1"
    assert staff.asked == [executive, "exec-almaly-1"]


async def test_only_an_extension_moves_the_worklists_review_term() -> None:
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    await _under_review(uow, case_id)
    # A decree moved the term in the read model (registry.app.calendar): a command must not undo that.
    decreed = uow.case_views.rows[case_id]["review_due_at"] + dt.timedelta(days=1)
    await uow.case_views.move_review_due(case_id, decreed)
    await use_cases.execute(use_cases.ImposeResolution(case_id, HEAD, OTHER_EXEC.id, "x"), uow, new_context())
    assert uow.case_views.rows[case_id]["review_due_at"] == decreed
    case = await use_cases.execute(
        use_cases.ExtendReview(case_id, HEAD, "запрос в архив", 10), uow, new_context()
    )
    assert uow.events.types(case_id)[-1] == ReviewExtended.TYPE
    assert case.review_due_at is not None
    assert uow.case_views.rows[case_id]["review_due_at"] == case.review_due_at
    with pytest.raises(RuleViolation, match="already extended"):
        await use_cases.execute(use_cases.ExtendReview(case_id, HEAD, "ещё", 5), uow, new_context())
    assert uow.case_views.rows[case_id]["review_due_at"] == case.review_due_at


async def test_the_same_person_is_registered_dead_once() -> None:
    uow = FakeRegistryUnitOfWork()
    subject = person("Ахметов", "Ерлан", sex="male")
    first, second = [
        await _open(uow, n, service_id="death_registration", details={"subject": subject}) for n in (1, 2)
    ]
    for case_id in (first, second):
        await _under_review(uow, case_id)
    await use_cases.execute(use_cases.RegisterAct(first, EXEC, None), uow, new_context())
    record_id = uow.case_views.rows[first]["record_id"]
    assert uow.events.types(record_id) == [RecordRegistered.TYPE]
    with pytest.raises(RuleViolation) as refused:
        await use_cases.execute(use_cases.RegisterAct(second, EXEC, None), uow, new_context())
    assert refused.value.code == "already_registered_dead"
    assert refused.value.errors[0]["path"] == "case.details.subject.iin"
    assert uow.record_views.counters == {(OFFICE, "death", 2026): 1}
    # The case is not stuck: the executive refuses it with reasons.
    case = await use_cases.execute(
        use_cases.PrepareRefusal(second, EXEC, "смерть уже зарегистрирована"), uow, new_context()
    )
    assert case.status == REFUSAL_PREPARED


async def test_annulling_a_paternity_gives_the_birth_record_its_original_data_back() -> None:
    """S002/App.10 p.3: the birth record's data as before the paternity, and a repeat birth certificate."""
    uow = FakeRegistryUnitOfWork()
    birth = await _open(uow, 1)
    await _under_review(uow, birth)
    await use_cases.execute(use_cases.RegisterAct(birth, EXEC, None), uow, new_context())
    birth_record = uow.case_views.rows[birth]["record_id"]
    father = person("Жұмабаев", "Марат", sex="male")
    paternity = await _open(
        uow,
        2,
        service_id="paternity_registration",
        details={"subject": father, "birth_record_id": birth_record, "changes": {"father": father}},
    )
    await _under_review(uow, paternity)
    await use_cases.execute(use_cases.RegisterAct(paternity, EXEC, None), uow, new_context())
    assert uow.record_views.rows[birth_record]["current"]["father"] == father
    annulment = await _open(
        uow,
        3,
        service_id="annulment_of_records",
        details={"record_id": uow.case_views.rows[paternity]["record_id"], "reason": "решение суда"},
    )
    await use_cases.execute(use_cases.RegisterInChancellery(annulment, WORKER), uow, new_context())
    await use_cases.execute(use_cases.ImposeResolution(annulment, HEAD, EXEC.id, "x"), uow, new_context())
    case = await use_cases.execute(use_cases.RegisterAct(annulment, EXEC, None), uow, new_context())
    assert uow.record_views.rows[birth_record]["current"]["father"] is None
    assert case.result_documents == ["annulment_answer", "repeat_birth_certificate_with_original_data"]


def test_every_service_of_the_catalogue_forms_its_act() -> None:
    assert set(ACTS) == set(catalogue.load().ids())
