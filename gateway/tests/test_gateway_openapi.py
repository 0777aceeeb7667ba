"""The merged OpenAPI document: routed operations only, schemas merged with renames on collision, security."""

from __future__ import annotations

from typing import Any

import httpx
from gateway_fakes import FakeUpstreams

from gateway import openapi
from gateway.routes import RouteTable


def _doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _op(ref: str, summary: str = "op") -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
            }
        },
    }


PAGE = {"type": "object", "properties": {"items": {"type": "array"}, "next": {"type": "string"}}}

INTAKE_DOC = _doc(
    {
        "/api/v1/applications/{application_id}": {"get": _op("Person")},
        "/api/v1/services": {"get": _op("Page")},
        "/api/v1/internal/rebuild": {"post": _op("Internal")},
    },
    {
        "Person": {"type": "object", "properties": {"iin": {"type": "string"}}},
        "Page": PAGE,
        "Internal": {"type": "object"},
    },
)
# Registry's Person is another definition under the same name; its Case refers to it.
REGISTRY_DOC = _doc(
    {
        "/api/v1/cases/{id}": {"get": _op("Case")},
        "/api/v1/cases/{case_id}/resolution": {"post": _op("Page")},
    },
    {
        "Case": {"type": "object", "properties": {"applicant": {"$ref": "#/components/schemas/Person"}}},
        "Person": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Page": PAGE,
    },
)


async def test_merged_document_over_http(client: httpx.AsyncClient, upstreams: FakeUpstreams) -> None:
    upstreams.openapi.update(intake=INTAKE_DOC, registry=REGISTRY_DOC)

    response = await client.get("/openapi.json")

    assert response.status_code == 200
    doc = response.json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    # the gateway's own paths
    assert "post" in paths["/api/v1/auth/token"]
    assert "get" in paths["/api/v1/auth/me"]
    assert "get" in paths["/health"]
    # routed operations of both services, nothing unrouted
    assert "get" in paths["/api/v1/applications/{application_id}"]
    assert "get" in paths["/api/v1/cases/{id}"]
    assert "/api/v1/internal/rebuild" not in paths
    assert "Internal" not in schemas
    # collision: the first service keeps the name, the other is prefixed and its refs follow
    assert schemas["Person"]["properties"] == {"iin": {"type": "string"}}
    assert schemas["registry_Person"]["properties"] == {"name": {"type": "string"}}
    assert schemas["Case"]["properties"]["applicant"] == {"$ref": "#/components/schemas/registry_Person"}
    # identical definitions are merged into one
    assert schemas["Page"] == PAGE
    assert not any(name.endswith("_Page") for name in schemas)
    # security on proxied operations; the scheme is the password flow at the token endpoint
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    operation = paths["/api/v1/cases/{case_id}/resolution"]["post"]
    assert operation["security"] == [{"bearer": []}]
    assert operation["x-roles"] == ["registry_head"]
    assert "403" in operation["responses"]
    assert "security" not in paths["/api/v1/auth/token"]["post"]
    assert paths["/api/v1/auth/me"]["get"]["security"] == [{"bearer": []}]
    assert "x-unavailable-services" not in doc["info"]


async def test_unavailable_service_is_named_and_fetched_again(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    upstreams.openapi.update(intake=INTAKE_DOC)
    upstreams.down.add("registry")

    first = (await client.get("/openapi.json")).json()

    assert "registry" in first["info"]["x-unavailable-services"]
    assert "/api/v1/cases/{id}" not in first["paths"]
    assert "/api/v1/services" in first["paths"]

    upstreams.down.clear()
    upstreams.openapi.update(registry=REGISTRY_DOC)
    intake_fetches = sum(
        r.url.path == "/openapi.json" and r.url.host == "intake.test" for r in upstreams.requests
    )

    second = (await client.get("/openapi.json")).json()

    assert "/api/v1/cases/{id}" in second["paths"]
    # intake's document came from the cache
    assert intake_fetches == sum(
        r.url.path == "/openapi.json" and r.url.host == "intake.test" for r in upstreams.requests
    )


async def test_docs_page_points_at_the_merged_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_renamed_schema_cascades_to_schemas_that_refer_to_it() -> None:
    # Both define Wrapper identically in text, but each Wrapper points at its own, different Inner.
    own = _doc({}, {})
    a = _doc(
        {"/api/v1/fees": {"get": _op("Wrapper")}},
        {"Wrapper": {"$ref": "#/components/schemas/Inner"}, "Inner": {"type": "string"}},
    )
    b = _doc(
        {"/api/v1/notifications": {"get": _op("Wrapper")}},
        {"Wrapper": {"$ref": "#/components/schemas/Inner"}, "Inner": {"type": "integer"}},
    )

    doc = openapi.merge(own, {"fee": a, "notification": b}, RouteTable())

    schemas = doc["components"]["schemas"]
    assert schemas["Inner"] == {"type": "string"}
    assert schemas["notification_Inner"] == {"type": "integer"}
    assert schemas["notification_Wrapper"] == {"$ref": "#/components/schemas/notification_Inner"}
    ref = doc["paths"]["/api/v1/notifications"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ref["schema"] == {"$ref": "#/components/schemas/notification_Wrapper"}


def test_operation_served_by_another_service_than_the_table_says_is_left_out() -> None:
    stray = _doc({"/api/v1/cases": {"get": _op("Case")}}, {"Case": {"type": "object"}})

    doc = openapi.merge(_doc({}, {}), {"intake": stray}, RouteTable())

    assert "/api/v1/cases" not in doc["paths"]
    assert "Case" not in doc["components"]["schemas"]
