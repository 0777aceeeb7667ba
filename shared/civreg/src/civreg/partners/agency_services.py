"""Services decided by a partner agency (issue 14; services.md §8.3, S003): the window accepts the application,
the agency decides. The contract of such an agency (`decides` in contracts.yaml) names the services and the facts
of an application the agency may see; this module is that contract's wire form, shared by the registry (which
sends requests and reads answers) and the agency's engineers (the AsyncAPI document):

* `partner.<agency>.requests` — the platform's signed CloudEvent `bt.partner.application-request.v1` per accepted
  application, key = subject = application id, data = only the granted facts (`project_request`);
* `agency.<agency>.answers` — the agency's CloudEvents `bt.agency.answer.v1` (binary mode, key = application id),
  data = `Answer`: accepted, decided, paid, or refused with a reason.

S003 gives the services and the bodies, not the data exchanged: every granted field is an assumption to agree in
the interagency agreement (contracts.yaml marks it so)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from civreg.partners.projection import SOURCE, SPEC_VERSION

REQUEST_TYPE = "bt.partner.application-request.v1"
ANSWER_TYPE = "bt.agency.answer.v1"
REQUESTS_SUFFIX = ".requests"
ANSWERS_PREFIX = "agency."
ANSWERS_SUFFIX = ".answers"

AnswerKind = Literal["accepted", "decided", "paid", "refused"]
ANSWER_KINDS: tuple[AnswerKind, ...] = ("accepted", "decided", "paid", "refused")
# How far along the agency's work each answer puts the case; an answer not further than the case is a repeat or
# arrived late, and changes nothing (registry.domain.agency_case).
RANK: dict[str, int] = {"sent": 0, "accepted": 1, "decided": 2, "refused": 2, "paid": 3}

_REQUEST_NS = uuid.UUID("0b9f3c71-5a2e-4d8b-8f41-2c6e7a9d1e04")


def requests_topic(agency: str) -> str:
    return f"partner.{agency}{REQUESTS_SUFFIX}"


def answers_topic(agency: str) -> str:
    return f"{ANSWERS_PREFIX}{agency}{ANSWERS_SUFFIX}"


def agency_of_answers_topic(topic: str) -> str | None:
    """The agency whose answer topic this is (the broker lets only that agency write it: ADR 0023, 0040)."""
    if topic.startswith(ANSWERS_PREFIX) and topic.endswith(ANSWERS_SUFFIX):
        return topic[len(ANSWERS_PREFIX) : -len(ANSWERS_SUFFIX)] or None
    return None


# -- the request ------------------------------------------------------------------------------------------------

# Every fact of an application a contract may grant (paths as in contracts.yaml: `applicant` whole or one field).
REQUEST_PROPERTIES: dict[str, dict[str, Any]] = {
    "application_id": {"type": "string", "format": "uuid", "description": "the application (subject, key)"},
    "service_id": {"type": "string", "maxLength": 64, "description": "the catalogue's service id"},
    "receipt_number": {"type": "string", "maxLength": 64, "description": "the receipt the applicant holds"},
    "centre_id": {"type": "string", "maxLength": 64, "description": "the centre that hands the result over"},
    "submitted_at": {"type": "string", "format": "date-time", "description": "accepted at the window"},
    "review_due_at": {"type": "string", "format": "date-time", "description": "the term the window promised"},
    "applicant": {
        "type": "object",
        "additionalProperties": False,
        "description": "the applicant as identified at the window",
        "properties": {
            "personal_number": {"type": "string", "maxLength": 14, "description": "PIN (Kyrgyz ПИН) or IIN"},
            "surname": {"type": "string", "maxLength": 100},
            "first_name": {"type": "string", "maxLength": 100},
            "patronymic": {"type": "string", "maxLength": 100},
            "birth_date": {"type": "string", "format": "date"},
        },
    },
    "details": {"type": "object", "description": "the service's own form fields, as the window took them"},
}


def request_facts(
    *,
    application_id: str,
    service_id: str,
    receipt_number: str,
    centre_id: str,
    submitted_at: dt.datetime,
    review_due_at: dt.datetime,
    applicant: dict[str, Any],
    details: dict[str, Any],
) -> dict[str, Any]:
    """Every fact the platform could send, before the contract prunes them (`project_request`)."""
    name = applicant.get("name") or {}
    person = {
        "personal_number": applicant.get("iin"),
        "surname": name.get("surname"),
        "first_name": name.get("first_name"),
        "patronymic": name.get("patronymic"),
        "birth_date": applicant.get("birth_date"),
    }
    return {
        "application_id": application_id,
        "service_id": service_id,
        "receipt_number": receipt_number,
        "centre_id": centre_id,
        "submitted_at": _utc(submitted_at),
        "review_due_at": _utc(review_due_at),
        "applicant": {k: v for k, v in person.items() if v is not None},
        "details": details,
    }


def project_request(facts: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """Only the granted paths: a whole fact when its name is granted, else only its granted fields."""
    out: dict[str, Any] = {}
    for path in fields:
        head, _, sub = path.partition(".")
        if head not in facts:
            continue
        if not sub:
            out[head] = copy.deepcopy(facts[head])
        elif isinstance(facts[head], dict) and sub in facts[head]:
            out.setdefault(head, {})[sub] = facts[head][sub]
    out["application_id"] = facts["application_id"]  # the subject: always sent
    return out


def check_fields(fields: dict[str, str]) -> None:
    """A contract may grant only facts the platform has."""
    for path in fields:
        head, _, sub = path.partition(".")
        schema = REQUEST_PROPERTIES.get(head)
        if schema is None:
            raise ValueError(f"a request has no fact {head!r}; known: {', '.join(REQUEST_PROPERTIES)}")
        if sub and sub not in schema.get("properties", {}):
            raise ValueError(f"a request's {head} has no field {sub!r}")


def request_event(
    agency: str, data: dict[str, Any], *, cause_id: str, time: dt.datetime, schema_id: str
) -> dict[str, Any]:
    """The unsigned CloudEvent (structured mode) for one request; its id derives from the case event that asked
    for it, so a re-send carries the same id and an agency that de-duplicates sees it once."""
    return {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid5(_REQUEST_NS, f"{agency}:{cause_id}")),
        "source": SOURCE,
        "type": REQUEST_TYPE,
        "subject": data["application_id"],
        "time": _utc(time),
        "datacontenttype": "application/json",
        "dataschema": schema_id,
        "data": data,
    }


def request_schema(agency: str, fields: dict[str, str], schema_id: str) -> dict[str, Any]:
    """The JSON Schema (draft-07 compatible) of the request `data` an agency receives: its granted facts only."""
    properties: dict[str, Any] = {"application_id": copy.deepcopy(REQUEST_PROPERTIES["application_id"])}
    for path, why in fields.items():
        head, _, sub = path.partition(".")
        full = REQUEST_PROPERTIES[head]
        if not sub:
            properties[head] = {
                **copy.deepcopy(full),
                "description": f"{full.get('description', '')} — {why}",
            }
            continue
        target = properties.setdefault(
            head, {"type": "object", "additionalProperties": False, "properties": {}}
        )
        target["properties"][sub] = {**full["properties"][sub], "description": why}
    return {
        "$id": schema_id,
        "title": f"{REQUEST_TYPE} for {agency}",
        "type": "object",
        "additionalProperties": False,
        "required": ["application_id"],
        "properties": properties,
    }


# -- the answer -------------------------------------------------------------------------------------------------


class Answer(BaseModel):
    """What the agency says about one application. Version 1; a breaking change is `bt.agency.answer.v2`."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="bt.agency.answer.v1")

    application_id: uuid.UUID = Field(description="the application the request named (its subject)")
    kind: AnswerKind = Field(
        description="accepted: taken for review; decided: granted (the result the centre hands over); "
        "paid: the first payment made; refused: not granted, with the reason"
    )
    at: dt.datetime = Field(description="when the agency decided this (RFC 3339 with offset)")
    reason: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description="why it was refused; required for `refused`, not allowed otherwise"
    )
    decision_number: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="the agency's decision or payment number, printed on the result"
    )

    @model_validator(mode="after")
    def _reason_with_refusal(self) -> Answer:
        if self.kind == "refused" and not self.reason:
            raise ValueError("a refusal must give its reason")
        if self.kind != "refused" and self.reason is not None:
            raise ValueError("only a refusal has a reason")
        if self.at.tzinfo is None:
            raise ValueError("`at` must carry its UTC offset")
        return self


def answer_schema() -> dict[str, Any]:
    schema = Answer.model_json_schema()
    schema["$id"] = "https://bir-tereze.kz/schemas/agency/bt.agency.answer.v1.json"
    return schema


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def request_schema_id(agency: str) -> str:
    return f"https://bir-tereze.kz/schemas/partners/{agency}/{REQUEST_TYPE}.json"
