"""The application aggregate's hand-over rules (S002 p.9: against the receipt and an identity document)."""

import datetime as dt

import pytest

from btkernel.problems import Conflict, RuleViolation
from civreg.events.application import ApplicationForwarded, ApplicationSubmitted
from civreg.events.details import EXAMPLES
from civreg.events.values import (
    Contact,
    Person,
    PersonName,
    PowerOfAttorney,
    Receipt,
    Representative,
)
from civreg.iin import make
from intake.domain.application import ISSUED, READY_FOR_PICKUP, Application

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
APPLICANT_IIN = make(dt.date(1995, 3, 4), "female", 10)
REP_IIN = make(dt.date(1980, 7, 1), "male", 20)


def _ready(representative: Representative | None = None) -> Application:
    person = Person(iin=APPLICANT_IIN, name=PersonName(surname="Касымова", first_name="Әлия"))
    receipt = Receipt(
        number="R-1",
        accepted_at=NOW,
        service_id="birth_registration",
        service_name="x",
        documents=[],
        documents_count=0,
        result_issue_date=dt.date(2026, 11, 25),
        result_issue_place="ЦОН",
        operator_name="op",
        applicant_name="Касымова Әлия",
        phones=[],
    )
    app = Application.fold(
        "a1",
        [
            ApplicationSubmitted(
                application_id="a1",
                service_id="birth_registration",
                channel="state_corporation",
                centre_id="c1",
                registry_office_id="o1",
                submitted_at=NOW,
                applicant=person,
                representative=representative,
                contact=Contact(phone="+77010000000"),
                details=EXAMPLES["birth_registration"],
                documents=[],
                receipt=receipt,
            ),
            ApplicationForwarded(
                application_id="a1",
                service_id="birth_registration",
                channel="state_corporation",
                centre_id="c1",
                registry_office_id="o1",
                submitted_at=NOW,
                forwarded_at=NOW,
                receipt_number="R-1",
                applicant=person,
                details=EXAMPLES["birth_registration"],
                documents=[],
            ),
        ],
    )
    app.receive_result(case_id="k1", outcome="registered", record_number="N1", at=NOW, pickup_place="ЦОН")
    assert app.status == READY_FOR_PICKUP
    return app


def _hand(app: Application, **kw: object) -> None:
    args = {
        "receipt_number": "R-1",
        "presented_iin": APPLICANT_IIN,
        "recipient": "applicant",
        "operator_id": "op1",
        "operator_name": "Оператор",
        "at": NOW,
    }
    args.update(kw)
    app.hand_over(**args)  # type: ignore[arg-type]


def test_hand_over_to_the_applicant_with_receipt_and_id() -> None:
    app = _ready()
    _hand(app)
    assert app.status == ISSUED
    assert [type(e).__name__ for e in app.pending][-1] == "ApplicationResultIssued"


def test_wrong_receipt_number_is_refused_with_its_field() -> None:
    with pytest.raises(RuleViolation) as err:
        _hand(_ready(), receipt_number="R-2")
    assert err.value.errors[0]["path"] == "body.receipt_number"


def test_someone_elses_identity_document_is_refused() -> None:
    with pytest.raises(RuleViolation) as err:
        _hand(_ready(), presented_iin=REP_IIN)
    assert err.value.code == "identity_mismatch"


def test_second_hand_over_is_a_conflict() -> None:
    app = _ready()
    _hand(app)
    with pytest.raises(Conflict):
        _hand(app)


def test_representative_collects_only_on_a_valid_power_of_attorney() -> None:
    rep = Representative(
        person=Person(iin=REP_IIN, name=PersonName(surname="Иванов", first_name="Пётр")),
        power_of_attorney=PowerOfAttorney(
            number="N-77", issued_on=dt.date(2026, 1, 1), notary="Нотариус", valid_until=dt.date(2026, 12, 31)
        ),
    )
    app = _ready(rep)
    with pytest.raises(RuleViolation):
        _hand(app, recipient="representative", presented_iin=APPLICANT_IIN)
    _hand(app, recipient="representative", presented_iin=REP_IIN)
    assert app.status == ISSUED

    expired = rep.model_copy(
        update={
            "power_of_attorney": rep.power_of_attorney.model_copy(
                update={"valid_until": dt.date(2026, 11, 1)}
            )
        }
    )
    with pytest.raises(RuleViolation) as err:
        _hand(_ready(expired), recipient="representative", presented_iin=REP_IIN)
    assert err.value.code == "power_of_attorney_expired"


def test_no_representative_named_means_only_the_applicant() -> None:
    with pytest.raises(RuleViolation) as err:
        _hand(_ready(), recipient="representative", presented_iin=REP_IIN)
    assert err.value.code == "no_representative"


def test_the_same_result_arriving_twice_changes_nothing() -> None:
    app = _ready()
    before = len(app.pending)
    app.receive_result(case_id="k1", outcome="registered", record_number="N1", at=NOW, pickup_place="ЦОН")
    assert len(app.pending) == before
