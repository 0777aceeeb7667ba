"""The AsyncAPI 3.0 document partner engineers integrate from, generated from the partner catalogue and the
contracts: one channel per agency (its topic), one message per granted type (the signed CloudEvent with that
agency's data schema), one `receive` operation per channel.

`python -m civreg.partners.asyncapi write` writes it to docs/partners/asyncapi.yaml (committed; a test fails when
the committed file differs from what this module generates); `check` says whether it does. The gateway serves the
same document at /partners/asyncapi.yaml and .json.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from civreg.partners import asyncapi_agency_work as agency_work
from civreg.partners.catalogue import PartnerType
from civreg.partners.contracts import Contract, Grant, all_contracts
from civreg.partners.projection import SOURCE, SPEC_VERSION, data_schema, schema_id

Doc = dict[str, Any]

ASYNCAPI_VERSION = "3.0.0"
# The document's own version: minor for an added agency, type or field, major when a type's version is retired.
VERSION = "1.0.0"
DOCUMENT = Path(__file__).resolve().parents[5] / "docs" / "partners" / "asyncapi.yaml"
CONTENT_TYPE = "application/cloudevents+json"
KEYS_PATH = "/.well-known/bt-partner-keys.json"
SERVER = "kafka"
SECURITY_SCHEME = "scramSha512"
KAFKA_BINDING = "0.5.0"
# The default bootstrap is make run's; the real one is in the agency's onboarding output.
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"

DESCRIPTION = f"""\
Registered civil acts of the Bir Tereze platform (civil registration in Kazakhstan and the Kyrgyz pilot) for
partner agencies. Each agency reads its own Kafka topic `partner.<agency>` and receives exactly the event types
and fields its contract grants (the channels below, one per agency), nothing else: the statistics office, for
one, receives no IIN and no name.

