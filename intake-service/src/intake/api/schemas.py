"""Request and response bodies of the intake API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from btkernel import clock
from btkernel.bounded import LIST_MAX, Code, Id
from civreg import identifiers
from civreg.calendar import ALMATY
from civreg.events.details import AMENDMENT, EXAMPLES, AmendmentDetails
from civreg.events.values import (
    Contact,
    DutyPayment,
    EdsSignature,
    Person,
    PowerOfAttorney,
    Representative,
)
from intake.domain.details import NEEDS, birth_date_problem, model_for

IIN_LEN = 12
PHONE_MAX = 32  # 15 digits with spaces and a plus sign
EMAIL_MAX = 254  # RFC 5321's limit on a forward path

_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _born_by_today(born: dt.date | None) -> dt.date | None:
    # At the edge, "today" is the service's clock (btkernel.clock, which tests shift).
    if born is not None and (why := birth_date_problem(born, clock.today(ALMATY))):
        raise ValueError(why)
    return born


BirthDate = Annotated[dt.date, AfterValidator(_born_by_today)]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """`node` with its `#/$defs/…` references replaced by the definitions (none of them is recursive), so the
    schema stands in the service's OpenAPI document and the gateway's merged one without components."""
    if isinstance(node, dict):
        if isinstance(ref := node.get("$ref"), str):
            return _inline(defs[ref.split("/")[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def details_json_schema() -> dict[str, Any]:
    """The request's `details` as the OpenAPI document shows them: one member per service (`x-service-id`) and
    one for the amendment variant (`x-variant`), each with the fields that service needs marked required
    (`NEEDS`) and one example. `anyOf`, not `oneOf`: the members of the act services share their fields, and
    what selects one is `service_id` beside `details`, not a property inside."""
    members = []
    for key, example in EXAMPLES.items():
        model = model_for(key, None) if key != AMENDMENT else AmendmentDetails
        schema = model.model_json_schema()
        member: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
        member["required"] = sorted({*member.get("required", []), *NEEDS.get(key, ())})
        member["examples"] = [example]
        member["x-variant" if key == AMENDMENT else "x-service-id"] = key
        members.append(member)
    return {"type": "object", "anyOf": members}


class ApplicantIn(Person):
    # Required here (optional in events, for records of people without one): hand-over checks the ID against it.
    # An IIN or a Kyrgyz PIN here; submitting judges it by the accepting site's country (ADR 0039).
    iin: str = Field(max_length=identifiers.MAX_LENGTH)
    birth_date: BirthDate | None = None

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str | None) -> str | None:
        if v is None:
            raise PydanticCustomError("missing", "the applicant's IIN is required")
        return identifiers.check_any(v)


class ContactIn(Contact):
    phone: str | None = Field(None, max_length=PHONE_MAX)
    email: str | None = Field(None, max_length=EMAIL_MAX)

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


class PowerOfAttorneyIn(PowerOfAttorney):
    """A notarised power of attorney must be in force when the application is accepted (S002 p.9: a
    representative acts on a notarised power of attorney); hand-over checks it again on the day."""

    @field_validator("issued_on")
    @classmethod
    def _issued(cls, v: dt.date) -> dt.date:
        if v > clock.today(ALMATY):
            raise ValueError("a power of attorney cannot be issued in the future")
        return v

    @field_validator("valid_until")
    @classmethod
    def _in_force(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v < clock.today(ALMATY):
            raise ValueError(f"the power of attorney expired on {v.isoformat()}; a valid one is needed")
        return v


class RepresentativeIn(Representative):
    person: ApplicantIn
    contact: ContactIn | None = None
    power_of_attorney: PowerOfAttorneyIn


class EdsSignatureIn(EdsSignature):
    certificate_serial: Id
    signer_iin: str = Field(max_length=IIN_LEN)


MAX_TIYN = 10**12  # ten billion tenge: far above any state duty, bounded all the same


class DutyPaymentIn(BaseModel):
    """How the duty was paid (S004 p.7): the bank's payment document the operator sees, or the e-government
    payment gateway's payment id (ADR 0034). The fee service reconciles either; this only spares the paper."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["bank", "payment_gateway"]
    payment_id: Id | None = Field(
        None, description="payment_gateway: the id `POST /api/v1/duty/payments` gave"
    )
    bank: Code | None = Field(None, description="bank: the bank's BIC", examples=["HSBKKZKX"])
    document_number: Id | None = Field(None, description="bank: the payment document's number")
    paid_on: dt.date | None = Field(None, description="bank: the date on the payment document")
    amount_tiyn: int | None = Field(None, ge=1, le=MAX_TIYN, description="bank: the amount paid, in tiyn")

    @field_validator("paid_on")
    @classmethod
    def _not_future(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v > clock.today(ALMATY):
            raise ValueError("a payment cannot be dated in the future")
        return v

    @model_validator(mode="after")
    def _complete(self) -> DutyPaymentIn:
        needed = (
            ("payment_id",)
            if self.method == "payment_gateway"
            else ("bank", "document_number", "paid_on", "amount_tiyn")
        )
        if missing := [n for n in needed if getattr(self, n) is None]:
            raise ValueError(f"a {self.method} payment needs {', '.join(missing)}")
        return self


class StateDutyIn(BaseModel):
    """The state duty as settled at acceptance: an exemption of S004 p.7 claimed (its supporting document is
    then `exemption_document` in `documents`), or the payment made (ADR 0034)."""

    model_config = ConfigDict(extra="forbid")

    exemption: Code | None = Field(None, description="see GET /api/v1/services/{service_id}/duty")
    payment: DutyPaymentIn | None = None

    def paid(self) -> DutyPayment | None:
        """The payment as the receipt records it: the bank document's number, or the gateway's payment id."""
        p = self.payment
        if p is None:
            return None
        reference = p.payment_id if p.method == "payment_gateway" else p.document_number
        assert reference is not None  # _complete
        return DutyPayment(
            method=p.method, reference=reference, bank=p.bank, paid_on=p.paid_on, amount_tiyn=p.amount_tiyn
        )


class SubmitApplication(BaseModel):
    """An application as the operator enters it: who applies, for what, with which documents presented."""

    model_config = ConfigDict(extra="forbid")

    service_id: Code = Field(examples=["birth_registration"])
    applicant: ApplicantIn
    representative: RepresentativeIn | None = None
    contact: ContactIn
    documents: list[Code] = Field(
        description="codes of the documents presented, from the service's checklist",
        examples=[["identity_document", "medical_birth_certificate"]],
        max_length=LIST_MAX,
    )
    # Checked per service after the body parses (`intake.app.channels.validate_details`: the model `service_id`
    # selects, its dates judged on the service's today), with paths under body.details; here only the number
    # of top-level fields is bounded. The document shows the per-service models (ADR 0018).
    details: Annotated[dict[Code, Any], WithJsonSchema(details_json_schema())] = Field(
        description="service-specific data; its model is the one of `service_id` (or the amendment's when "
        "`details.variant` is amendment): one member per service below, each with an example",
        max_length=LIST_MAX,
    )
    registry_office_id: Code | None = Field(
        None, description="defaults to the centre's district registry office; required on the portal"
    )
    signature: EdsSignatureIn | None = Field(
        None, description="portal only: the applicant's EDS signature as the portal checked it"
    )
    state_duty: StateDutyIn | None = Field(
        None, description="an exemption claimed or the payment made; either spares the paper fee_receipt"
    )
    ticket_id: Id | None = Field(
        None, description="the called queue ticket this application ends (S004 p.8; ADR 0037)"
    )
    home_visit_id: Id | None = Field(
        None, description="the home visit, assigned to the submitting worker, it was accepted on (S004 p.13)"
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

    receipt_number: Id
    recipient: Literal["applicant", "representative"] = "applicant"
    identity_document_iin: str = Field(max_length=identifiers.MAX_LENGTH)

    @field_validator("identity_document_iin")
    @classmethod
    def _iin(cls, v: str) -> str:
        # Compared with the applicant's number on record, an IIN or a Kyrgyz PIN (ADR 0039).
        return identifiers.check_any(v)


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
