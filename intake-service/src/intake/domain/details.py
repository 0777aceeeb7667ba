"""Service-specific application details, validated per service so errors name the exact field."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

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
        if v > dt.date.today():
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


DETAILS_BY_SERVICE: dict[str, type[BaseModel]] = {"birth_registration": BirthDetails}
