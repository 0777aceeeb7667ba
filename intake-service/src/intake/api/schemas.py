"""Request and response bodies of the intake API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from btkernel import iin as iin_rules
from btkernel.events.values import Contact, EdsSignature, Person, Representative

_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApplicantIn(Person):
    # Required here (optional in events, for records of people without one): hand-over checks the ID against it.
    iin: str

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str | None) -> str | None:
        if v is None:
            raise ValueError("the applicant's IIN is required")
        if why := iin_rules.problem(v):
            raise ValueError(why)
        return v


class ContactIn(Contact):
    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v.replace(" ", "")):
            raise ValueError("a phone number is 10 to 15 digits, optionally starting with +")
        return v.replace(" ", "") if v else v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError("not an e-mail address")
        return v


class RepresentativeIn(Representative):
    person: ApplicantIn
    contact: ContactIn | None = None


class SubmitApplication(BaseModel):
    """An application as the operator enters it: who applies, for what, with which documents presented."""

    model_config = ConfigDict(extra="forbid")

    service_id: str = Field(examples=["birth_registration"])
    applicant: ApplicantIn
    representative: RepresentativeIn | None = None
    contact: ContactIn
    documents: list[str] = Field(
        description="codes of the documents presented, from the service's checklist",
        examples=[["identity_document", "medical_birth_certificate"]],
    )
    details: dict[str, Any] = Field(description="service-specific data, e.g. the child for a birth")
    registry_office_id: str | None = Field(
        None, description="defaults to the centre's district registry office; required on the portal"
    )
    signature: EdsSignature | None = Field(
        None, description="portal only: the applicant's EDS signature as the portal checked it"
    )

    @field_validator("contact")
    @classmethod
    def _reachable(cls, v: ContactIn) -> ContactIn:
        if not v.phone and not v.email:
            raise ValueError("give a phone number or an e-mail address to reach the applicant")
        return v


class ApplicationAccepted(BaseModel):
    application_id: str
    status: str
    receipt: dict[str, Any] | None
    refusal_receipt: dict[str, Any] | None


class HandOver(BaseModel):
    """Hand-over of the result against the receipt and an identity document (S002 p.9)."""

    model_config = ConfigDict(extra="forbid")

    receipt_number: str
    recipient: Literal["applicant", "representative"] = "applicant"
    identity_document_iin: str

    @field_validator("identity_document_iin")
    @classmethod
    def _iin(cls, v: str) -> str:
        if why := iin_rules.problem(v):
            raise ValueError(why)
        return v


class ApplicationView(BaseModel):
    application_id: str
    centre_id: str
    service_id: str
    channel: str
    status: str
    receipt_number: str
    applicant_iin: str | None
    applicant_name: str
    registry_office_id: str | None
    case_id: str | None
    record_number: str | None
    outcome: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    receipt: dict[str, Any] | None
    refusal_receipt: dict[str, Any] | None
    result_received_at: dt.datetime | None = None
    refusal_reason: str | None = None
    recall_due_at: dt.datetime | None = None


class TimelineEntry(BaseModel):
    version: int
    type: str
    at: dt.datetime
    actor: str | None
    correlation_id: str | None
    data: dict[str, Any]
