"""The dated table of MRP values (месячный расчётный показатель); the shipped values are data in
`civreg/duty/tariff.yaml` (configuration: the sources give no tenge value of the MRP, services.md §4; ADR 0034)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator


class MrpUnknown(LookupError):
    """No MRP value is configured for the date: a payable duty cannot be turned into tenge."""


class MrpValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    valid_from: dt.date
    # Whole tenge, strictly an integer: money never goes through a float.
    tenge: StrictInt = Field(gt=0)
    source: str

    @property
    def tiyn(self) -> int:
        return self.tenge * 100


class MrpTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    values: list[MrpValue]

    @model_validator(mode="after")
    def _ordered_and_distinct(self) -> MrpTable:
        days = [v.valid_from for v in self.values]
        if days != sorted(set(days)):
            raise ValueError("MRP values must be listed by valid_from, each date once")
        return self

    def on(self, day: dt.date) -> MrpValue:
        """The value in force on `day`: the last one whose valid_from is not after it."""
        found = None
        for value in self.values:
            if value.valid_from <= day:
                found = value
        if found is None:
            raise MrpUnknown(f"no MRP value configured for {day.isoformat()} (civreg/duty/tariff.yaml)")
        return found
