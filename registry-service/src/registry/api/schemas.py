"""Request and response bodies of the registry API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civreg import identifiers


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resolution(_Body):
    """The head's resolution: who executes and what (S002 p.5(2)); the execution deadline is the review term."""

    executive_id: str = Field(min_length=1, max_length=100)
    instruction: str = Field("Рассмотреть и зарегистрировать", max_length=1000)


class Registration(_Body):
    child_iin: str | None = Field(
        None,
        max_length=identifiers.MAX_LENGTH,
        description="the number assigned to the child, when already known: the IIN, or the PIN at a Kyrgyz office",
    )

    @field_validator("child_iin")
    @classmethod
    def _iin(cls, v: str | None) -> str | None:
        # An IIN or a PIN here; the office's country decides which (registry.api.cases, ADR 0039).
        return None if v is None else identifiers.check_any(v)


class Refusal(_Body):
    reason: str = Field(min_length=1, max_length=2000, description="the ground of point 10 of the Standard")


class Extension(_Body):
    reason: str = Field(min_length=1, max_length=2000)
    days: int = Field(ge=1, le=30, description="calendar days, at most 30 (S002 §2.2)")


class DateAssignment(_Body):
    registration_on: dt.date


class ThirdPartyNotice(_Body):
    party: str = Field(min_length=1, max_length=500)


class CaseView(BaseModel):
    case_id: str
    application_id: str
    registry_office_id: str
    centre_id: str
    service_id: str
    channel: str
    status: str
    receipt_number: str
    applicant_iin: str | None
    applicant_name: str
    review_term: dict[str, Any]
    opened_at: dt.datetime
    review_due_at: dt.datetime
    executive_id: str | None
    record_id: str | None
    record_number: str | None
    completed_at: dt.datetime | None
    updated_at: dt.datetime
    overdue: bool
    seconds_left: int


class CaseHistoryEntry(BaseModel):
    version: int
    type: str
    at: dt.datetime
    actor: str | None
    correlation_id: str | None
    data: dict[str, Any]


class CaseDetail(CaseView):
    history: list[CaseHistoryEntry]
    allowed_actions: list[str] = Field(
        description="what the asking actor may do on the case now: each the last segment of "
        "POST /api/v1/cases/{case_id}/<action> (registry.domain.case_actions)"
    )


class RecordView(BaseModel):
    record_id: str
    kind: str
    registry_office_id: str
    year: int
    record_number: str
    case_id: str
    subject_iin: str | None
    subject_name: str
    registered_at: dt.datetime
    content: dict[str, Any]
    status: str = "active"
