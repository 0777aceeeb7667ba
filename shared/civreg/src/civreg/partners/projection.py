"""One internal record event → the partner event an agency's contract allows: exactly the granted fields.

Pure: the publisher (registry service) feeds it envelopes and signs and publishes what it returns."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from btkernel.envelope import Envelope
from civreg import sites
from civreg.partners import catalogue
from civreg.partners.catalogue import PartnerType
from civreg.partners.contracts import Contract, Grant

SOURCE = "/bir-tereze/registry"
SPEC_VERSION = "1.0"
# Partner event ids are derived from the internal event, the agency and its contract's digest: a topic re-published
# under the same contract carries the same ids (an agency that de-duplicates by id sees each fact once), while a
# changed contract gives new ids, so the re-published facts with their newly granted fields are not skipped as seen.
_ID_NAMESPACE = uuid.UUID("6f1c7a52-3d1e-4c9e-9a57-6d1f3b0e2a10")


@dataclass(frozen=True)
class RecordRef:
    """What the publisher knows of a record an amendment or annulment names (the registry's read model)."""

    kind: str
    registry_office_id: str


@dataclass(frozen=True)
class PartnerEvent:
    """A CloudEvent in structured mode (the whole event is the Kafka value), before signing."""

    attributes: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.attributes["id"])

    @property
    def subject(self) -> str:
        return str(self.attributes["subject"])


def schema_id(contract: Contract, partner_type: PartnerType) -> str:
    """The `dataschema` of an agency's events of a type: the agency's own schema (its fields only)."""
    return f"urn:birtereze:partner:{contract.agency}:{partner_type.key}"


def country_of(office_id: str | None) -> str | None:
    office = sites.load().office(office_id) if office_id else None
    return office.country if office else None


def project(contract: Contract, env: Envelope, record: RecordRef | None = None) -> PartnerEvent | None:
    """The agency's event for `env`, or None when its contract grants nothing of it.

    `record` is needed for amendments and annulments (their events name only the record): the record's kind for
    the grant's `record_kinds` and its office for the contract's country."""
    found = catalogue.read(env)
    if found is None:
        return None
    partner_type, full = found
    grant = contract.grant_for(partner_type.key)
    if grant is None:
        return None
    office_id = full.get("registry_office_id") or (record.registry_office_id if record else None)
    if country_of(office_id) != contract.country:
        return None
    if grant.record_kinds is not None:
        kind = record.kind if record else None
        if kind not in grant.record_kinds:
            return None
    data = prune(full, grant)
    record_id = str(full["record_id"])
    return PartnerEvent(
        {
            "specversion": SPEC_VERSION,
            "id": str(uuid.uuid5(_ID_NAMESPACE, f"{contract.agency}:{contract.digest()}:{env.id}")),
            "source": SOURCE,
            "type": partner_type.type,
            "subject": record_id,
            "time": _utc(env.time),
            "datacontenttype": "application/json",
            "dataschema": schema_id(contract, partner_type),
            "data": data,
        }
    )


def prune(full: dict[str, Any], grant: Grant) -> dict[str, Any]:
    """Only the granted paths of `full`; a whole object when its name is granted, else only its granted fields."""
    out: dict[str, Any] = {}
    for path in grant.fields:
        head, _, sub = path.partition(".")
        if head not in full:
            continue
        value = full[head]
        if not sub:
            out[head] = copy.deepcopy(value)
        elif isinstance(value, list):
            have = out.setdefault(head, [{} for _ in value])
            for target, item in zip(have, value, strict=True):
                if sub in item:
                    target[sub] = item[sub]
        elif isinstance(value, dict) and sub in value:
            out.setdefault(head, {})[sub] = value[sub]
    # A person of whom no granted field is known is left out, not sent as {}.
    for key in list(out):
        if out[key] == {} or (isinstance(out[key], list) and not any(out[key])):
            del out[key]
        elif isinstance(out[key], list):
            out[key] = [item for item in out[key] if item]
    return out


def data_schema(contract: Contract, grant: Grant) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the `data` an agency receives for a type: only its granted fields."""
    partner_type = grant.partner_type
    properties: dict[str, Any] = {}
    for path, why in grant.fields.items():
        head, _, sub = path.partition(".")
        full = partner_type.properties[head]
        if not sub:
            properties[head] = {**copy.deepcopy(full), "description": _described(full, why)}
            continue
        target = properties.setdefault(head, _shell(full))
        item_target = target["items"] if target.get("type") == "array" else target
        item_full = full["items"] if full.get("type") == "array" else full
        sub_schema = item_full["properties"][sub]
        item_target["properties"][sub] = {**sub_schema, "description": _described(sub_schema, why)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id(contract, partner_type),
        "title": f"{partner_type.type} for {contract.agency}",
        "description": f"{partner_type.summary} Why this agency receives it: {grant.reason}",
        "type": "object",
        "additionalProperties": False,
        "required": ["record_id"],
        "properties": properties,
    }


def _shell(full: dict[str, Any]) -> dict[str, Any]:
    if full.get("type") == "array":
        item = full["items"]
        return {
            "type": "array",
            "maxItems": full.get("maxItems", 10),
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {},
                "description": item.get("description", ""),
            },
        }
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
        "description": full.get("description", ""),
    }


def _described(schema: dict[str, Any], why: str) -> str:
    base = schema.get("description")
    return f"{base} — {why}" if base else why


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
