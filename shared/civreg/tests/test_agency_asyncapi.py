"""The AsyncAPI document describes the work of an agency that decides services (ADR 0040): what it receives on
its request channel is what the registry sends, and what it answers is what the registry takes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jsonschema_rs

from civreg import partners
from civreg.partners import asyncapi
from civreg.partners.agency_services import (
    ANSWER_TYPE,
    REQUEST_TYPE,
    Answer,
    answers_topic,
    project_request,
    request_facts,
    requests_topic,
)

AGENCY = "kg-mlsd"


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _only_message(doc: dict[str, Any], channel: str) -> dict[str, Any]:
    (ref,) = doc["channels"][channel]["messages"].values()
    return _resolve(doc, ref)


def test_the_deciding_agency_receives_requests_and_sends_answers() -> None:
    doc = asyncapi.generate()
    assert AGENCY not in doc["channels"]  # it receives no registered acts: no record channel
    assert doc["channels"][f"{AGENCY}-requests"]["address"] == requests_topic(AGENCY)
    assert doc["channels"][f"{AGENCY}-answers"]["address"] == answers_topic(AGENCY)
    assert doc["operations"][f"receive-{AGENCY}-requests"]["action"] == "receive"
    assert doc["operations"][f"send-{AGENCY}-answers"]["action"] == "send"
    assert _only_message(doc, f"{AGENCY}-requests")["name"] == REQUEST_TYPE
    answer = _only_message(doc, f"{AGENCY}-answers")
    assert answer["name"] == ANSWER_TYPE
    assert answer["headers"]["properties"]["ce_source"]["const"] == f"/agencies/{AGENCY}"
    assert "agency.<agency>.answers" in doc["info"]["description"]


def test_a_request_the_registry_sends_satisfies_the_documented_schema() -> None:
    doc = asyncapi.generate()
    contract = partners.by_agency(AGENCY)
    assert contract is not None
    assert contract.decides is not None
    message = _only_message(doc, f"{AGENCY}-requests")
    validator = jsonschema_rs.validator_for(_resolve(doc, message["payload"]["properties"]["data"]))
    moment = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    facts = request_facts(
        application_id=str(uuid.uuid4()),
        service_id="unemployment_benefit",
        receipt_number="R-1",
        centre_id="kg-sokuluk-belek",
        submitted_at=moment,
        review_due_at=moment,
        applicant={"iin": "21234199001234", "name": {"surname": "Асанов", "first_name": "Бакыт"}},
        details={},
    )
    assert validator.is_valid(project_request(facts, contract.decides.fields))
    assert not validator.is_valid({**facts, "not_granted": 1})


def test_the_documented_answer_schema_agrees_with_the_registrys_model() -> None:
    doc = asyncapi.generate()
    validator = jsonschema_rs.validator_for(_resolve(doc, _only_message(doc, f"{AGENCY}-answers")["payload"]))
    refused = {
        "application_id": str(uuid.uuid4()),
        "kind": "refused",
        "at": "2026-12-02T10:00:00+06:00",
        "reason": "registered as employed",
    }
    assert validator.is_valid(refused)
    Answer.model_validate(refused)
    assert not validator.is_valid({**refused, "kind": "postponed"})
    assert not validator.is_valid({**refused, "extra": 1})
