"""What the platform tells partner agencies: the partner event types, each with its full data (every field any
contract could grant) and how it is read off the internal record events.

The partner types are the platform's public contract with other state bodies, so they are deliberately not the
internal events: an internal refactoring (a renamed field, a nested value object) must not break an agency. Each
type is versioned (`…v1`); a change that removes or retypes a field is a new version next to the old one.
Only registered acts reach partners (topic civreg.record, services.md §1 "Information system RP ZAGS"): the case
steps before registration are the office's own business, and no contract grants them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from btkernel.envelope import Envelope
from civreg import topics
from civreg.events.record import BirthRegistered, RecordAmended, RecordAnnulled, RecordRegistered

TYPE_PREFIX = "kz.civreg.partner."
# The topics the partner events are read from: only the record stream.
SOURCE_TOPICS = (topics.RECORD,)

# JSON Schema of one person as partners see them: a flat name, never the internal value objects.
_PERSON_FIELDS: dict[str, dict[str, Any]] = {
    "iin": {
        "type": "string",
        "pattern": "^[0-9]{12}([0-9]{2})?$",
        "description": "personal identification number: the IIN (KZ, 12 digits) or the PIN (KG, 14 digits)",
    },
    "surname": {"type": "string"},
    "first_name": {"type": "string"},
    "patronymic": {"type": "string"},
    "birth_date": {"type": "string", "format": "date"},
    "birth_year": {"type": "integer", "description": "year of birth only (for statistics)"},
}
_RECORD_FIELDS: dict[str, dict[str, Any]] = {
    "record_id": {
        "type": "string",
        "description": "the act record's id, stable for ever; the event's subject",
    },
    "record_number": {
        "type": "string",
        "description": "the act record's number, unique per office, kind, year",
    },
    "registry_office_id": {"type": "string", "description": "the registering office (reference: sites)"},
    "registered_at": {"type": "string", "format": "date-time"},
    "registered_on": {"type": "string", "format": "date", "description": "the registration's date only"},
}


def person_schema(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "properties": dict(_PERSON_FIELDS),
    }


@dataclass(frozen=True)
class PartnerType:
    """One partner event type: its name (`birth-registered`), version, what it means, its full data schema and the
    function reading its full data off an internal event (None when that event is not of this type)."""

    name: str
    version: int
    summary: str
    properties: dict[str, dict[str, Any]]
    read: Callable[[Envelope], dict[str, Any] | None]

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}{self.name}.v{self.version}"

    @property
    def key(self) -> str:
        """How contracts name it: `birth-registered.v1`."""
        return f"{self.name}.v{self.version}"


def _person(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    name = value.get("name") or {}
    born = value.get("birth_date")
    person = {
        "iin": value.get("iin"),
        "surname": name.get("surname"),
        "first_name": name.get("first_name"),
        "patronymic": name.get("patronymic"),
        "birth_date": born,
        "birth_year": int(str(born)[:4]) if born else None,
    }
    return {k: v for k, v in person.items() if v is not None}


def _date_of(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(dt.datetime.fromisoformat(str(moment)).date())


def _record_head(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_id": data["record_id"],
        "record_number": data.get("record_number"),
        "registry_office_id": data.get("registry_office_id"),
        "registered_at": data.get("registered_at"),
        "registered_on": _date_of(data.get("registered_at")),
    }


def _read_birth(env: Envelope) -> dict[str, Any] | None:
    if env.type != BirthRegistered.TYPE:
        return None
    d = env.data
    child = (
        _person({"iin": d.get("child_iin"), "name": d["child_name"], "birth_date": d["child_birth_date"]})
        or {}
    )
    child |= {"sex": d["child_sex"], "birth_place": d["child_birth_place"]}
    return _clean(
        {
            **_record_head(d),
            "child": child,
            "mother": _person(d.get("mother")),
            "father": _person(d.get("father")),
        }
    )


def _read_kind(
    kind: str, extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None
) -> Callable[[Envelope], dict[str, Any] | None]:
    def read(env: Envelope) -> dict[str, Any] | None:
        d = env.data
        if env.type != RecordRegistered.TYPE or d.get("kind") != kind or d.get("restored"):
            return None
        parties = [p for p in (_person(x) for x in d.get("parties") or []) if p]
        data = {**_record_head(d), "subject": _person(d.get("subject")), "parties": parties}
        if extra is not None:
            data |= extra(d.get("facts") or {})
        return _clean(data)

    return read


def _read_restored(env: Envelope) -> dict[str, Any] | None:
    d = env.data
    if env.type != RecordRegistered.TYPE or not d.get("restored"):
        return None
    parties = [p for p in (_person(x) for x in d.get("parties") or []) if p]
    return _clean(
        {
            **_record_head(d),
            "kind": d.get("restored_kind") or d.get("kind"),
            "subject": _person(d.get("subject")),
            "parties": parties,
        }
    )


def _read_amended(env: Envelope) -> dict[str, Any] | None:
    if env.type != RecordAmended.TYPE:
        return None
    d = env.data
    return _clean(
        {
            "record_id": d["record_id"],
            "amended_at": d.get("amended_at"),
            "amended_on": _date_of(d.get("amended_at")),
            "change": d.get("change"),
            "changes": d.get("changes"),
        }
    )


def _read_annulled(env: Envelope) -> dict[str, Any] | None:
    if env.type != RecordAnnulled.TYPE:
        return None
    d = env.data
    return _clean(
        {
            "record_id": d["record_id"],
            "annulled_at": d.get("annulled_at"),
            "annulled_on": _date_of(d.get("annulled_at")),
            "reason": d.get("reason"),
        }
    )


def _death_facts(facts: dict[str, Any]) -> dict[str, Any]:
    died = facts.get("died_on")
    return {
        "died_on": died,
        "death_year": int(str(died)[:4]) if died else None,
        "death_place": facts.get("place"),
    }


def _marriage_facts(facts: dict[str, Any]) -> dict[str, Any]:
    return {"surname_chosen": facts.get("surname_chosen")}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != []}


_SUBJECT_AND_PARTIES: dict[str, dict[str, Any]] = {
    "subject": person_schema("the person the record is about"),
    "parties": {"type": "array", "items": person_schema("another party to the act"), "maxItems": 10},
}

TYPES: tuple[PartnerType, ...] = (
    PartnerType(
        "birth-registered",
        1,
        "A birth act record was registered (S002/App.1).",
        {
            **_RECORD_FIELDS,
            "child": {
                **person_schema("the child"),
                "properties": {
                    **_PERSON_FIELDS,
                    "sex": {"type": "string", "enum": ["male", "female"]},
                    "birth_place": {"type": "string"},
                },
            },
            "mother": person_schema("the mother, when named"),
            "father": person_schema("the father, when named"),
        },
        _read_birth,
    ),
    PartnerType(
        "marriage-registered",
        1,
        "A marriage act record was registered (S002/App.2); subject and parties are the spouses.",
        {**_RECORD_FIELDS, **_SUBJECT_AND_PARTIES, "surname_chosen": {"type": "string"}},
        _read_kind("marriage", _marriage_facts),
    ),
    PartnerType(
        "divorce-registered",
        1,
        "A divorce act record was registered (S002/App.9); subject and parties are the former spouses.",
        {**_RECORD_FIELDS, **_SUBJECT_AND_PARTIES},
        _read_kind("divorce"),
    ),
    PartnerType(
        "death-registered",
        1,
        "A death act record was registered (S002/App.7); the subject is the deceased.",
        {
            **_RECORD_FIELDS,
            **_SUBJECT_AND_PARTIES,
            "died_on": {"type": "string", "format": "date"},
            "death_year": {"type": "integer"},
            "death_place": {"type": "string"},
        },
        _read_kind("death", _death_facts),
    ),
    PartnerType(
        "paternity-registered",
        1,
        "Paternity was established (S002/App.4); the subject is the child, parties the father.",
        {**_RECORD_FIELDS, **_SUBJECT_AND_PARTIES},
        _read_kind("paternity"),
    ),
    PartnerType(
        "adoption-registered",
        1,
        "An adoption was registered (S002/App.5); the subject is the child, parties the adopters.",
        {**_RECORD_FIELDS, **_SUBJECT_AND_PARTIES},
        _read_kind("adoption"),
    ),
    PartnerType(
        "name-change-registered",
        1,
        "A change of name was registered (S002/App.8); the subject is the person.",
        {**_RECORD_FIELDS, **_SUBJECT_AND_PARTIES},
        _read_kind("name_change"),
    ),
    PartnerType(
        "record-restored",
        1,
        "A lost act record was restored (S002/App.6); `kind` is the restored record's kind.",
        {**_RECORD_FIELDS, "kind": {"type": "string"}, **_SUBJECT_AND_PARTIES},
        _read_restored,
    ),
    PartnerType(
        "record-amended",
        1,
        "An existing record was amended, added to or corrected, or another act changed it (paternity, adoption, "
        "name change on the birth record).",
        {
            "record_id": _RECORD_FIELDS["record_id"],
            "amended_at": {"type": "string", "format": "date-time"},
            "amended_on": {"type": "string", "format": "date"},
            "change": {"type": "string", "description": "amendment, addition, correction, paternity, ..."},
            "changes": {"type": "object", "description": "the changed values, as the registrar entered them"},
        },
        _read_amended,
    ),
    PartnerType(
        "record-annulled",
        1,
        "A record was annulled (S002/App.10); it no longer proves the act.",
        {
            "record_id": _RECORD_FIELDS["record_id"],
            "annulled_at": {"type": "string", "format": "date-time"},
            "annulled_on": {"type": "string", "format": "date"},
            "reason": {"type": "string", "description": "the basis, e.g. the court decision"},
        },
        _read_annulled,
    ),
)

BY_KEY: dict[str, PartnerType] = {t.key: t for t in TYPES}


def read(env: Envelope) -> tuple[PartnerType, dict[str, Any]] | None:
    """The partner type of an internal event and its full data; None for an event no partner type covers."""
    for partner_type in TYPES:
        data = partner_type.read(env)
        if data is not None:
            return partner_type, data
    return None
