"""Each of the ten services end to end through the gateway — intake on its channel, the office's steps, the result
in hand — and the refusal paths: wrong channel, incomplete package, too early, reasoned refusal. One shared stack."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from services_flow import (
    OFFICE,
    Office,
    find_case,
    finish,
    hand_over,
    history,
    ok,
    ready,
    register_birth,
    step,
    submit,
    through_review,
)

from btdeploy.e2e import Gateway, eventually
from btdeploy.samples import act_application, birth_application, eds_signature, person, required_documents
from btdeploy.smtp_sink import SmtpSink
from btkernel import clock
from civreg.calendar import ALMATY
from workcal import months_later as add_months

pytestmark = pytest.mark.e2e


@pytest.fixture
def people() -> Office:
    return Office()


async def test_birth_on_the_portal_with_cabinet_notifications(gateway: Gateway, people: Office) -> None:
    body = birth_application()
    accepted = await submit(gateway, people, "portal", body)
    assert accepted["receipt"]["form"] == "e_registration"
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    # The date of issue, told in the personal cabinet (services.md §2.7: birth — the date of issue).
    issue_on = clock.today(ALMATY).isoformat()
    await step(gateway, people.executive, case_id, "registration-date", {"registration_on": issue_on})
    done = await finish(gateway, people, case_id)
    assert done["record_number"].startswith(f"{OFFICE}/birth/")
    # The paper result is collected at the office (S002 p.2): the chancellery hands it over.
    await hand_over(gateway, people.chancellery, accepted, body["applicant"]["iin"])

    async def cabinet() -> list[dict[str, Any]] | None:
        r = await gateway.as_(
            people.portal,
            "GET",
            "/api/v1/portal/notifications",
            params={"application_id": accepted["application_id"]},
        )
        notes: list[dict[str, Any]] = r.json()
        return notes if len(notes) == 3 else None

    notes = await eventually(cabinet, what="three personal-cabinet notifications")
    assert [n["kind"] for n in notes] == ["accepted", "date_assigned", "result_ready"]
    assert notes[1]["text"].startswith("Назначена дата выдачи результата")


async def test_marriage_on_the_portal_date_not_before_a_month_then_refusal_in_hand(
    gateway: Gateway, people: Office, smtp_sink: SmtpSink
) -> None:
    bride, groom = person("Омарова", "Дана"), person("Омаров", "Арман", sex="male")
    email = f"bride-{uuid.uuid4().hex[:8]}@example.kz"
    body = act_application(
        "marriage_registration", applicant=bride, email=email, subject=bride, parties=[groom]
    )
    centre = await gateway.as_(people.operator, "POST", "/api/v1/applications", json=body)
    assert centre.status_code == 422
    assert centre.json()["errors"][0]["path"] == "body.service_id"
    accepted = await submit(gateway, people, "portal", body)
    assert accepted["receipt"]["form"] == "e_registration"
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    today = clock.today(ALMATY)
    early = await step(
        gateway,
        people.executive,
        case_id,
        "registration-date",
        {"registration_on": today.isoformat()},
        status=422,
    )
    assert early["errors"][0]["path"] == "body.registration_on"
    # Registration without a date, or before the assigned date, is refused (S002/App.2 p.5(4)).
    await step(gateway, people.executive, case_id, "registration", {}, status=422)
    month = add_months(today, 1).isoformat()
    assigned = await step(gateway, people.executive, case_id, "registration-date", {"registration_on": month})
    assert assigned["status"] == "date_assigned"
    # The couple sees the assigned date in the personal cabinet (S002/App.2 p.5(4)).
    cabinet = {"application_id": accepted["application_id"]}

    async def cabinet_kinds() -> list[str] | None:
        r = await gateway.as_(people.portal, "GET", "/api/v1/portal/notifications", params=cabinet)
        kinds = [n["kind"] for n in r.json()]
        return kinds if "date_assigned" in kinds else None

    assert await eventually(cabinet_kinds, what="the date in the personal cabinet") == [
        "accepted",
        "date_assigned",
    ]
    too_early = await step(gateway, people.executive, case_id, "registration", {}, status=422)
    assert too_early["code"] == "too_early"
    # The couple cannot come: a reasoned refusal (point 10 of the Standard), signed, handed over at the ceremony
    # desk by the executive — the marriage's issuing role (S002/App.2 p.5(6)-(7)).
    await step(
        gateway, people.executive, case_id, "refusal", {"reason": "брак с лицом, состоящим в другом браке"}
    )
    await step(gateway, people.head, case_id, "signature")
    await step(gateway, people.chancellery, case_id, "dispatch", status=403)
    await step(gateway, people.executive, case_id, "dispatch")
    app = await hand_over(gateway, people.executive, accepted, bride["iin"])
    assert app["outcome"] == "refused"
    assert "другом браке" in app["refusal_reason"]
    assert await cabinet_kinds() == ["accepted", "date_assigned", "refused"]
    # The refusal reached the applicant by mail too, as a consumer of the application's events.
    (mail,) = smtp_sink.wait_for(email, count=1, timeout=60)
    assert "другом браке" in mail.text()


async def test_repeat_certificate_at_a_centre_and_not_at_the_desk_unless_from_abroad(
    gateway: Gateway, people: Office
) -> None:
    birth = await register_birth(gateway, people)
    body = act_application(
        "repeat_certificates", record_id=birth["record_id"], variant="electronic_since_2008"
    )
    wrong = await gateway.as_(people.chancellery, "POST", "/api/v1/applications", json=body)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "body.details.from_abroad"
    accepted = await submit(gateway, people, "state_corporation", body)
    case = await find_case(gateway, people, accepted["application_id"])
    assert case["review_term"]["value"] == 2
    assert case["review_term"]["unit"] == "hours"
    done = await finish(gateway, people, await through_review(gateway, people, case))
    assert done["record_number"] == birth["record_number"]
    await hand_over(gateway, people.operator, accepted, body["applicant"]["iin"])
    abroad = act_application("repeat_certificates", record_id=birth["record_id"], from_abroad=True)
    assert (
        await gateway.as_(people.chancellery, "POST", "/api/v1/applications", json=abroad)
    ).status_code == 201


async def test_paternity_at_the_desk_only_amends_the_birth_record(gateway: Gateway, people: Office) -> None:
    birth = await register_birth(gateway, people)
    father = person("Жұмабаев", "Марат", sex="male")
    body = act_application(
        "paternity_registration",
        applicant=father,
        subject=father,
        birth_record_id=birth["record_id"],
        changes={"father": {"iin": father["iin"], "name": father["name"]}},
    )
    for channel_user in (people.operator, people.portal):
        refused = await gateway.as_(channel_user, "POST", "/api/v1/applications", json=body)
        assert refused.status_code in (403, 422), refused.text
        if refused.status_code == 422:
            assert refused.json()["errors"][0]["path"] in ("body.service_id", "body.signature")
    accepted = await submit(gateway, people, "desk", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    done = await finish(gateway, people, case_id)
    assert done["record_number"].startswith(f"{OFFICE}/paternity/")
    await hand_over(gateway, people.chancellery, accepted, father["iin"])
    assert await history(gateway, people, birth["record_id"]) == ["birth-registered", "amended"]
    record = ok(await gateway.as_(people.executive, "GET", f"/api/v1/records/{birth['record_id']}"))
    assert record["content"]["current"]["father"]["iin"] == father["iin"]


async def test_name_change_at_a_centre_reissues_the_birth_certificate(
    gateway: Gateway, people: Office
) -> None:
    birth = await register_birth(gateway, people)
    subject = person("Иванова", "Мария")
    body = act_application(
        "name_change_registration",
        applicant=subject,
        subject=subject,
        birth_record_id=birth["record_id"],
        changes={"child_name": {"surname": "Жұмабаев", "first_name": "Әлихан"}},
    )
    accepted = await submit(gateway, people, "state_corporation", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    await finish(gateway, people, case_id)
    detail = ok(await gateway.as_(people.head, "GET", f"/api/v1/cases/{case_id}"))
    registered = next(h for h in detail["history"] if h["type"].endswith("act-registered.v1"))
    assert registered["data"]["result_documents"] == ["name_change_certificate", "birth_certificate"]
    await hand_over(gateway, people.operator, accepted, subject["iin"])
    found = ok(
        await gateway.as_(people.executive, "GET", "/api/v1/records", params={"name": "иванова МАРИЯ"})
    )
    assert any(r["kind"] == "name_change" for r in found)  # type: ignore[union-attr]


async def test_restoration_on_a_court_decision_at_a_centre(gateway: Gateway, people: Office) -> None:
    subject = person("Әбілова", "Ұлжан", born=dt.date(1975, 3, 3))
    body = act_application(
        "restoration_of_records",
        applicant=subject,
        variant="court_decision",
        subject=subject,
        record_kind="birth",
        facts={"court": "Алмалинский районный суд г. Алматы", "place_of_registration": "Алматы, 1975"},
    )
    assert sorted(body["documents"]) == ["application_form", "court_decision", "identity_document"]
    accepted = await submit(gateway, people, "state_corporation", body)
    case = await find_case(gateway, people, accepted["application_id"])
    assert (case["review_term"]["value"], case["review_term"]["unit"]) == (7, "working_days")
    done = await finish(gateway, people, await through_review(gateway, people, case))
    assert done["record_number"].startswith(f"{OFFICE}/birth/")
    await hand_over(gateway, people.operator, accepted, subject["iin"])
    # Search by name ignores case, Kazakh letters included.
    found = ok(
        await gateway.as_(people.executive, "GET", "/api/v1/records", params={"name": "ӘБІЛОВА ұлжан"})
    )
    assert [r["record_number"] for r in found] == [done["record_number"]]  # type: ignore[index]
    assert found[0]["content"]["restored"] is True  # type: ignore[index]
    today = clock.today(ALMATY).isoformat()
    by_kind = ok(
        await gateway.as_(
            people.executive,
            "GET",
            "/api/v1/records",
            params={"iin": subject["iin"], "kind": "birth", "registered_from": today, "registered_to": today},
        )
    )
    assert [r["record_number"] for r in by_kind] == [done["record_number"]]  # type: ignore[index]
    none = await gateway.as_(
        people.executive, "GET", "/api/v1/records", params={"iin": subject["iin"], "kind": "death"}
    )
    assert none.json() == []


async def test_death_at_the_desk_with_one_extension(
    gateway: Gateway, people: Office, smtp_sink: SmtpSink
) -> None:
    deceased = person("Сейтов", "Болат", sex="male", born=dt.date(1940, 1, 1))
    email = f"death-{uuid.uuid4().hex[:8]}@example.kz"
    body = act_application(
        "death_registration",
        subject=deceased,
        facts={"died_on": clock.today(ALMATY).isoformat()},
        document="death_spravka",
        email=email,
    )
    accepted = await submit(gateway, people, "desk", body)
    # At the desk: a registration mark with the date and time of acceptance (S002/App.1 p.10).
    assert accepted["receipt"]["form"] == "registration_mark"
    assert "T" in accepted["receipt"]["accepted_at"]
    case = await find_case(gateway, people, accepted["application_id"])
    assert (case["review_term"]["value"], case["review_term"]["unit"]) == (3, "hours")
    case_id = await through_review(gateway, people, case)
    no_reason = await gateway.as_(
        people.head, "POST", f"/api/v1/cases/{case_id}/extension", json={"reason": "", "days": 10}
    )
    assert no_reason.status_code == 422
    extended = await step(gateway, people.head, case_id, "extension", {"reason": "запрос в МВД", "days": 30})
    assert extended["review_due_at"] > case["review_due_at"]
    again = await step(gateway, people.head, case_id, "extension", {"reason": "ещё", "days": 1}, status=422)
    assert again["code"] == "already_extended"
    # The applicant is told of the extension (S002 §2.2), and that obligation's deadline closes on delivery.
    [notice] = await asyncio.to_thread(smtp_sink.wait_for, email, 1, 60.0)
    assert "продлён" in notice.subject
    assert "запрос в МВД" in notice.text()

    async def notice_given() -> dict[str, Any] | None:
        r = await gateway.as_(
            people.head, "GET", "/api/v1/deadlines", params={"case_id": case_id, "include_done": "true"}
        )
        kinds = {d["kind"]: d for d in r.json()}
        return kinds if kinds.get("extension_notice", {}).get("status") == "met" else None

    kinds = await eventually(notice_given, what="the extension notice met")
    assert kinds["review"]["status"] == "superseded"
    assert kinds["review:extended"]["status"] == "running"
    done = await finish(gateway, people, case_id)
    assert done["record_number"].startswith(f"{OFFICE}/death/")
    sent = next(h for h in done["history"] if h["type"].endswith("result-sent-to-centre.v1"))
    assert sent["data"]["result_documents"] == ["death_spravka"]
    await hand_over(gateway, people.chancellery, accepted, body["applicant"]["iin"])


async def test_adoption_at_the_desk(gateway: Gateway, people: Office) -> None:
    birth = await register_birth(gateway, people)
    child = person("Нұрланова", "Аружан")
    body = act_application(
        "adoption_registration", subject=child, birth_record_id=birth["record_id"], changes={"adopted": True}
    )
    refused = await gateway.as_(people.operator, "POST", "/api/v1/applications", json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.service_id"
    accepted = await submit(gateway, people, "desk", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    done = await finish(gateway, people, case_id)
    assert done["record_number"].startswith(f"{OFFICE}/adoption/")
    await hand_over(gateway, people.chancellery, accepted, body["applicant"]["iin"])


async def test_divorce_of_an_imprisoned_spouse_needs_the_notice_and_mutual_consent_waits(
    gateway: Gateway, people: Office
) -> None:
    wife, husband = person("Ахметова", "Гүлнар"), person("Ахметов", "Ерлан", sex="male")
    variant = "spouse_missing_incapacitated_or_imprisoned"
    body = act_application(
        "divorce_registration", applicant=wife, subject=wife, parties=[husband], variant=variant
    )
    accepted = await submit(gateway, people, "state_corporation", body)
    case = await find_case(gateway, people, accepted["application_id"])
    assert (case["review_term"]["value"], case["review_term"]["unit"]) == (45, "calendar_days")
    case_id = await through_review(gateway, people, case)
    first = await step(gateway, people.executive, case_id, "registration", {}, status=422)
    assert first["code"] == "third_party_not_notified"
    await step(gateway, people.executive, case_id, "third-party-notice", {"party": "Ахметов Е., ИК-155"})
    await finish(gateway, people, case_id)
    await hand_over(gateway, people.operator, accepted, wife["iin"])

    consent = act_application(
        "divorce_registration",
        applicant=wife,
        subject=wife,
        parties=[husband],
        variant="mutual_consent_no_minors",
    )
    accepted = await submit(gateway, people, "state_corporation", consent)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    too_early = await step(gateway, people.executive, case_id, "registration", {}, status=422)
    assert too_early["code"] == "too_early"

    incomplete = act_application(
        "divorce_registration", subject=wife, parties=[husband], documents=["identity_document"]
    )
    r = ok(await gateway.as_(people.operator, "POST", "/api/v1/applications", json=incomplete), 201)
    assert r["status"] == "acceptance_refused"
    assert "App.5" in r["refusal_receipt"]["reason"]


async def test_annulment_of_paternity_restores_the_birth_record(gateway: Gateway, people: Office) -> None:
    birth = await register_birth(gateway, people)
    father = person("Жұмабаев", "Серік", sex="male")
    paternity = act_application(
        "paternity_registration",
        applicant=father,
        subject=father,
        birth_record_id=birth["record_id"],
        changes={"father": {"iin": father["iin"], "name": father["name"]}},
    )
    accepted = await submit(gateway, people, "desk", paternity)
    done = await finish(
        gateway,
        people,
        await through_review(gateway, people, await find_case(gateway, people, accepted["application_id"])),
    )
    annul = act_application(
        "annulment_of_records", variant="court_decision", record_id=done["record_id"], reason="решение суда"
    )
    accepted = await submit(gateway, people, "desk", annul)
    case = await find_case(gateway, people, accepted["application_id"])
    # The worker of the provider registers instead of the chancellery; the executive issues (S002/App.10 p.7).
    await step(gateway, people.chancellery, case["case_id"], "chancellery-registration", status=403)
    case_id = await through_review(gateway, people, case, registering=people.worker)
    await finish(gateway, people, case_id, issuing=people.executive)
    await hand_over(gateway, people.executive, accepted, annul["applicant"]["iin"])
    assert await history(gateway, people, birth["record_id"]) == ["birth-registered", "amended", "amended"]
    record = ok(await gateway.as_(people.executive, "GET", f"/api/v1/records/{birth['record_id']}"))
    assert record["content"]["current"]["father"] is None
    annulled = ok(await gateway.as_(people.executive, "GET", f"/api/v1/records/{done['record_id']}"))
    assert annulled["status"] == "annulled"


async def test_portal_signature_checks_and_the_catalogue(gateway: Gateway, people: Office) -> None:
    body = birth_application()
    forged = {**body, "registry_office_id": OFFICE, "signature": eds_signature(person("Х", "Ы")["iin"])}
    r = await gateway.as_(people.portal, "POST", "/api/v1/applications", json=forged)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.signature.signer_iin"
    marriage = ok(await gateway.as_(people.portal, "GET", "/api/v1/services/marriage_registration"))
    assert marriage["channels"] == ["desk", "portal"]
    old = ok(
        await gateway.as_(
            people.portal, "GET", "/api/v1/services/restoration_of_records", params={"on": "2017-05-01"}
        )
    )
    assert old["source"] == "S004"
    assert old["fee"]["amount_mrp"] == "0.5"
    assert len(old["editions"]) == 2
    choices = (await gateway.as_(people.portal, "GET", "/api/v1/services/contradictions")).json()
    assert any("Restoration" in c["choice"] for c in choices)
    assert required_documents("marriage_registration")  # the checklist is data
    spec = (await gateway.client.get("/openapi.json")).json()
    for path in (
        "/api/v1/services/contradictions",
        "/api/v1/portal/notifications",
        "/api/v1/cases/{case_id}/extension",
        "/api/v1/cases/{case_id}/refusal",
        "/api/v1/cases/{case_id}/registration-date",
        "/api/v1/cases/{case_id}/third-party-notice",
        "/api/v1/records/{record_id}/history",
        "/api/v1/applications/{application_id}/return-to-registry",
    ):
        assert path in spec["paths"], path


async def test_a_result_kept_at_the_centre_is_not_returned_before_a_month(
    gateway: Gateway, people: Office
) -> None:
    body = birth_application(email=f"keep-{uuid.uuid4().hex[:6]}@example.kz")
    accepted = await submit(gateway, people, "state_corporation", body)
    case_id = await through_review(
        gateway, people, await find_case(gateway, people, accepted["application_id"])
    )
    await finish(gateway, people, case_id)
    await ready(gateway, people.operator, accepted["application_id"])
    r = await gateway.as_(
        people.operator, "POST", f"/api/v1/applications/{accepted['application_id']}/return-to-registry"
    )
    assert r.status_code == 422
    assert r.json()["code"] == "too_early"

    async def still_waiting() -> Any:
        a = await gateway.as_(people.operator, "GET", f"/api/v1/applications/{accepted['application_id']}")
        return a.json()["result_received_at"]

    assert await eventually(still_waiting, what="the moment the result arrived")


async def test_an_amendment_changes_a_record_by_an_event_and_keeps_its_history(
    gateway: Gateway, people: Office
) -> None:
    birth = await register_birth(gateway, people)
    body = act_application(
        "birth_registration",
        variant="amendment",
        record_id=birth["record_id"],
        change="correction",
        changes={"child_birth_place": "Алматы, Алмалинский район"},
        reason="ошибка в месте рождения",
    )
    accepted = await submit(gateway, people, "state_corporation", body)
    case = await find_case(gateway, people, accepted["application_id"])
    assert (case["review_term"]["value"], case["review_term"]["unit"]) == (7, "working_days")
    done = await finish(gateway, people, await through_review(gateway, people, case))
    assert done["record_number"] == birth["record_number"]  # amended, not registered again
    await hand_over(gateway, people.operator, accepted, body["applicant"]["iin"])
    entries = ok(await gateway.as_(people.executive, "GET", f"/api/v1/records/{birth['record_id']}/history"))
    amended = entries[-1]  # type: ignore[index]
    assert amended["data"]["previous"] == {"child_birth_place": "Алматы"}
    assert amended["data"]["changes"] == {"child_birth_place": "Алматы, Алмалинский район"}
