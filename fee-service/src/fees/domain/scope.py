"""Which site may read which fee decision (the owning service enforces site scoping: conventions.md)."""

from __future__ import annotations

from civreg.policy import Role
from fees.domain.decision import FeeDecision

# The office roles that read fee decisions: the provider's worker (annulment desk) is not among them.
REGISTRY_ROLES = frozenset({Role.REGISTRY_CHANCELLERY, Role.REGISTRY_HEAD, Role.REGISTRY_EXECUTIVE})


def a_site_sees_only_its_own_applications(d: FeeDecision, role: str, site: str | None) -> bool:
    """A centre sees the decisions of its applications, a registry office those of the applications forwarded to
    it, the supervisor all. Any other role sees none: should the policy table ever let one through, it reads as
    unknown rather than as everything."""
    if role == Role.CENTRE_OPERATOR:
        return d.centre_id == site
    if role in REGISTRY_ROLES:
        return d.registry_office_id == site
    return role == Role.SUPERVISOR
