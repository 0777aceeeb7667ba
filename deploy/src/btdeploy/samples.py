"""Sample requests of the public API, shared by end-to-end tests, service tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from btkernel import clock
from civreg.calendar import ALMATY
from civreg.iin import make

_serial = itertools.count(1)


def birth_application(
    *, born: dt.date | None = None, email: str = "asel@example.kz", **overrides: Any
) -> dict[str, Any]:
    """A complete birth application for a service centre, with a fresh valid IIN for the mother."""
    born = born or clock.today(ALMATY) - dt.timedelta(days=1)
    mother_iin = make(dt.date(1996, 2, 14), "female", next(_serial) % 9000)
    body: dict[str, Any] = {
        "service_id": "birth_registration",
        "applicant": {
            "iin": mother_iin,
            "name": {"surname": "Жұмабаева", "first_name": "Әсел", "patronymic": "Маратқызы"},
        },
        "contact": {"phone": "+77011234567", "email": email},
        "documents": ["identity_document", "medical_birth_certificate"],
        "details": {
            "child": {
                "name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"},
                "sex": "male",
                "birth_date": born.isoformat(),
                "birth_place": "Алматы",
            },
            "mother": {"iin": mother_iin, "name": {"surname": "Жұмабаева", "first_name": "Әсел"}},
        },
    }
    body.update(overrides)
    return body


def person(
    surname: str, first_name: str, *, sex: str = "female", born: dt.date | None = None
) -> dict[str, Any]:
    """A person with a fresh valid IIN."""
    born = born or dt.date(1990, 5, 17)
    return {
        "iin": make(born, sex, next(_serial) % 9000),
        "name": {"surname": surname, "first_name": first_name},
        "birth_date": born.isoformat(),
    }


def required_documents(
    service_id: str, variant: str | None = None, *, on: dt.date | None = None
) -> list[str]:
    """The codes of the documents a complete package of the service has, from the catalogue."""
    from civreg import catalogue

    service = catalogue.load().get(service_id, on=on)
    assert service is not None, service_id
    return [d.code for d in service.required_documents(with_representative=False, variant=variant)]


# Services whose application must name its variant (intake refuses it otherwise): the ground of a divorce.
GROUND_REQUIRED = {"divorce_registration": "court_decision"}


def act_application(
    service_id: str,
    *,
    applicant: dict[str, Any] | None = None,
    email: str = "applicant@example.kz",
    documents: list[str] | None = None,
    **details: Any,
) -> dict[str, Any]:
    """An application of any service but birth: the applicant, a complete package for its variant, the details."""
    applicant = applicant or person("Сейітова", "Айгүл")
    if service_id in GROUND_REQUIRED:
        details.setdefault("variant", GROUND_REQUIRED[service_id])
    return {
        "service_id": service_id,
        "applicant": {k: applicant[k] for k in ("iin", "name")},
        "contact": {"phone": "+77017654321", "email": email},
        "documents": documents
        if documents is not None
        else required_documents(service_id, details.get("variant")),
        "details": details,
    }


def eds_signature(iin: str, *, valid_days: int = 365, revoked: bool = False) -> dict[str, Any]:
    """The portal's record of an applicant's EDS signature (S002 portal condition 2)."""
    now = dt.datetime.now(dt.UTC)
    return {
        "certificate_serial": f"EDS-{next(_serial):08d}",
        "signer_iin": iin,
        "signed_at": now.isoformat(),
        "certificate_valid_until": (now.date() + dt.timedelta(days=valid_days)).isoformat(),
        "revoked": revoked,
    }
