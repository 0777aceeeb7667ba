"""Partner contracts as data (contracts.yaml): which partner event types each agency receives and which fields,
with the reason for each. Loaded and checked once; a contract naming an unknown type or field stops the import."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from civreg.partners.catalogue import BY_KEY, PartnerType
from civreg.sites import Names

AGENCY_ID = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
TOPIC_PREFIX = "partner."
# An agency's consumer groups must start with this, so its ACL can be a prefix one (btdeploy.partners).
GROUP_PREFIX = "partner."


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Grant(_Frozen):
    event: str  # a partner type key, `birth-registered.v1`
    reason: str
    fields: dict[str, str] = Field(min_length=1)  # path -> why the agency needs it
    record_kinds: tuple[str, ...] | None = None

    @property
    def partner_type(self) -> PartnerType:
        return BY_KEY[self.event]

    @model_validator(mode="after")
    def _known(self) -> Grant:
        partner_type = BY_KEY.get(self.event)
        if partner_type is None:
            raise ValueError(f"unknown partner event {self.event!r}; known: {', '.join(sorted(BY_KEY))}")
        for path in self.fields:
            head, _, sub = path.partition(".")
            schema = partner_type.properties.get(head)
            if schema is None:
                raise ValueError(f"{self.event} has no field {head!r}")
            if sub:
                item = schema.get("items", schema)
                if sub not in item.get("properties", {}):
                    raise ValueError(f"{self.event}: {head} has no field {sub!r}")
        if "record_id" not in self.fields:
            # The event's subject is the record id (order and de-duplication per record): it is always sent.
            raise ValueError(f"{self.event}: a grant must include record_id (the event's subject)")
        return self


class Decides(_Frozen):
    """The agency decides the cases of the services whose catalogue entry names it (`decided_by`, ADR 0040): the
    window accepts them and sends the agency a request with these facts of the application only
    (civreg.partners.agency_services)."""

    reason: str
    fields: dict[str, str] = Field(min_length=1)  # fact path -> why the agency needs it

    @model_validator(mode="after")
    def _known(self) -> Decides:
        from civreg.partners.agency_services import (
            check_fields,
        )  # it imports the projection, which imports us

        check_fields(self.fields)
        return self


class Contract(_Frozen):
    agency: str
    country: str
    name: Names
    basis: str
    assumption: bool
    grants: tuple[Grant, ...]
    # Not part of the digest: requests are not re-published from a record stream.
    decides: Decides | None = None

    @property
    def topic(self) -> str:
        return TOPIC_PREFIX + self.agency

    @property
    def group_prefix(self) -> str:
        return f"{GROUP_PREFIX}{self.agency}."

    def grant_for(self, event_key: str) -> Grant | None:
        return next((g for g in self.grants if g.event == event_key), None)

    def digest(self) -> str:
        """Changes whenever what the agency receives changes: its topic is then re-published from the beginning."""
        body = json.dumps(
            [g.model_dump(mode="json", exclude={"reason"}) for g in self.grants] + [self.country],
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _check(self) -> Contract:
        if not AGENCY_ID.fullmatch(self.agency):
            raise ValueError(f"agency id {self.agency!r} must match {AGENCY_ID.pattern}")
        keys = [g.event for g in self.grants]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{self.agency}: one grant per event type")
        return self


class Contracts(_Frozen):
    contracts: tuple[Contract, ...]

    @model_validator(mode="after")
    def _unique(self) -> Contracts:
        ids = [c.agency for c in self.contracts]
        if len(ids) != len(set(ids)):
            raise ValueError("agency ids must be unique")
        return self


def parse(raw: Any) -> tuple[Contract, ...]:
    return Contracts.model_validate(raw).contracts


@cache
def all_contracts() -> tuple[Contract, ...]:
    text = resources.files("civreg.partners").joinpath("contracts.yaml").read_text(encoding="utf-8")
    return parse(yaml.safe_load(text))


def by_agency(agency: str) -> Contract | None:
    return next((c for c in all_contracts() if c.agency == agency), None)


def deciding_agencies() -> tuple[str, ...]:
    """The agencies that decide services' cases (ADR 0040): each has a request and an answer topic."""
    return tuple(c.agency for c in all_contracts() if c.decides is not None)
