"""The part of the AsyncAPI document for an agency that decides services (ADR 0040; issue 14): the channel it
receives each accepted application on (`partner.<agency>.requests`, the platform's signed CloudEvent in structured
mode, data = only the facts its contract's `decides` grants) and the channel it answers on
(`agency.<agency>.answers`, binary-mode CloudEvents `bt.agency.answer.v1`), with a receive and a send operation.
`civreg.partners.asyncapi.generate` calls `add` for every contract with a `decides` section."""

from __future__ import annotations

import copy
import re
from typing import Any

from civreg.partners.agency_services import (
    ANSWER_TYPE,
    REQUEST_TYPE,
    answer_schema,
    answers_topic,
    request_schema,
    request_schema_id,
    requests_topic,
)
from civreg.partners.contracts import Contract

Doc = dict[str, Any]

ANSWER_CONTENT_TYPE = "application/json"
# What the registry requires of an answer's CloudEvents `source` (registry.app.agency_cases).
ANSWER_SOURCE_PREFIX = "/agencies/"

DESCRIPTION = """\
## Applications an agency decides
An agency that decides services accepted at the window (the Kyrgyz social benefits: `x-decides` on its channels)
has two more channels. It READS `partner.<agency>.requests`: one signed CloudEvent `bt.partner.application-request.v1`
per accepted application, structured mode like every partner event (verify it the same way), key = subject = the
application id, `data` = only the facts its contract grants; a re-sent request carries the same `id`. It WRITES its
answers to `agency.<agency>.answers` (no other principal may), CloudEvents binary mode: headers `ce_specversion`
`1.0`, `ce_id` (new per answer; re-sending an answer with the same id is harmless), `ce_source`
`/agencies/<agency>`, `ce_type` `bt.agency.answer.v1`, `ce_subject` = the application id (also the key),
`ce_time`, `content-type: application/json`; the value is the answer: `accepted`, `decided` (granted: the centre
hands the decision over), `paid`, or `refused` with its `reason`. Answers go in that order; an answer that repeats
or arrives after a later one changes nothing, a contradiction (decided after refused) is dead-lettered, as is an
answer naming an application the agency was never sent.
"""


def add(contract: Contract, channels: Doc, operations: Doc, messages: Doc, schemas: Doc) -> None:
    """The request and answer channels, operations, messages and schemas of `contract`'s agency."""
    from civreg.partners.asyncapi import KAFKA_BINDING, SECURITY_SCHEME, SERVER
    from civreg.partners.asyncapi import _asyncapi_schema as asyncapi_schema

    decides = contract.decides
    assert decides is not None
    agency = contract.agency
    security = [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}]
    request_name, answer_name = f"{agency}.application-request.v1", f"{agency}.answer.v1"

    schemas[request_name + ".data"] = asyncapi_schema(
        request_schema(agency, decides.fields, request_schema_id(agency))
    )
    schemas["agency-answer.v1"] = asyncapi_schema(answer_schema())
    messages[request_name] = {
        "name": REQUEST_TYPE,
        "title": f"application request v1 for {agency}",
        "summary": "An application accepted at the window, for the agency to decide.",
        "description": f"Why this agency receives it: {decides.reason}",
        "contentType": "application/cloudevents+json",
        "payload": {
            "type": "object",
            "description": "The signed CloudEvent (structured mode).",
            "allOf": [{"$ref": "#/components/schemas/CloudEventAttributes"}],
            "required": ["data"],
            "properties": {
                "type": {"type": "string", "const": REQUEST_TYPE},
                "dataschema": {"type": "string", "const": request_schema_id(agency)},
                "data": {"$ref": f"#/components/schemas/{request_name}.data"},
            },
        },
        "bindings": {"kafka": {"key": _key_schema(), "bindingVersion": KAFKA_BINDING}},
    }
    messages[answer_name] = {
        "name": ANSWER_TYPE,
        "title": f"answer v1 of {agency}",
        "summary": "The agency's answer about one application: accepted, decided, paid, or refused with a reason.",
        "contentType": ANSWER_CONTENT_TYPE,
        "headers": _answer_headers(agency),
        "payload": {"$ref": "#/components/schemas/agency-answer.v1"},
        "bindings": {"kafka": {"key": _key_schema(), "bindingVersion": KAFKA_BINDING}},
    }

    for suffix, topic, message, text in (
        ("requests", requests_topic(agency), request_name, "receives each accepted application on"),
        ("answers", answers_topic(agency), answer_name, "answers on"),
    ):
        channels[f"{agency}-{suffix}"] = {
            "address": topic,
            "title": f"{contract.name.en}: {suffix}",
            "summary": f"What {contract.name.en} {text}.",
            "description": f"{contract.name.ru}.\n\n{decides.reason}",
            "servers": [{"$ref": f"#/servers/{SERVER}"}],
            "messages": {_key(message): {"$ref": f"#/components/messages/{message}"}},
            "bindings": {
                "kafka": {
                    "topic": topic,
                    # Kept for ever: a case may wait months at the agency.
                    "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": -1},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
            "x-agency": agency,
            "x-assumption": contract.assumption,
            "x-decides": True,
        }
    operations[f"receive-{agency}-requests"] = {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{agency}-requests"},
        "title": f"{contract.name.en} reads the applications it decides",
        "summary": "Consume read-committed, verify each signature, de-duplicate by event id.",
        "security": security,
        "messages": [{"$ref": f"#/channels/{agency}-requests/messages/{_key(request_name)}"}],
        "bindings": {
            "kafka": {
                "groupId": {
                    "type": "string",
                    "pattern": "^" + re.escape(contract.group_prefix) + ".+$",
                    "description": f"any group under the agency's prefix `{contract.group_prefix}`",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    operations[f"send-{agency}-answers"] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{agency}-answers"},
        "title": f"{contract.name.en} answers",
        "summary": "One answer per step of the agency's work, keyed by the application id.",
        "security": security,
        "messages": [{"$ref": f"#/channels/{agency}-answers/messages/{_key(answer_name)}"}],
    }


def _key(message_name: str) -> str:
    """A message's name in its channel: `applicationRequestV1`, `answerV1`."""
    head, *rest = message_name.split(".", 1)[1].removesuffix(".v1").split("-")
    return head + "".join(part.capitalize() for part in rest) + "V1"


def _key_schema() -> Doc:
    return {"type": "string", "format": "uuid", "description": "the application's id (= the event's subject)"}


def _answer_headers(agency: str) -> Doc:
    uuid_string = {"type": "string", "format": "uuid"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "content-type"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {"type": "string", "maxLength": 200, "description": "the answer's own id"},
            "ce_source": {"type": "string", "const": ANSWER_SOURCE_PREFIX + agency},
            "ce_type": {"type": "string", "const": ANSWER_TYPE},
            "ce_subject": copy.deepcopy(uuid_string) | {"description": "the application's id"},
            "ce_time": {"type": "string", "format": "date-time"},
            "content-type": {"type": "string", "const": ANSWER_CONTENT_TYPE},
        },
    }
