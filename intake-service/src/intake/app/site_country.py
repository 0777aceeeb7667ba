"""What the accepting site's country decides at the counter (ADR 0039): which edition of the catalogue it offers,
by which rules it identifies persons (IIN or Kyrgyz PIN), and the fee of a foreign edition.

An operator of a Kyrgyz centre sees and accepts only the Kyrgyz edition, a Kazakh one only the Kazakh: a service
of the other country is refused naming `body.service_id`.
"""

from __future__ import annotations

import datetime as dt

from btkernel.errors import InvalidInput
from civreg import catalogue, duty, identifiers, sites
from civreg.events.values import DutyPayment, StateDuty


def of_command(actor_site: str | None, registry_office_id: str | None) -> str:
    """The country of the site accepting: the operator's site, else the office a portal application names."""
    reference = sites.load()
    return (
        reference.country_of(actor_site) or reference.country_of(registry_office_id) or catalogue.HOME_COUNTRY
    )


def service(service_id: str, on: dt.date, country: str) -> catalogue.StateService:
    """The edition of `service_id` in force on `on` in `country`, or a refusal naming the field."""
    cat = catalogue.load()
    found = cat.get(service_id, on=on, country=country)
    if found is not None:
        return found
    offered = ", ".join(cat.ids(country))
    elsewhere = cat.countries_of(service_id)
    if elsewhere and country not in elsewhere:
        reason = (
            f"{service_id!r} is a service of {', '.join(elsewhere)}; a site in {country} offers: {offered}"
        )
        raise InvalidInput(
            reason,
            errors=[{"path": "body.service_id", "reason": reason, "type": "service_of_another_country"}],
            code="service_of_another_country",
        )
    raise InvalidInput(
        f"unknown service {service_id!r}; offered: {offered}", field="body.service_id", code="unknown_service"
    )


def check_number(number: str | None, country: str, path: str) -> None:
    """A person's number by the country's rules (KZ: IIN, KG: PIN), or a refusal naming the field with the code
    a client translates (`iin_…`, `pin_…`)."""
    if number is None:
        return
    if found := identifiers.problem_code(number, country):
        code, reason = found
        raise InvalidInput(reason, errors=[{"path": path, "reason": reason, "type": code}], code=code)


def foreign_duty(
    service: catalogue.StateService, exemption: str | None, payment: DutyPayment | None, on: dt.date
) -> StateDuty:
    """The fee of an edition outside Kazakhstan: the catalogue's fixed amount in the country's minor unit (som:
    tyiyn), no MRP and no Kazakh exemptions (configuration to check, catalogue.yaml), quoted by the same
    `duty.quote_edition` the fee service decides with."""
    try:
        quote = duty.quote_edition(service, {}, on, exemption=exemption)
    except duty.NotExempt as exc:
        raise InvalidInput(str(exc), field="body.state_duty.exemption") from exc
    if payment is not None and not quote.payable:
        raise InvalidInput(
            "nothing is due for this application: no payment to record", field="body.state_duty.payment"
        )
    return StateDuty(
        amount_tiyn=quote.amount_tiyn,
        mrp_multiple=quote.mrp_multiple,
        basis=quote.basis,
        payment=payment,
        currency=quote.currency,
    )
