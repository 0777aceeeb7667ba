"""`GET /api/v1/applications?receipt_number=` on PostgreSQL (the desk's search, issue 11), and the stable code a
wrong IIN's error carries for the desk to translate."""

from __future__ import annotations

import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel.testing import actor_headers

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("op-almaly-1", "centre_operator", "almaty-con-1", "Сейткали Айгерим Нурлановна")
OTHER_CENTRE = actor_headers("op2", "centre_operator", "almaty-con-2")


async def test_a_receipt_number_finds_its_application_within_the_site(
    intake: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = intake
    first = (await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)).json()
    await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    number = first["receipt"]["number"]

    async def find(value: str, headers: dict[str, str] = OPERATOR) -> httpx.Response:
        return await client.get("/api/v1/applications", params={"receipt_number": value}, headers=headers)

    exact, lower, elsewhere = await find(number), await find(number.lower()), await find(number, OTHER_CENTRE)
    bad = await find("no-such-receipt")

    assert [a["application_id"] for a in exact.json()] == [first["application_id"]]
    assert [a["application_id"] for a in lower.json()] == [first["application_id"]]
    assert elsewhere.json() == []
    assert bad.status_code == 422
    [error] = bad.json()["errors"]
    assert (error["path"], error["type"]) == ("query.receipt_number", "string_pattern_mismatch")


async def test_a_wrong_check_digit_is_named_by_its_code(intake: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = intake
    body = birth_application()
    iin = body["applicant"]["iin"]
    body["applicant"]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)

    r = await client.post("/api/v1/applications", json=body, headers=OPERATOR)

    assert r.status_code == 422
    [error] = [e for e in r.json()["errors"] if e["path"] == "body.applicant.iin"]
    assert error["type"] == "iin_checksum"
    assert error["reason"] == "the IIN's check digit does not match: a digit is probably mistyped"
