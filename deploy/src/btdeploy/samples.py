"""Sample requests of the public API, shared by end-to-end tests, service tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from btkernel.iin import make

_serial = itertools.count(1)


def birth_application(
    *, born: dt.date | None = None, email: str = "asel@example.kz", **overrides: Any
) -> dict[str, Any]:
    """A complete birth application for a service centre, with a fresh valid IIN for the mother."""
    born = born or dt.date.today() - dt.timedelta(days=1)
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
