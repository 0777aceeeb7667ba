"""The fixed set of roles and which kind of site each is bound to (conventions.md, "Identity")."""

from __future__ import annotations

from typing import Final

from btkernel import sites

CENTRE_OPERATOR: Final = "centre_operator"
REGISTRY_CHANCELLERY: Final = "registry_chancellery"
REGISTRY_HEAD: Final = "registry_head"
REGISTRY_EXECUTIVE: Final = "registry_executive"
SUPERVISOR: Final = "supervisor"
# The worker of the provider registers annulment applications instead of the chancellery (S002/App.10 p.7).
REGISTRY_WORKER: Final = "registry_worker"
# An API client: the e-government portal, submitting citizens' EDS-signed applications and reading the
# personal-cabinet notifications (S002 portal processes 7-9). Not bound to a site.
PORTAL: Final = "portal"

REGISTRY_ROLES: Final = frozenset({REGISTRY_CHANCELLERY, REGISTRY_HEAD, REGISTRY_EXECUTIVE, REGISTRY_WORKER})
ALL_ROLES: Final = frozenset({CENTRE_OPERATOR, SUPERVISOR, PORTAL, *REGISTRY_ROLES})


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
