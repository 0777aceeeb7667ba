"""The merged document shows an application's `details` per service (ADR 0018): one member for every service of
the catalogue and one for the amendment variant, each with an example the service accepts."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import httpx
import pytest
from gateway_fakes import FakeUpstreams

from civreg import catalogue
from civreg.events.details import AMENDMENT

# After every example's dates, so none is judged in the future; fixed, so no test depends on today.
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
async def details(client: httpx.AsyncClient, upstreams: FakeUpstreams) -> list[dict[str, Any]]:
    upstreams.openapi["intake"] = importlib.import_module("intake.main").app.openapi()
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    operation = doc["paths"]["/api/v1/applications"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.split("/")[-1]]
    members: list[dict[str, Any]] = body["properties"]["details"]["anyOf"]
    return members


def _validate(service_id: str, example: dict[str, Any]) -> object:
    """The example as intake judges it at the counter: the service's model and what the service needs."""
    channels = importlib.import_module("intake.app.channels")
    service = catalogue.load().get(service_id, on=TODAY)
    assert service is not None, service_id
    return channels.validate_details(service, example, TODAY)


def test_every_service_of_the_catalogue_has_a_member_with_an_example_it_accepts(
    details: list[dict[str, Any]],
) -> None:
    by_service = {m["x-service-id"]: m for m in details if "x-service-id" in m}
    assert set(by_service) == set(catalogue.load().ids())
    for service_id, member in by_service.items():
        assert member["title"], service_id
        [example] = member["examples"]
        # Each member marks what its service needs (NEEDS), and its example gives all of it.
        assert set(member["required"]) <= set(example), service_id
        assert type(_validate(service_id, example)).__name__ == member["title"], service_id


def test_the_amendment_variant_has_its_member_accepted_by_every_service_that_offers_it(
    details: list[dict[str, Any]],
) -> None:
    [member] = [m for m in details if m.get("x-variant") == AMENDMENT]
    [example] = member["examples"]
    assert {"record_id", "changes"} <= set(member["required"])
    services = [catalogue.load().get(s, on=TODAY) for s in catalogue.load().ids()]
    offering = [s.id for s in services if s is not None and AMENDMENT in s.variants()]
    assert "birth_registration" in offering
    for service_id in offering:
        assert type(_validate(service_id, example)).__name__ == "AmendmentDetails", service_id


def test_the_members_stand_without_components(details: list[dict[str, Any]]) -> None:
    # Inlined, so the gateway's renaming of colliding components can never leave a member pointing elsewhere.
    assert "$ref" not in str(details)
    birth = next(m for m in details if m.get("x-service-id") == "birth_registration")
    assert birth["properties"]["child"]["properties"]["sex"]["enum"] == ["male", "female"]
    assert birth["additionalProperties"] is False
