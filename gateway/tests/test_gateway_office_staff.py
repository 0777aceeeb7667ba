"""The public list of a site's staff (gateway.office_staff): the office's head and chancellery see their own
office, the supervisor the site it names, nobody else; active accounts only; bounded; in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from gateway_fakes import MemoryUsers, cheap_user

from gateway import office_staff

Auth = Callable[[str], dict[str, str]]


async def test_the_head_sees_the_active_executives_of_the_own_office(
    client: httpx.AsyncClient, auth: Auth, users: MemoryUsers
) -> None:
    users.users["executive1b"] = replace(users.users["executive1b"], active=False)

    r = await client.get("/api/v1/staff", params={"role": "registry_executive"}, headers=auth("head1"))

    assert r.status_code == 200, r.text
    assert r.json() == {
        "site_id": "almaty-almaly",
        "items": [
            {
                "username": "executive1a",
                "full_name": "Касымова Динара Маратовна",
                "role": "registry_executive",
            }
        ],
        "truncated": False,
    }
    # Nothing about passwords or sessions, whatever the store holds.
    assert "password_hash" not in r.text


async def test_without_a_role_the_whole_office_and_the_chancellery_sees_it_too(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    r = await client.get("/api/v1/staff", headers=auth("chancellery2"))

    assert r.status_code == 200, r.text
    names = [i["username"] for i in r.json()["items"]]
    assert names == sorted(names)
    assert set(names) == {"chancellery2", "head2", "executive2a", "executive2b", "worker2"}


async def test_the_supervisor_names_the_site(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(
        "/api/v1/staff",
        params={"site_id": "astana-yesil", "role": "registry_executive"},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert [i["username"] for i in r.json()["items"]] == ["executive3a", "executive3b"]

    unnamed = await client.get("/api/v1/staff", headers=auth("supervisor"))
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["path"] == "query.site_id"
    unknown = await client.get("/api/v1/staff", params={"site_id": "atlantis"}, headers=auth("supervisor"))
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["path"] == "query.site_id"


@pytest.mark.parametrize("username", ["executive1a", "operator1", "worker1", "egov-portal"])
async def test_other_roles_are_refused(client: httpx.AsyncClient, auth: Auth, username: str) -> None:
    r = await client.get("/api/v1/staff", headers=auth(username))
    assert r.status_code == 403
    assert sorted(r.json()["allowed_roles"]) == ["registry_chancellery", "registry_head", "supervisor"]


async def test_another_office_is_refused_to_a_head(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/api/v1/staff", params={"site_id": "almaty-bostandyk"}, headers=auth("head1"))
    assert r.status_code == 403
    own = await client.get("/api/v1/staff", params={"site_id": "almaty-almaly"}, headers=auth("head1"))
    assert own.status_code == 200


async def test_no_token_is_401_and_bad_input_names_the_parameter(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    assert (await client.get("/api/v1/staff")).status_code == 401
    bad_role = await client.get("/api/v1/staff", params={"role": "king"}, headers=auth("head1"))
    assert bad_role.status_code == 422
    assert bad_role.json()["errors"][0]["path"] == "query.role"
    long_site = await client.get("/api/v1/staff", params={"site_id": "x" * 101}, headers=auth("supervisor"))
    assert long_site.status_code == 422
    assert long_site.json()["errors"][0]["path"] == "query.site_id"


async def test_the_list_is_bounded(
    client: httpx.AsyncClient, auth: Auth, users: MemoryUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_staff, "LIMIT", 3)
    for n in range(5):
        user = cheap_user(
            f"extra{n}", "extra-pass-123", f"Сотрудник {n}", "registry_executive", "almaty-almaly"
        )
        users.users[user.username] = user

    r = await client.get("/api/v1/staff", params={"role": "registry_executive"}, headers=auth("head1"))

    assert r.status_code == 200
    assert len(r.json()["items"]) == 3
    assert r.json()["truncated"] is True


async def test_the_operation_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    operation = doc["paths"]["/api/v1/staff"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert {p["name"] for p in operation["parameters"]} == {"role", "site_id"}
