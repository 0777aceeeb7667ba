"""Whom the service tells about an application, and who may read what it told them."""

from __future__ import annotations

from dataclasses import dataclass

from civreg.events.values import Contact, Person, Representative
from civreg.policy import Role

SUBMITTED = "submitted"
ACCEPTANCE_REFUSED = "acceptance_refused"


@dataclass(frozen=True)
class ApplicationContact:
    """What the projection keeps of one application: who to tell and how to name the service and the receipt."""

    application_id: str
    service_id: str
    service_name_ru: str
    service_name_kk: str
    centre_id: str
    status: str
    receipt_number: str | None
    applicant_name: str
    recipient_name: str
    email: str | None
    phone: str | None
    timezone: str
    source_event_id: str
    # The Kyrgyz name of a Kyrgyz edition's service (ADR 0039), "" for a Kazakh one (whose state name is kk).
    service_name_ky: str = ""


def addressee(
    applicant: Person, representative: Representative | None, contact: Contact
) -> tuple[str, str | None, str | None]:
    """Name, e-mail and phone to address: the application's contact, or else the representative's own contact
    (then the message greets the representative, who is the one who will read it)."""
    if (
        contact.email
        or representative is None
        or representative.contact is None
        or not representative.contact.email
    ):
        return applicant.name.full(), contact.email or None, contact.phone or None
    rep = representative.contact
    return representative.person.name.full(), rep.email, contact.phone or rep.phone or None


def a_centre_sees_only_its_own_applications(app: ApplicationContact, role: str, site: str | None) -> bool:
    """An operator reads the delivery log of its own centre's applications only; another centre's application is
    as unknown to it as one that does not exist. The supervisor sees all; any other role none (should the policy
    table ever let one through, it reads as unknown rather than as everything)."""
    if role == Role.CENTRE_OPERATOR:
        return app.centre_id == site
    return role == Role.SUPERVISOR
