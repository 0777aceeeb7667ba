"""Value objects that travel inside events.

Several are also request bodies (intake's applicant, representative, contact, signature), so every string is
bounded (`btkernel.bounded`). Bounds only ever refuse what real data never held: these models also read every
stored event back, so no optional field becomes required here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic_core import core_schema

from btkernel.bounded import ID_MAX, SHORT_MAX, Name


class Value(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _blank_is_none(_source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """`Name | None`, where a blank string reads as None, decided inside pydantic-core: the text stripped and
    checked as `Name` checks it (the same errors), then an empty one made None. A Python validator did it before,
    called for every patronymic, three in a birth event (the child's, the mother's, the father's): ~1.7 µs of the
    ~10.5 a replayed event took to validate (issue 13 P3). Blank is what `Name` strips: Unicode white space."""
    name = handler.generate_schema(Name)
    # Name is a constrained str; were it to become anything else, this would have to be thought again.
    if name["type"] != "str":
        raise TypeError(f"a Name that is not a str schema: {name}")
    text = {**name}
    text.pop("min_length", None)
    given = core_schema.with_default_schema(
        core_schema.str_schema(min_length=1), default=None, on_error="default"
    )
    return core_schema.nullable_schema(core_schema.chain_schema([text, given]))


# A part of a name that not everyone has (a patronymic): forms send "" for none, and such events are stored, so
# blank reads as None. Described as `Name | None`, which is what it holds once read.
OptionalName = Annotated[
    str | None, GetPydanticSchema(_blank_is_none), WithJsonSchema(TypeAdapter(Name | None).json_schema())
]


class PersonName(Value):
    surname: Name
    first_name: Name
    patronymic: OptionalName = None

    def full(self) -> str:
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)


class Person(Value):
    """A natural person as identified by the documents presented (ИИН — individual identification number)."""

    # Checked as an IIN where a request requires one (`civreg.iin`), as a PIN at a Kyrgyz site (`civreg.pin`,
    # 14 digits, ADR 0039); here only bounded, for stored events.
    iin: Annotated[str, Field(max_length=14)] | None = None
    name: PersonName
    birth_date: dt.date | None = None


class Contact(Value):
    phone: Annotated[str, Field(max_length=32)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None  # RFC 5321's longest address


class PowerOfAttorney(Value):
    """Нотариально удостоверенная доверенность."""

    # Bounded in length only: an empty one, if ever stored, must still read back.
    number: Annotated[str, Field(max_length=SHORT_MAX)]
    issued_on: dt.date
    notary: Annotated[str, Field(max_length=SHORT_MAX)]
    valid_until: dt.date | None = None


class Representative(Value):
    person: Person
    contact: Contact | None = None
    power_of_attorney: PowerOfAttorney


class PresentedDocument(Value):
    code: str
    name: str


class Term(Value):
    """A legal term as the regulations state it, with where it comes from."""

    value: int
    unit: str
    source: str


class DutyPayment(Value):
    """How the state duty was paid, as stated at acceptance (S004 p.7: through a bank or the e-government payment
    gateway): the bank's payment document, or the payment gateway's payment id (ADR 0034)."""

    method: Literal["bank", "payment_gateway"]
    reference: Annotated[str, Field(max_length=ID_MAX)]
    bank: Annotated[str, Field(max_length=ID_MAX)] | None = None
    paid_on: dt.date | None = None
    amount_tiyn: int | None = None


class StateDuty(Value):
    """The state duty due, as quoted from the tariff (`civreg.duty`) on the filing date and printed on the
    receipt: integer tiyn, the tariff's MRP multiple, the legal basis, a granted exemption (S004 p.7)."""

    amount_tiyn: int
    mrp_multiple: str
    basis: str
    exemption: str | None = None
    payment: DutyPayment | None = None
    # Whose hundredths `amount_tiyn` counts (ADR 0039): KZT, or KGS (tyiyn of som) at a Kyrgyz site; receipts
    # written before it was kept are tenge.
    currency: Literal["KZT", "KGS"] = "KZT"


class Receipt(Value):
    """Расписка о приёме документов — the fields of S004 p.9(2)."""

    number: str
    accepted_at: dt.datetime
    service_id: str
    service_name: str
    documents: list[PresentedDocument]
    documents_count: int
    result_issue_date: dt.date
    result_issue_place: str
    operator_name: str
    applicant_name: str
    representative_name: str | None = None
    phones: list[str]
    # "receipt" at a service centre (S004 p.9(2)); "registration_mark" — date and time of acceptance on the
    # paper application at the registry desk (S002/App.1 p.10); "e_registration" — the portal's registration of
    # the signed e-document (S002 portal process 7).
    form: str | None = None
    # The duty due and how it was settled (ADR 0034); absent on receipts issued before it was quoted.
    state_duty: StateDuty | None = None


class EdsSignature(Value):
    """The applicant's EDS signature of a portal request, as the portal checked it (S002 portal condition 2:
    certificate valid, not revoked, IIN in the certificate = IIN in the request)."""

    certificate_serial: Annotated[str, Field(max_length=ID_MAX)]
    signer_iin: Annotated[str, Field(max_length=12)]
    signed_at: dt.datetime
    certificate_valid_until: dt.date
    revoked: bool = False


class RefusalReceipt(Value):
    """Расписка об отказе в приёме документов (S002 p.9; form App.3 to the Standard): the receipt fields that
    apply, plus the missing documents that are the reason for refusal."""

    number: str
    refused_at: dt.datetime
    service_id: str
    service_name: str
    documents: list[PresentedDocument]
    missing_documents: list[PresentedDocument]
    reason: str
    operator_name: str
    applicant_name: str
    representative_name: str | None = None
    phones: list[str]
