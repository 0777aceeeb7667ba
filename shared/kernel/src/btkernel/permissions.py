"""A table of who may call each public operation: the permission of one operation, and lookups over the table by
method and path template. Pure (no web framework), so a domain module may name roles from a table built on it;
the table and the roles are the domain's (`civreg.policy`), the enforcement on a service is `btkernel.access`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

# Where the public API lives, on the gateway and on every service alike; anything else a service serves is its own.
PUBLIC_PREFIX: Final = "/api/"


@dataclass(frozen=True)
class Permission:
    """One public operation: the same method and path template on the gateway and on the owning service."""

    method: str
    path: str
    roles: frozenset[str]
    # What the owning service checks beyond the role (site, state of the resource), or why a role is in or out.
    note: str = ""

    def allows(self, role: str) -> bool:
        return role in self.roles


_PARAM = re.compile(r"\{[^}/]+\}")


def shape(path: str) -> str:
    """The template with parameter names erased, so `/cases/{id}` and `/cases/{case_id}` compare equal."""
    return _PARAM.sub("{}", path)


class Policy:
    """Lookups over a table of permissions, by method and path template; checked when built.

    `everyone` is the set of all roles: an operation every role may call stays callable without an identity.
    """

    def __init__(self, permissions: Iterable[Permission], everyone: frozenset[str] = frozenset()) -> None:
        self.permissions = tuple(permissions)
        self.everyone = everyone
        self._by_shape: dict[tuple[str, str], Permission] = {}
        spelling: dict[str, str] = {}
        for p in self.permissions:
            if p.method != p.method.upper() or not p.path.startswith(PUBLIC_PREFIX):
                raise ValueError(
                    f"{p.method} {p.path}: write the method in capitals and the path from {PUBLIC_PREFIX}"
                )
            if not p.roles:
                raise ValueError(f"{p.method} {p.path}: no role may call it; leave it out of the API instead")
            # One spelling per shape, so the gateway's router and the services' name the same parameters.
            if spelling.setdefault(shape(p.path), p.path) != p.path:
                raise ValueError(f"{p.path} and {spelling[shape(p.path)]} name the same parameters apart")
            key = (p.method, shape(p.path))
            if key in self._by_shape:
                raise ValueError(f"{p.method} {p.path} is in the policy table twice")
            self._by_shape[key] = p

    def find(self, method: str, path_template: str) -> Permission | None:
        """The permission of a method on a path template (as a router or an OpenAPI document spells it)."""
        return self._by_shape.get((method.upper(), shape(path_template)))

    def open_to_all(self, permission: Permission) -> bool:
        return bool(self.everyone) and permission.roles == self.everyone
