"""The Kyrgyz one window (S003, services.md §8.3; ADR 0039) through the gateway: at the Belek post office of the
Sokuluk branch of Kyrgyz Pochtasy a birth, a marriage and a divorce on the Kyrgyz edition, decided by the Sokuluk
registry office in its steps; deadlines on the Kyrgyz calendar in Bishkek time; a Kazakh service and an invalid PIN
refused naming the field; the marriage's receipt in Kyrgyz and its duty decided in som."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from services_flow import Office, find_case, finish, ok, step, through_review

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.stack import Stack
from civreg import catalogue, countries, pin
from workcal import months_later

pytestmark = pytest.mark.e2e

CENTRE, OFFICE = "kg-sokuluk-belek", "kg-sokuluk"
BISHKEK = countries.timezone_of("KG")
_serial = itertools.count(101)


# The Belek post-office centre and the Sokuluk registry office (development accounts, gateway.seed).
Sokuluk = Office(
    operator=dev_user("centre_operator", CENTRE),
    chancellery=dev_user("registry_chancellery", OFFICE),
    head=dev_user("registry_head", OFFICE),
    executive=dev_user("registry_executive", OFFICE),
)
SUPERVISOR = dev_user("supervisor")


def _person(surname: str, first_name: str, sex: str, born: dt.date) -> dict[str, Any]:
    return {
        "iin": pin.make(born, sex, next(_serial)),
        "name": {"surname": surname, "first_name": first_name},
        "birth_date": born.isoformat(),
    }


def _documents(service_id: str, variant: str | None = None) -> list[str]:
    service = catalogue.load().get(service_id, on=dt.datetime.now(BISHKEK).date(), country="KG")
    assert service is not None
    return [d.code for d in service.required_documents(with_representative=False, variant=variant)]


def _application(service_id: str, applicant: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    return {
        "service_id": service_id,
        "applicant": {k: applicant[k] for k in ("iin", "name")},
        "contact": {"phone": "+996555123456", "email": "applicant@example.kg"},
        "documents": _documents(service_id, details.get("variant")),
        "details": details,
    }


def _birth(mother: dict[str, Any]) -> dict[str, Any]:
    child = {
        "name": {"surname": "Асанов", "first_name": "Бакыт"},
        "sex": "male",
        "birth_date": (dt.datetime.now(BISHKEK).date() - dt.timedelta(days=1)).isoformat(),
        "birth_place": "с. Белек, Сокулукский район",
    }
    return _application(
        "birth_registration", mother, {"child": child, "mother": {k: mother[k] for k in ("iin", "name")}}
    )


def _rows(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, (r.request.url.path, r.status_code, r.text)
    rows: list[dict[str, Any]] = r.json()
    return rows


async def _accept(gw: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    accepted = ok(await gw.as_(Sokuluk.operator, "POST", "/api/v1/applications", json=body), 201)
    assert accepted["status"] == "forwarded_to_registry", accepted
    return accepted


@pytest.fixture
def registry_a_month_ahead(stack: Stack) -> Iterator[Callable[[dt.datetime], None]]:
    registry = stack.service("registry")

    def shift(to: dt.datetime) -> None:
        registry.env["BT_CLOCK_OFFSET_S"] = str((to - dt.datetime.now(dt.UTC)).total_seconds())
        registry.restart()

    yield shift
    registry.env.pop("BT_CLOCK_OFFSET_S", None)
    registry.restart()


async def test_the_centre_offers_the_kyrgyz_edition_only(gateway: Gateway) -> None:
    listed = _rows(await gateway.as_(Sokuluk.operator, "GET", "/api/v1/services"))
    assert {s["id"] for s in listed} == {
        "birth_registration",
        "marriage_registration",
        "divorce_registration",
        "unemployment_benefit",
        "monthly_social_allowance",
        "low_income_family_allowance",
    }
    birth = next(s for s in listed if s["id"] == "birth_registration")
    assert birth["names"]["ky"] == "Төрөлгөндүктү каттоо"
    assert birth["country"] == "KG"
    kz_operator = dev_user("centre_operator", "almaty-con-1")
    kz = _rows(await gateway.as_(kz_operator, "GET", "/api/v1/services"))
    assert "unemployment_benefit" not in {s["id"] for s in kz}
    assert all(s["country"] == "KZ" for s in kz)

    # A Kazakh service at the Kyrgyz centre: refused, naming the field.
    mother = _person("Асанова", "Айгүл", "female", dt.date(1995, 3, 4))
    death = {**_birth(mother), "service_id": "death_registration", "details": {"subject": mother}}
    r = await gateway.as_(Sokuluk.operator, "POST", "/api/v1/applications", json=death)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "body.service_id"
    assert r.json()["errors"][0]["type"] == "service_of_another_country"

    # An invalid PIN (31 February) refused, naming the field and the PIN's rule.
    bad = _birth({**mother, "iin": "13102199500123"})
    r = await gateway.as_(Sokuluk.operator, "POST", "/api/v1/applications", json=bad)
    assert r.status_code == 422, r.text
    assert {(e["path"], e["type"]) for e in r.json()["errors"]} >= {("body.applicant.iin", "pin_birth_date")}
    # A Kazakh IIN is not a Kyrgyz PIN.
    kz_iin = _birth({**mother, "iin": "960214400019"})
    r = await gateway.as_(Sokuluk.operator, "POST", "/api/v1/applications", json=kz_iin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["type"] == "pin_format"
    # The mother named in the details: the same rule, at its own path.
    bad_mother = _birth(mother)
    bad_mother["details"]["mother"]["iin"] = "30403199500123"
    r = await gateway.as_(Sokuluk.operator, "POST", "/api/v1/applications", json=bad_mother)
    assert r.status_code == 422, r.text
    assert ("body.details.mother.iin", "pin_sex") in {(e["path"], e["type"]) for e in r.json()["errors"]}


async def test_a_birth_at_belek_registered_by_the_sokuluk_office_on_the_kyrgyz_calendar(
    gateway: Gateway,
) -> None:
    mother = _person("Асанова", "Айгүл", "female", dt.date(1995, 3, 4))
    accepted = await _accept(gateway, _birth(mother))
    case = await find_case(gateway, Sokuluk, accepted["application_id"])
    assert case["registry_office_id"] == OFFICE

    # The review term of the Kyrgyz edition, due at the end of the Sokuluk office's day in Bishkek time, on a day
    # the Kyrgyz calendar makes a working day.
    async def review() -> dict[str, Any] | None:
        r = await gateway.as_(
            Sokuluk.head, "GET", "/api/v1/deadlines", params={"case_id": case["case_id"], "country": "KG"}
        )
        return next((d for d in r.json() if d["kind"] == "review"), None) if r.status_code == 200 else None

    deadline = await eventually(review, what="the review deadline of the Kyrgyz case")
    assert deadline["country"] == "KG"
    assert "configuration to check" in deadline["term"]["source"]
    due = dt.datetime.fromisoformat(deadline["due_at"]).astimezone(BISHKEK)
    assert due.time() == dt.time(18, 0)
    assert countries.calendar("KG").is_working_day(due.date())
    assert (
        due.date() > dt.datetime.fromisoformat(accepted["receipt"]["accepted_at"]).astimezone(BISHKEK).date()
    )
    kz_view = await gateway.as_(
        SUPERVISOR, "GET", "/api/v1/deadlines", params={"case_id": case["case_id"], "country": "KZ"}
    )
    assert _rows(kz_view) == []

    case_id = await through_review(gateway, Sokuluk, case)
    done = await finish(gateway, Sokuluk, case_id)
    assert done["record_number"].startswith(f"{OFFICE}/birth/")

    stats = ok(
        await gateway.as_(
            SUPERVISOR,
            "GET",
            "/api/v1/statistics",
            params={
                "from": str(dt.datetime.now(BISHKEK).date() - dt.timedelta(days=1)),
                "to": str(dt.datetime.now(BISHKEK).date()),
                "country": "KG",
            },
        )
    )
    assert stats["items"]
    assert {i["country"] for i in stats["items"]} == {"KG"}
    assert {i["registry_office_id"] for i in stats["items"]} == {OFFICE}


async def test_a_marriage_and_a_divorce_on_the_kyrgyz_edition(
    gateway: Gateway, registry_a_month_ahead: Callable[[dt.datetime], None]
) -> None:
    # A divorce on a court decision: registered in the office's steps without a waiting month.
    wife = _person("Токтогулова", "Жылдыз", "female", dt.date(1990, 5, 17))
    husband = _person("Токтогулов", "Эрлан", "male", dt.date(1988, 7, 3))
    divorce = await _accept(
        gateway,
        _application(
            "divorce_registration", wife, {"variant": "court_decision", "subject": wife, "parties": [husband]}
        ),
    )
    divorce_case = await through_review(
        gateway,
        Sokuluk,
        await find_case(gateway, Sokuluk, divorce["application_id"]),
    )
    divorced = await finish(gateway, Sokuluk, divorce_case)
    assert divorced["record_number"].startswith(f"{OFFICE}/divorce/")

    # A marriage: one month after the application (Family Code of the KR, configuration to check).
    bride = _person("Бекова", "Айпери", "female", dt.date(1997, 1, 9))
    groom = _person("Садыков", "Нурлан", "male", dt.date(1995, 11, 23))
    marriage = await _accept(
        gateway, _application("marriage_registration", bride, {"subject": bride, "parties": [groom]})
    )
    await _receipt_in_kyrgyz_and_duty_in_som(gateway, marriage)
    case_id = await through_review(
        gateway,
        Sokuluk,
        await find_case(gateway, Sokuluk, marriage["application_id"]),
    )
    day = months_later(dt.datetime.now(BISHKEK).date(), 1)
    await step(gateway, Sokuluk.executive, case_id, "registration-date", {"registration_on": day.isoformat()})
    too_early = await step(gateway, Sokuluk.executive, case_id, "registration", {}, status=422)
    assert too_early["code"] == "too_early"
    # The assigned day comes: 10:00 in Bishkek, a month from now.
    await asyncio.to_thread(registry_a_month_ahead, dt.datetime.combine(day, dt.time(10, 0), tzinfo=BISHKEK))
    done = await finish(gateway, Sokuluk, case_id, issuing=Sokuluk.executive)
    assert done["record_number"].startswith(f"{OFFICE}/marriage/")
    registered = next(h for h in done["history"] if h["type"].endswith("act-registered.v1"))
    assert dt.datetime.fromisoformat(registered["data"]["registered_at"]).astimezone(BISHKEK).date() == day


async def _receipt_in_kyrgyz_and_duty_in_som(gw: Gateway, accepted: dict[str, Any]) -> None:
    """The marriage's duty is the Kyrgyz edition's in som, never the Kazakh tariff's tenge (ADR 0039): on the
    receipt, in the quote and in the fee service's decision; the receipt prints in Kyrgyz, not Kazakh."""
    application_id = accepted["application_id"]
    assert accepted["receipt"]["state_duty"]["currency"] == "KGS"
    quote = ok(await gw.as_(Sokuluk.operator, "GET", "/api/v1/services/marriage_registration/duty"))
    assert (quote["country"], quote["currency"], quote["exemptions_offered"]) == ("KG", "KGS", [])

    path = f"/api/v1/applications/{application_id}/receipt"
    r = await gw.as_(
        Sokuluk.operator, "GET", path, params={"lang": "ky"}, headers={"Accept": "application/pdf"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/pdf")
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(r.content)).pages[0].extract_text())
    for expected in (
        "Документтерди кабыл алуу тууралуу тил кат",
        "Никени каттоо",
        "Төлөнүүчү мамлекеттик алым",
    ):
        assert re.sub(r"\s+", "", expected) in text, expected
    assert re.search(r"[0-9],[0-9]{2}сом", text), text
    kazakh = await gw.as_(Sokuluk.operator, "GET", path, params={"lang": "kk"})
    assert kazakh.status_code == 422, kazakh.text
    assert kazakh.json()["errors"][0]["path"] == "query.lang"

    async def decided() -> dict[str, Any] | None:
        r = await gw.as_(Sokuluk.operator, "GET", "/api/v1/fees", params={"application_id": application_id})
        return r.json() if r.status_code == 200 else None

    fees = await eventually(decided, what="the fee decision of the Kyrgyz marriage")
    (decision,) = fees["items"]
    assert decision["currency"] == "KGS"
    assert decision["amount_mrp"] == "0"
    assert decision["mrp_value_tiyn"] is None
    assert "[KGS]" in decision["basis"]
