"""Submitting an application, as a use case on the fake unit of work: receipt or refusal receipt, forwarding,
the read model and the cabinet, Idempotency-Keys, and nothing left behind by a refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from intake_commands import DESK, NOW, OPERATOR, PORTAL, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import act_application, birth_application, eds_signature, person
from btkernel import errors
from btkernel.context import Actor
from civreg import topics
from intake.app.submit import submit
from intake.app.unit_of_work import KnownRecord, Once

SUBMITTED = "kz.civreg.application.submitted.v1"
FORWARDED = "kz.civreg.application.forwarded.v1"
REFUSED = "kz.civreg.application.acceptance-refused.v1"


async def test_a_complete_package_gets_a_receipt_and_is_forwarded_at_once() -> None:
    uow = FakeIntakeUnitOfWork()
    result = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    assert result.status == "forwarded_to_registry"
    assert result.refusal_receipt is None
    assert result.receipt is not None
    assert result.receipt["number"] == "ALMATY-CON-1-2026-000001"
    assert result.receipt["form"] == "receipt"
    assert dt.date.fromisoformat(result.receipt["result_issue_date"]) > NOW.date()
    assert uow.events.types(result.application_id) == [SUBMITTED, FORWARDED]
    assert [topic for topic, _ in uow.events.outbox] == [topics.APPLICATION, topics.APPLICATION]
    row = uow.applications.rows[result.application_id]
    assert (row.status, row.centre_id, row.registry_office_id) == (
        "forwarded_to_registry",
        "almaty-con-1",
        "almaty-almaly",
    )
    assert row.receipt == result.receipt
    assert uow.commits == 1
    assert uow.cabinet.rows == {}, "only portal applicants have a cabinet"


async def test_an_incomplete_package_gets_a_refusal_receipt_naming_what_is_missing() -> None:
    uow = FakeIntakeUnitOfWork()
    body = birth_application(born=born_yesterday(), documents=["identity_document"])
    result = await submit(submit_command(body), uow)
    assert result.status == "acceptance_refused"
    assert result.receipt is None
    assert result.refusal_receipt is not None
    assert [d["code"] for d in result.refusal_receipt["missing_documents"]] == ["medical_birth_certificate"]
    assert uow.events.types(result.application_id) == [REFUSED]
    assert uow.applications.rows[result.application_id].registry_office_id is None


async def test_the_portal_applicant_is_told_of_the_acceptance_in_the_cabinet() -> None:
    uow = FakeIntakeUnitOfWork()
    body = birth_application(born=born_yesterday(), registry_office_id="almaty-almaly")
    body["signature"] = eds_signature(body["applicant"]["iin"])
    result = await submit(submit_command(body, PORTAL), uow)
    assert result.receipt is not None
    assert result.receipt["form"] == "e_registration"
    (note,) = uow.cabinet.rows.values()
    assert (note["version"], note["kind"]) == (3, "accepted")
    assert result.receipt["number"] in note["text"]


async def test_a_repeated_key_gets_the_first_answer_and_submits_nothing_new() -> None:
    uow = FakeIntakeUnitOfWork()
    body = birth_application(born=born_yesterday())
    once = Once("applications:almaty-con-1", "key-1", "hash-1")
    first = await submit(submit_command(body, once=once), uow)
    again = await submit(submit_command(body, once=once), uow)
    assert again.replayed
    assert not first.replayed
    assert again.answer() == first.answer()
    assert len(uow.events.streams) == 1
    assert len(uow.applications.rows) == 1
    with pytest.raises(errors.Conflict):
        await submit(submit_command(body, once=Once(once.scope, once.key, "another-request")), uow)
    assert len(uow.events.streams) == 1


async def test_a_repeat_that_could_not_run_again_still_gets_the_first_answer() -> None:
    """The key is looked up only when a submission cannot commit (issue 13): a repeat runs again, is stopped (here
    by the death the register announced since), and gets the first answer all the same; another request under
    the key is a conflict, even one that would have been refused anyway."""
    uow = FakeIntakeUnitOfWork()
    subject = person("Бекова", "Роза", born=dt.date(1940, 1, 1))
    body = act_application("death_registration", subject=subject, facts={"died_on": "2026-02-20"})
    once = Once("applications:almaty-con-1", "key-2", "hash-2")
    first = await submit(submit_command(body, once=once), uow)
    uow.known_records.rows["r-death"] = KnownRecord("r-death", "death", "D-1", subject["iin"], "active", NOW)
    again = await submit(submit_command(body, once=once), uow)
    assert again.replayed
    assert again.answer() == first.answer()
    assert len(uow.events.streams) == 1
    with pytest.raises(errors.Conflict):
        await submit(submit_command(body, once=Once(once.scope, once.key, "another-request")), uow)
    # Without a key nothing is looked up: the refusal itself is the answer.
    with pytest.raises(errors.RuleViolation):
        await submit(submit_command(body), uow)
    # A new key's refusal is the refusal: nothing was answered under it.
    with pytest.raises(errors.RuleViolation):
        await submit(submit_command(body, once=Once(once.scope, "key-3", "hash-2")), uow)


async def test_a_refusal_halfway_leaves_no_trace_not_even_a_receipt_number() -> None:
    uow = FakeIntakeUnitOfWork()
    await submit(submit_command(birth_application(born=born_yesterday())), uow)
    # A death already registered: refused after the checks that passed, before anything is written.
    subject = person("Бекова", "Роза", born=dt.date(1940, 1, 1))
    uow.known_records.rows["r-death"] = KnownRecord("r-death", "death", "D-1", subject["iin"], "active", NOW)
    body = act_application("death_registration", subject=subject, facts={"died_on": "2026-02-20"})
    with pytest.raises(errors.RuleViolation) as refused:
        await submit(submit_command(body), uow)
    assert refused.value.code == "already_registered_dead"
    assert refused.value.errors == [{"path": "body.details.subject.iin", "reason": refused.value.detail}]
    assert len(uow.events.streams) == 1
    assert uow.rollbacks == 1
    # The next receipt continues the numbering: the refused command consumed no number.
    ok = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    assert ok.receipt is not None
    assert ok.receipt["number"].endswith("-000002")


async def test_dates_are_judged_on_the_day_of_the_command() -> None:
    uow = FakeIntakeUnitOfWork()
    body = birth_application(born=NOW.date() + dt.timedelta(days=1))
    with pytest.raises(errors.InvalidInput) as refused:
        await submit(submit_command(body), uow)
    assert refused.value.errors[0]["path"] == "body.details.child.birth_date"
    # The same child, submitted the day after: accepted.
    later = await submit(submit_command(body, now=NOW + dt.timedelta(days=2)), uow)
    assert later.status == "forwarded_to_registry"


async def test_who_accepts_decides_the_channel() -> None:
    uow = FakeIntakeUnitOfWork()
    with pytest.raises(errors.Forbidden):
        await submit(
            submit_command(birth_application(born=born_yesterday()), Actor("s", "s", "supervisor")), uow
        )
    desk = await submit(submit_command(birth_application(born=born_yesterday()), DESK), uow)
    assert desk.receipt is not None
    assert desk.receipt["form"] == "registration_mark"
    paternity = act_application("paternity_registration", subject=person("Ким", "Олег", sex="male"))
    with pytest.raises(errors.RuleViolation) as refused:
        await submit(submit_command(paternity, OPERATOR), uow)
    assert refused.value.code == "channel_not_offered"
    assert refused.value.errors[0]["path"] == "body.service_id"
    assert len(uow.events.streams) == 1
