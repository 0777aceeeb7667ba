"""Finding an application by its receipt number (the desk's search, issue 11): exact, bounded, validated, and
scoped to the site as every list is."""

from __future__ import annotations

import re

from intake_commands import NOW, OPERATOR, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import birth_application
from btkernel.context import Actor
from intake.api.applications import RECEIPT_NUMBER_PATTERN
from intake.app import queries
from intake.app.submit import submit

OTHER_CENTRE = Actor(id="op-9", name="Омарова Дана", role="centre_operator", site="almaty-con-2")
SUPERVISOR = Actor(id="supervisor", name="Надзор", role="supervisor")


async def _receipt(uow: FakeIntakeUnitOfWork) -> tuple[str, str]:
    result = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    assert result.receipt is not None
    return result.application_id, result.receipt["number"]


async def test_the_receipt_number_finds_exactly_its_application() -> None:
    uow = FakeIntakeUnitOfWork()
    first, number = await _receipt(uow)
    await _receipt(uow)

    found = await queries.list_applications(OPERATOR, uow, receipt_number=number)
    unknown = await queries.list_applications(OPERATOR, uow, receipt_number=number[:-1] + "9")

    assert [r.application_id for r in found] == [first]
    assert unknown == []


async def test_another_centre_does_not_find_it_and_the_supervisor_does() -> None:
    uow = FakeIntakeUnitOfWork()
    application_id, number = await _receipt(uow)

    assert await queries.list_applications(OTHER_CENTRE, uow, receipt_number=number) == []
    found = await queries.list_applications(SUPERVISOR, uow, receipt_number=number)
    assert [r.application_id for r in found] == [application_id]


async def test_the_pattern_takes_the_numbers_submit_makes_and_nothing_else() -> None:
    uow = FakeIntakeUnitOfWork()
    _, number = await _receipt(uow)

    assert number.startswith(f"ALMATY-CON-1-{NOW.year}-")
    for good in (number, number.lower()):
        assert re.fullmatch(RECEIPT_NUMBER_PATTERN, good), good
    for bad in (
        "",
        "ALMATY",
        "ALMATY-CON-1-2026-12",
        "ALMATY CON-1-2026-000001",
        "%-2026-000001",
        "x" * 90 + "-2026-000001",
    ):
        assert not re.fullmatch(RECEIPT_NUMBER_PATTERN, bad), bad
