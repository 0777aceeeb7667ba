"""Commands for intake's use-case tests, built from the samples the integration and e2e tests send."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.context import Actor, RequestContext
from civreg.calendar import ALMATY
from civreg.events.values import Contact, EdsSignature, Person, Representative
from intake.app.submit import Submit
from intake.app.unit_of_work import Once

# A Monday in Almaty, mid-morning: a working day at every site.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ALMATY)
OPERATOR = Actor(id="op-1", name="Сейткали Айгерим", role="centre_operator", site="almaty-con-1")
DESK = Actor(id="chancellery1", name="Жумабекова Гульнара", role="registry_chancellery", site="almaty-almaly")
PORTAL = Actor(id="egov-portal", name="egov.kz", role="portal")


def submit_command(
    body: dict[str, Any], actor: Actor = OPERATOR, *, now: dt.datetime = NOW, once: Once | None = None
) -> Submit:
    rep = body.get("representative")
    sig = body.get("signature")
    return Submit(
        service_id=body["service_id"],
        applicant=Person.model_validate(body["applicant"]),
        contact=Contact.model_validate(body["contact"]),
        documents=list(body["documents"]),
        details=body["details"],
        representative=Representative.model_validate(rep) if rep else None,
        registry_office_id=body.get("registry_office_id"),
        signature=EdsSignature.model_validate(sig) if sig else None,
        actor=actor,
        ctx=RequestContext(correlation_id="unit", actor=actor),
        now=now,
        once=once,
    )


def born_yesterday() -> dt.date:
    return NOW.date() - dt.timedelta(days=1)
