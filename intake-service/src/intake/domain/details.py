"""Service-specific application details, validated per service so errors name the exact field."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from btkernel import clock
from btkernel import iin as iin_rules
from btkernel.events.values import PersonName


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Parent(_Strict):
    iin: str | None = None
    name: PersonName

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str | None) -> str | None:
        if v is not None and (why := iin_rules.problem(v)):
            raise ValueError(why)
        return v


class Child(_Strict):
    name: PersonName
    sex: Literal["male", "female"]
    birth_date: dt.date
    birth_place: str

    @field_validator("birth_date")
    @classmethod
    def _not_in_future(cls, v: dt.date) -> dt.date:
        if v > clock.today():
            raise ValueError("the date of birth cannot be in the future")
        return v

    @field_validator("birth_place")
    @classmethod
    def _place(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the place of birth is required")
        return v.strip()


class BirthDetails(_Strict):
    """What a birth application states about the child and the parents (S002/App.1)."""

    child: Child
    mother: Parent | None = None
    father: Parent | None = None

    @model_validator(mode="after")
    def _a_parent(self) -> BirthDetails:
        if self.mother is None and self.father is None:
            raise ValueError("at least one parent must be named")
        return self


class Subject(Parent):
    """The person a record is about (the deceased, a spouse, the person changing the name, the child)."""

    birth_date: dt.date | None = None


class ActDetails(_Strict):
    """What an application of the other services states: the variant selecting the review term (S002 per
    service), the subject and the other parties of the act, the record it concerns (amendment, repeat
    certificate, annulment, the birth record a paternity, adoption or name change changes), and the changes."""

    variant: str | None = None
    subject: Subject | None = None
    parties: list[Subject] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    record_id: str | None = None
    birth_record_id: str | None = None
    record_kind: (
        Literal["birth", "marriage", "divorce", "death", "paternity", "adoption", "name_change"] | None
    ) = None
    change: Literal["amendment", "addition", "correction"] | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    from_abroad: bool = False
    # Which result is asked for where the regulation offers a choice: a repeat certificate or a справка
    # (S002/App.3 p.3), a death certificate or a death справка (S002/App.7 p.3).
    document: (
        Literal["repeat_certificate", "civil_status_spravka", "death_certificate", "death_spravka"] | None
    ) = None


class BirthAmendment(ActDetails):
    """An amendment, addition or correction of a birth record (S002/App.1 p.5(3): 7 WD)."""


# Which fields each service (or variant) needs, so a missing one is named in the 422 (body.details.<field>).
NEEDS: dict[str, tuple[str, ...]] = {
    "amendment": ("record_id", "changes"),
    "marriage_registration": ("subject", "parties"),
    "divorce_registration": ("subject", "parties"),
    "death_registration": ("subject",),
    "paternity_registration": ("subject",),
    "adoption_registration": ("subject",),
    "name_change_registration": ("subject", "changes"),
    "restoration_of_records": ("subject", "record_kind"),
    "repeat_certificates": ("record_id",),
    "annulment_of_records": ("record_id", "reason"),
}


def missing_fields(service_id: str, details: ActDetails) -> list[str]:
    key = "amendment" if details.variant == "amendment" else service_id
    return [f for f in NEEDS.get(key, ()) if not getattr(details, f)]


DETAILS_BY_SERVICE: dict[str, type[BaseModel]] = {"birth_registration": BirthDetails}
