"""The fixed set of roles and which kind of site each is bound to (conventions.md, "Identity")."""

from __future__ import annotations

from typing import Final

from civreg import sites
from civreg.policy import ALL_ROLES as ALL_ROLES
from civreg.policy import REGISTRY_ROLES as REGISTRY_ROLES
from civreg.policy import Role

# The roles are civreg.policy's `Role` (one table with who may do what, ADR 0014); these names stay for the
# gateway's own modules (seed, tokens) and tests.
CENTRE_OPERATOR: Final = Role.CENTRE_OPERATOR
REGISTRY_CHANCELLERY: Final = Role.REGISTRY_CHANCELLERY
REGISTRY_HEAD: Final = Role.REGISTRY_HEAD
REGISTRY_EXECUTIVE: Final = Role.REGISTRY_EXECUTIVE
SUPERVISOR: Final = Role.SUPERVISOR
REGISTRY_WORKER: Final = Role.REGISTRY_WORKER
PORTAL: Final = Role.PORTAL


def check(role: str, site: str | None) -> None:
    """Refuse a role outside the fixed set, or a site that is not the kind the role is bound to."""
    if role not in ALL_ROLES:
        raise ValueError(f"unknown role {role!r}; roles are: {', '.join(sorted(ALL_ROLES))}")
    reference = sites.load()
    if role == CENTRE_OPERATOR:
        if site is None or reference.centre(site) is None:
            known = ", ".join(c.id for c in reference.service_centres)
            raise ValueError(f"a {role} must be bound to a service centre ({known}), not {site!r}")
    elif role in REGISTRY_ROLES:
        if site is None or reference.office(site) is None:
            known = ", ".join(o.id for o in reference.registry_offices)
            raise ValueError(f"a {role} must be bound to a registry office ({known}), not {site!r}")
    elif site is not None:
        # A supervisor (and the portal client) sees every site; binding one would suggest a scoping that no service applies.
        raise ValueError(f"a {role} is not bound to a site, got {site!r}")
