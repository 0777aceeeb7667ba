"""What the desk offers on a case: the actions the policy table gives the role and the case accepts in its state
(registry.domain.case_actions), along the six steps of a birth (S002 p.5) — and that asking changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from registry_fakes import FakeRegistryUnitOfWork

from btdeploy.samples import birth_application, person
from btkernel.context import Actor, new_context
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from civreg.policy import POLICY
from registry.app import cases as use_cases
from registry.app import queries
from registry.domain.case import Case
from registry.domain.case_actions import ACTIONS, allowed_actions

OFFICE = "almaty-almaly"
FILED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)  # a Monday
LATER = FILED + dt.timedelta(hours=1)
CHANCELLERY = Actor("ch-almaly", "Канцелярия", "registry_chancellery", OFFICE)
HEAD = Actor("head-almaly", "Руководитель", "registry_head", OFFICE)
EXEC = Actor("exec-almaly-1", "Исполнитель", "registry_executive", OFFICE)
OTHER_EXEC = Actor("exec-almaly-2", "Исполнитель 2", "registry_executive", OFFICE)
WORKER = Actor("worker-almaly", "Работник", "registry_worker", OFFICE)


@pytest.fixture(autouse=True)
def _clock(clock_at: Callable[[dt.datetime], None]) -> None:
    clock_at(LATER)


async def _open(uow: FakeRegistryUnitOfWork) -> str:
    forwarded = ApplicationForwarded(
        application_id="app-birth-actions",
        service_id="birth_registration",
        channel="desk",
        centre_id=OFFICE,
        registry_office_id=OFFICE,
        submitted_at=FILED,
        forwarded_at=FILED,
        receipt_number="R-1",
        applicant=person("Сейітова", "Айгүл"),
        details=birth_application(born=FILED.date() - dt.timedelta(days=1))["details"],
        documents=[],
    )
    return (await use_cases.open_case(uow, forwarded, new_context(), FILED)).id


async def _under_review(uow: FakeRegistryUnitOfWork, case_id: str) -> None:
    await use_cases.execute(use_cases.RegisterInChancellery(case_id, CHANCELLERY), uow, new_context())
    await use_cases.execute(
        use_cases.ImposeResolution(case_id, HEAD, EXEC.id, "рассмотреть"), uow, new_context()
    )


async def _case(uow: FakeRegistryUnitOfWork, case_id: str) -> Case:
    case = await uow.events.load_aggregate(Case, case_id)
    assert case is not None
    return case


async def _offered(uow: FakeRegistryUnitOfWork, case_id: str, *actors: Actor) -> dict[str, list[str]]:
    case = await _case(uow, case_id)
    return {a.id: allowed_actions(case, a, LATER) for a in actors}


def test_every_action_is_an_operation_of_the_policy_table() -> None:
    # The desk posts to the action's path: a name without an operation would be a button that 404s.
    for action in ACTIONS:
        assert POLICY.find("POST", action.path) is not None, action.name


async def test_each_step_offers_exactly_what_the_role_may_do_in_that_state() -> None:
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    everyone = (CHANCELLERY, HEAD, EXEC, OTHER_EXEC, WORKER)
    # Birth is registered by the chancellery, not by the worker (S002/App.1 p.5(1); App.10 p.7 is annulment's).
    assert await _offered(uow, case_id, *everyone) == {
        CHANCELLERY.id: ["chancellery-registration"],
        HEAD.id: [],
        EXEC.id: [],
        OTHER_EXEC.id: [],
        WORKER.id: [],
    }
    await _under_review(uow, case_id)
    # The head may re-assign and extend; only the assigned executive registers, refuses or extends. Birth has
    # no date assignment (desk channel) and no third-party notice.
    assert await _offered(uow, case_id, *everyone) == {
        CHANCELLERY.id: [],
        HEAD.id: ["resolution", "extension"],
        EXEC.id: ["extension", "registration", "refusal"],
        OTHER_EXEC.id: [],
        WORKER.id: [],
    }
    await use_cases.execute(
        use_cases.ExtendReview(case_id, EXEC, "запрос в другой орган", 5), uow, new_context()
    )
    # Extended once: never again (S002 §2.2).
    assert (await _offered(uow, case_id, HEAD, EXEC))[EXEC.id] == ["registration", "refusal"]
    await use_cases.execute(use_cases.RegisterAct(case_id, EXEC, None), uow, new_context())
    assert await _offered(uow, case_id, CHANCELLERY, HEAD, EXEC) == {
        CHANCELLERY.id: [],
        HEAD.id: ["signature"],
        EXEC.id: [],
    }
    await use_cases.execute(use_cases.SignResult(case_id, HEAD), uow, new_context())
    assert await _offered(uow, case_id, CHANCELLERY, HEAD, EXEC) == {
        CHANCELLERY.id: ["dispatch"],
        HEAD.id: [],
        EXEC.id: [],
    }
    await use_cases.execute(use_cases.SendResult(case_id, CHANCELLERY), uow, new_context())
    assert await _offered(uow, case_id, *everyone) == {a.id: [] for a in everyone}


async def test_asking_changes_nothing_and_the_case_view_carries_the_answer() -> None:
    uow = FakeRegistryUnitOfWork()
    case_id = await _open(uow)
    before = await _case(uow, case_id)
    version = before.version
    assert allowed_actions(before, CHANCELLERY, LATER) == ["chancellery-registration"]
    assert (before.version, before.pending, before.status) == (version, [], "opened")
    detail = await queries.case_detail(CHANCELLERY, case_id, uow)
    assert detail.allowed_actions == ["chancellery-registration"]
    assert (await queries.case_detail(HEAD, case_id, uow)).allowed_actions == []
