"""Value objects that travel inside events."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class Value(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PersonName(Value):
    surname: str
    first_name: str
    patronymic: str | None = None

    def full(self) -> str:
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)


class Person(Value):
    """A natural person as identified by the documents presented (ИИН — individual identification number)."""

    iin: str | None = None
    name: PersonName
    birth_date: dt.date | None = None


class Contact(Value):
    phone: str | None = None
    email: str | None = None


class PowerOfAttorney(Value):
    """Нотариально удостоверенная доверенность."""

    number: str
    issued_on: dt.date
    notary: str
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


class EdsSignature(Value):
    """The applicant's EDS signature of a portal request, as the portal checked it (S002 portal condition 2:
    certificate valid, not revoked, IIN in the certificate = IIN in the request)."""

    certificate_serial: str
    signer_iin: str
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
