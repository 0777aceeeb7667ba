"""Which site may read which fee decision (the owning service enforces site scoping: conventions.md)."""

from __future__ import annotations

from civreg.policy import Role
from fees.domain.decision import FeeDecision

# The office roles that read fee decisions: the provider's worker (annulment desk) is not among them.
REGISTRY_ROLES = frozenset({Role.REGISTRY_CHANCELLERY, Role.REGISTRY_HEAD, Role.REGISTRY_EXECUTIVE})
# The channel of an application the portal submitted (conventions.md, "Channels").
PORTAL_CHANNEL = "portal"


def a_site_sees_only_its_own_applications(d: FeeDecision, role: str, site: str | None) -> bool:
    """A centre sees the decisions of its applications, a registry office those of the applications forwarded to
    it, the supervisor all. Any other role sees none: should the policy table ever let one through, it reads as
    unknown rather than as everything."""
    if role == Role.CENTRE_OPERATOR:
        return d.centre_id == site
    if role in REGISTRY_ROLES:
        return d.registry_office_id == site
    if role == Role.PORTAL:
        # The portal is one client for every citizen: its own channel, never a site's applications.
        return d.channel == PORTAL_CHANNEL
    return role == Role.SUPERVISOR


def a_site_sees_only_its_own_payments(
    role: str, site: str | None, site_id: str, office_id: str | None, channel: str | None = None
) -> bool:
    """A payment is its site's (the centre or office that created or recorded it) and its registry office's; the
    portal sees the payments it made for its applications; the supervisor sees all; any other role none (ADR
    0034)."""
    if role == Role.CENTRE_OPERATOR:
        return site_id == site
    if role in REGISTRY_ROLES or role == Role.REGISTRY_WORKER:
        return site in (site_id, office_id)
    if role == Role.PORTAL:
        return channel == PORTAL_CHANNEL
    return role == Role.SUPERVISOR
