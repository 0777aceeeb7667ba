"""The partner AsyncAPI document: generated from the contracts and the catalogue, committed as generated, and
describing each agency's events exactly (its topic, its types, its fields, the signature attributes)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import yaml

from civreg import partners
from civreg.partners import asyncapi
from civreg.partners.projection import data_schema

PERSONAL = {"iin", "surname", "first_name", "patronymic"}


def _doc() -> dict[str, Any]:
    return asyncapi.generate()


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_committed_document_is_the_generated_one() -> None:
    assert asyncapi.check() == []
    assert yaml.safe_load(asyncapi.DOCUMENT.read_text(encoding="utf-8")) == _doc()


def test_check_names_a_stale_document(tmp_path: Any) -> None:
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(asyncapi.to_yaml(_doc()).replace("partner.kz-statistics", "partner.kz-stats"))
    assert "differs" in asyncapi.check(stale)[0]
    assert "missing" in asyncapi.check(tmp_path / "none.yaml")[0]


def test_one_channel_and_one_receive_operation_per_agency() -> None:
    doc = _doc()
    # An agency that only decides services (no record grants) has no record channel (ADR 0040).
    readers = [c for c in partners.all_contracts() if c.grants]
    deciders = {c.agency for c in partners.all_contracts() if c.decides is not None}
    extra = {f"{a}-{part}" for a in deciders for part in ("requests", "answers")}
    assert set(doc["channels"]) == {c.agency for c in readers} | extra
    for contract in readers:
        channel = doc["channels"][contract.agency]
        assert channel["address"] == f"partner.{contract.agency}"
        assert channel["x-contract-digest"] == contract.digest()
        assert channel["x-assumption"] is True
        operation = doc["operations"][f"receive-{contract.agency}"]
        assert operation["action"] == "receive"
        assert operation["channel"] == {"$ref": f"#/channels/{contract.agency}"}
        assert len(operation["messages"]) == len(contract.grants) == len(channel["messages"])
        group = operation["bindings"]["kafka"]["groupId"]["pattern"]
        assert group.startswith("^partner\\." + contract.agency.replace("-", "\\-"))


def test_each_message_is_the_signed_cloudevent_with_the_agencys_data() -> None:
    doc = _doc()
    contract = partners.by_agency("kz-social-fund")
    assert contract is not None
    grant = contract.grant_for("birth-registered.v1")
    assert grant is not None
    channel = doc["channels"]["kz-social-fund"]
    message = _resolve(doc, channel["messages"]["birthRegisteredV1"])
    assert message["contentType"] == "application/cloudevents+json"
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    payload = message["payload"]
    assert payload["properties"]["type"]["const"] == "kz.civreg.partner.birth-registered.v1"
    assert (
        payload["properties"]["dataschema"]["const"]
        == "urn:birtereze:partner:kz-social-fund:birth-registered.v1"
    )
    attributes = _resolve(doc, payload["allOf"][0])
    assert {"id", "subject", "btkeyid", "btsignature", "dataschema"} <= set(attributes["required"])
    data = _resolve(doc, payload["properties"]["data"])
    expected = data_schema(contract, grant)
    assert data["properties"] == expected["properties"]
    assert data["x-dataschema"] == expected["$id"]
    assert "$schema" not in data
    assert "$id" not in data


def test_the_statistics_channel_documents_no_iin_and_no_name() -> None:
    doc = _doc()
    for ref in doc["channels"]["kz-statistics"]["messages"].values():
        message = _resolve(doc, ref)
        data = _resolve(doc, message["payload"]["properties"]["data"])
        text = yaml.safe_dump(data)
        for field in PERSONAL:
            assert f"{field}:" not in text, (message["name"], field)


def test_an_event_the_projection_makes_satisfies_its_message_data_schema() -> None:
    doc = _doc()
    for contract in partners.all_contracts():
        for grant in contract.grants:
            message = doc["components"]["messages"][f"{contract.agency}.{grant.event}"]
            schema = _resolve(doc, message["payload"]["properties"]["data"])
            validator = jsonschema_rs.validator_for(schema)
            assert validator.is_valid({"record_id": "r-1"})
            assert not validator.is_valid({"record_id": "r-1", "not_granted": 1})


def test_the_description_says_how_to_verify_and_how_to_read() -> None:
    text = _doc()["info"]["description"]
    for needed in (
        "RFC 8785",
        "Ed25519",
        "/.well-known/bt-partner-keys.json",
        "read_committed",
        "De-duplicate by",
    ):
        assert needed in text
