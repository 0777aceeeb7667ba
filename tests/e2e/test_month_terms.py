"""Terms measured in months, end to end: the registry is restarted a month ahead (BT_CLOCK_OFFSET_S, refused in
production) so that a marriage filed today is registered on its assigned day, as S002/App.2 p.5(4) requires."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from services_flow import OFFICE, Office, find_case, finish, hand_over, step, submit, through_review

from btdeploy.e2e import Gateway
from btdeploy.samples import act_application, person
from btdeploy.stack import Stack
from civreg.calendar import ALMATY
from workcal import months_later

pytestmark = pytest.mark.e2e


@pytest.fixture
def people() -> Office:
    return Office()


@pytest.fixture
def registry_a_month_ahead(stack: Stack) -> Iterator[Callable[[dt.datetime], None]]:
    registry = stack.service("registry")

    def shift(to: dt.datetime) -> None:
        registry.env["BT_CLOCK_OFFSET_S"] = str((to - dt.datetime.now(dt.UTC)).total_seconds())
        registry.restart()

    yield shift
    # Back to real time for the tests that follow, whatever happened.
    registry.env.pop("BT_CLOCK_OFFSET_S", None)
    registry.restart()


async def test_marriage_and_mutual_consent_divorce_are_registered_a_month_after_the_application(
    gateway: Gateway, people: Office, registry_a_month_ahead: Callable[[dt.datetime], None]
) -> None:
    bride, groom = person("Сапарова", "Алия"), person("Сапаров", "Ержан", sex="male")
    body = act_application("marriage_registration", applicant=bride, subject=bride, parties=[groom])
    accepted = await submit(gateway, people, "desk", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    day = months_later(dt.datetime.now(ALMATY).date(), 1)
    await step(gateway, people.executive, case_id, "registration-date", {"registration_on": day.isoformat()})
    too_early = await step(gateway, people.executive, case_id, "registration", {}, status=422)
    assert too_early["code"] == "too_early"
    # A divorce by mutual consent of spouses without minor children, after one month too (S002/App.9 p.5(5)).
    wife, husband = person("Нурпеисова", "Айгуль"), person("Нурпеисов", "Марат", sex="male")
    consent = act_application(
        "divorce_registration",
        applicant=wife,
        subject=wife,
        parties=[husband],
        variant="mutual_consent_no_minors",
    )
    divorce = await submit(gateway, people, "state_corporation", consent)
    divorce_case = await through_review(
        gateway, people, await find_case(gateway, people, divorce["application_id"])
    )
    assert (await step(gateway, people.executive, divorce_case, "registration", {}, status=422))[
        "code"
    ] == "too_early"

    # The assigned day comes: 10:00 in Almaty, a month from now.
    await asyncio.to_thread(registry_a_month_ahead, dt.datetime.combine(day, dt.time(10, 0), tzinfo=ALMATY))
    done = await finish(gateway, people, case_id, issuing=people.executive)
    assert done["record_number"].startswith(f"{OFFICE}/marriage/")
    registered = next(h for h in done["history"] if h["type"].endswith("act-registered.v1"))
    assert dt.datetime.fromisoformat(registered["data"]["registered_at"]).astimezone(ALMATY).date() == day
    # The ceremony: the executive hands the certificate over at the desk (S002/App.2 p.5(7)).
    app = await hand_over(gateway, people.executive, accepted, bride["iin"])
    assert app["outcome"] == "registered"

    divorced = await finish(gateway, people, divorce_case)
    assert divorced["record_number"].startswith(f"{OFFICE}/divorce/")
    await hand_over(gateway, people.operator, divorce, wife["iin"])
