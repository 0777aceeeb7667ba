"""Who sees an application, and where its result is handed over. Pure rules on where the application was
accepted (`centre_id`), the office it went to (`registry_office_id`) and its channel."""

from __future__ import annotations

from btkernel.context import Actor
from civreg.policy import Role

PORTAL = "portal"


def site_sees_application(
    actor: Actor, *, channel: str, centre_id: str, registry_office_id: str | None
) -> bool:
    """A site sees only the applications it accepted (an office: also those sent to it); the portal only portal
    applications; a supervisor all of them."""
    if actor.role == Role.SUPERVISOR:
        return True
    if actor.role == Role.PORTAL:
        return channel == PORTAL
    if actor.role == Role.CENTRE_OPERATOR:
        return centre_id == actor.site
    return actor.site in (centre_id, registry_office_id)


def result_is_handed_over_where_it_waits(actor: Actor, *, centre_id: str) -> bool:
    """The result waits where the application was accepted: the centre, or the office (desk and portal)."""
    return centre_id == actor.site