## Connecting
Onboarding gives an agency its bootstrap servers, security protocol, SASL mechanism SCRAM-SHA-512, user name
`partner-<agency>` and password, its topic and its consumer-group prefix `partner.<agency>.`. Consumer groups
must start with that prefix (the broker's ACLs allow no other). Read with `isolation.level=read_committed`: the
platform writes in Kafka transactions, and an uncommitted reader would see events of aborted transactions.
Commit offsets after processing (auto-commit off), so a crash re-delivers rather than skips.

## Events
Each Kafka record's value is one CloudEvent 1.0 in structured mode (JSON, header `content-type:
{CONTENT_TYPE}`); the record key is the act record's id, which is also the event's `subject`. `type` names the
partner event type and its version (`kz.civreg.partner.birth-registered.v1`); a change that removes or retypes a
field is a new version published next to the old one. `dataschema` names the agency's own JSON Schema of `data`
(the message payloads below; `data` holds only the granted fields, and a person of whom no granted field is
known is left out).

## Signatures: proving where a fact came from
Every event is signed by the platform. Two CloudEvents extension attributes carry the signature:
`btkeyid` (the `kid` of the signing key) and `btsignature` (Ed25519, base64url without padding). To verify:
1. fetch the platform's key set (JWKS, RFC 7517/8037: `kty` OKP, `crv` Ed25519) from the gateway at
   `{KEYS_PATH}` (no sign-in; cache it, fetch again on an unknown `btkeyid`: keys are rotated);
2. take the event as received (the JSON object of the record's value) without its `btsignature` member and
   serialise it canonically by RFC 8785 (JSON Canonicalization Scheme): every other attribute, `btkeyid` and
   `data` included, is signed;
3. verify the decoded `btsignature` over those bytes with the key whose `kid` is `btkeyid`.
Refuse an event whose signature does not verify: it was altered or not sent by the platform. Keep the event as
received with its signature to prove the fact later.

## Delivery, order, duplicates
* Exactly once into the topic: an event is published in the same Kafka transaction as the progress of the
  platform's publisher (read committed only).
* Ordered per record: the key is the record id, so every event of one record is on one partition in the order
  the registry wrote them (registration, then amendments, then an annulment). There is no order across records.
* At least once to you: after a rebalance or a crash before your commit you see an event again. De-duplicate by
  the event's `id`, which is stable: it derives from the platform's internal event, your agency and your
  contract's digest, so an event re-published under the same contract carries the same `id`.

## Re-publication after a contract change
When an agency's contract changes (each channel's `x-contract-digest` changes with it), or an operator asks, its
topic is published again from the beginning: the events published before are deleted from the topic, and every
fact is published again after them, carrying the fields the contract now grants. Under a changed contract the
events get new ids (the digest is part of them), so a consumer de-duplicating by id takes every re-published fact
with its new fields; when an operator re-publishes under an unchanged contract, the ids are the same and a
de-duplicating consumer skips what it already has. A consumer reads on from its committed offset and meets the
re-published events there.

## Assumptions
The regulations name partner agencies only generally; which facts each agency receives is not stated by the
sources. Every contract marked `x-assumption: true` is configuration to agree with the agency in an
interagency agreement before production.
"""


def generate(contracts: Iterable[Contract] | None = None) -> Doc:
    """The whole AsyncAPI document for `contracts` (default: every contract of contracts.yaml)."""
    chosen = tuple(all_contracts() if contracts is None else contracts)
    channels: Doc = {}
    operations: Doc = {}
    messages: Doc = {}
    schemas: Doc = {"CloudEventAttributes": _attributes_schema()}
    for contract in chosen:
        if contract.decides is not None:
            agency_work.add(contract, channels, operations, messages, schemas)
        if not contract.grants:
            # An agency that only decides services (ADR 0040) receives no registered acts: no record channel.
            continue
        channel_messages: Doc = {}
        for grant in contract.grants:
            name = _message_name(contract, grant.partner_type)
            schemas[name + ".data"] = _asyncapi_schema(data_schema(contract, grant))
            messages[name] = _message(contract, grant, name)
            channel_messages[_message_key(grant.partner_type)] = {"$ref": f"#/components/messages/{name}"}
        channels[contract.agency] = _channel(contract, channel_messages)
        operations[_operation_id(contract)] = _operation(contract, channel_messages)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Bir Tereze — partner events",
            "version": VERSION,
            "description": DESCRIPTION
            + ("\n" + agency_work.DESCRIPTION if any(c.decides for c in chosen) else ""),
            "tags": [{"name": "civil-registration"}, {"name": "partners"}],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            SERVER: {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The platform's Kafka cluster. Use the bootstrap servers and the security protocol "
                "of the agency's onboarding output.",
                "variables": {
                    "bootstrap": {
                        "default": DEFAULT_BOOTSTRAP,
                        "description": "host:port of the bootstrap servers (the onboarding output)",
                    }
                },
                "security": [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 with the user `partner-<agency>` and the password of the "
                    "agency's onboarding; the broker lets it read only its own topic, under its own group prefix.",
                }
            },
            "schemas": schemas,
            "messages": messages,
        },
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line text (the descriptions) as YAML literal blocks, so the committed file reads like the text."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(doc: Doc) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def to_json(doc: Doc) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# -- parts ------------------------------------------------------------------------------------------------------


def _message_key(partner_type: PartnerType) -> str:
    """A type's name in a channel, `birthRegisteredV1` (AsyncAPI keys allow letters, digits, `.`, `-`, `_`)."""
    head, *rest = partner_type.name.split("-")
    return head + "".join(part.capitalize() for part in rest) + f"V{partner_type.version}"


def _message_name(contract: Contract, partner_type: PartnerType) -> str:
    return f"{contract.agency}.{partner_type.key}"


def _operation_id(contract: Contract) -> str:
    return "receive-" + contract.agency


def _channel(contract: Contract, messages: Doc) -> Doc:
    return {
        "address": contract.topic,
        "title": contract.name.en,
        "summary": f"What {contract.name.en} receives.",
        "description": (
            f"{contract.name.ru} / {contract.name.kk}.\n\n{contract.basis}\n\n"
            f"Country of the registering offices: {contract.country}. Consumer groups: `{contract.group_prefix}*`."
        ),
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": contract.topic,
                # Kept for ever: a new consumer group reads every fact from the beginning.
                "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": -1},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-agency": contract.agency,
        "x-assumption": contract.assumption,
        "x-contract-digest": contract.digest(),
    }


def _operation(contract: Contract, channel_messages: Doc) -> Doc:
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{contract.agency}"},
        "title": f"{contract.name.en} reads its events",
        "summary": f"Consume `{contract.topic}` read-committed, verify each signature, de-duplicate by event id.",
        "security": [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}],
        "messages": [{"$ref": f"#/channels/{contract.agency}/messages/{key}"} for key in channel_messages],
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


def _message(contract: Contract, grant: Grant, name: str) -> Doc:
    partner_type = grant.partner_type
    data_ref = {"$ref": f"#/components/schemas/{name}.data"}
    payload = {
        "type": "object",
        "description": "The signed CloudEvent (structured mode).",
        "allOf": [{"$ref": "#/components/schemas/CloudEventAttributes"}],
        "required": ["data"],
        "properties": {
            "type": {"type": "string", "const": partner_type.type},
            "dataschema": {"type": "string", "const": schema_id(contract, partner_type)},
            "data": data_ref,
        },
    }
    return {
        "name": partner_type.type,
        "title": f"{partner_type.name} v{partner_type.version} for {contract.agency}",
        "summary": partner_type.summary,
        "description": f"Why this agency receives it: {grant.reason}",
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {"content-type": {"type": "string", "const": CONTENT_TYPE}},
        },
        "payload": payload,
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "the act record's id (= the event's subject)"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _attributes_schema() -> Doc:
    """The CloudEvent attributes every partner event carries, the signature's two extensions included."""
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes of every partner event, with the platform's signature.",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "datacontenttype",
            "dataschema",
            "btkeyid",
            "btsignature",
        ],
        "properties": {
            "specversion": {"type": "string", "const": SPEC_VERSION},
            "id": {
                "type": "string",
                "format": "uuid",
                "description": "the event's id, stable across re-publication under the same contract: de-duplicate by it",
            },
            "source": {"type": "string", "const": SOURCE},
            "type": {"type": "string", "description": "the partner event type with its version"},
            "subject": {
                "type": "string",
                "description": "the act record's id; also the Kafka key: events of one record are in order",
            },
            "time": {"type": "string", "format": "date-time", "description": "when the act happened (UTC)"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "dataschema": {"type": "string", "description": "the agency's schema of `data` (a URN)"},
            "btkeyid": {"type": "string", "description": f"the `kid` of the signing key in {KEYS_PATH}"},
            "btsignature": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]+$",
                "description": "Ed25519 over the RFC 8785 canonical JSON of the event without this attribute, "
                "base64url without padding",
            },
        },
    }


def _asyncapi_schema(schema: Doc) -> Doc:
    """A JSON Schema 2020-12 of the projection as an AsyncAPI Schema (draft-07 superset): the keywords used are
    common to both; `$schema` and `$id` go (the id stays as `x-dataschema`, what the event's `dataschema` says)."""
    out = copy.deepcopy(schema)
    out.pop("$schema", None)
    out["x-dataschema"] = out.pop("$id")
    return out


# -- the committed file -----------------------------------------------------------------------------------------


def write(path: Path = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(generate()), encoding="utf-8")
    return path


def check(path: Path = DOCUMENT) -> list[str]:
    """Why the committed document is not the generated one (empty when it is)."""
    if not path.exists():
        return [f"{path} is missing: run `make schemas`"]
    if path.read_text(encoding="utf-8") != to_yaml(generate()):
        return [f"{path} differs from the contracts and the catalogue: run `make schemas` and commit it"]
    return []


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "write":
        print(write())
        return 0
    if command == "check":
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if command in ("yaml", "json"):
        doc = generate()
        sys.stdout.write(to_yaml(doc) if command == "yaml" else to_json(doc))
        return 0
    print("usage: python -m civreg.partners.asyncapi write|check|yaml|json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
