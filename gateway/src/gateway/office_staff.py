"""The public list of an office's staff, so a head chooses the executive of a resolution from a list instead of
typing a user name (S002 p.5(2): the head assigns an executive of the same office; issue 11, the desk).

Served by the gateway itself, which owns the accounts (like `/api/v1/auth/*`, outside the routed policy table,
whose operations each belong to an upstream service). Who sees what: the office's head and chancellery their own
office, the supervisor any site it names; nobody else. Only active accounts, only name, full name and role, at
most `LIMIT` of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from btkernel import problems
from btkernel.bounded import ID_MAX
from civreg import sites
from civreg.policy import Role
from gateway.auth import PrincipalDep, authorize
from gateway.state import GatewayDep

PATH = "/api/v1/staff"
# Far more than an office employs; the list is a form's choice, not a search.
LIMIT = 200
ALLOWED = frozenset({Role.REGISTRY_HEAD, Role.REGISTRY_CHANCELLERY, Role.SUPERVISOR})

router = APIRouter(tags=["staff"])


class StaffRole(StrEnum):
    """The roles bound to a site, the only ones a site's list can hold."""

    centre_operator = Role.CENTRE_OPERATOR.value
    registry_chancellery = Role.REGISTRY_CHANCELLERY.value
    registry_head = Role.REGISTRY_HEAD.value
    registry_executive = Role.REGISTRY_EXECUTIVE.value
    registry_worker = Role.REGISTRY_WORKER.value


class StaffEntry(BaseModel):
    username: str
    full_name: str
    role: str


class StaffList(BaseModel):
    site_id: str
    items: list[StaffEntry]
    truncated: bool


@router.get(
    PATH,
    response_model=StaffList,
    summary="The active staff of a site, e.g. the executives a head may assign",
    description=(
        "Roles: `registry_head` and `registry_chancellery` (their own office; `site_id` may be omitted or must "
        f"name it), `supervisor` (any site, `site_id` required). At most {LIMIT} entries, by user name; "
        "`truncated` says when there were more."
    ),
    responses={403: {"description": "another role, or another office than the caller's own"}},
)
async def site_staff(
    principal: PrincipalDep,
    gateway: GatewayDep,
    role: Annotated[StaffRole | None, Query(description="only accounts of this role")] = None,
    site_id: Annotated[str | None, Query(min_length=1, max_length=ID_MAX)] = None,
) -> StaffList:
    authorize(principal, ALLOWED)
    site = _site_of(principal.role, principal.site, site_id)
    found = await gateway.users.on_site(site, role.value if role else None, limit=LIMIT + 1)
    return StaffList(
        site_id=site,
        items=[StaffEntry(username=u.username, full_name=u.full_name, role=u.role) for u in found[:LIMIT]],
        truncated=len(found) > LIMIT,
    )


def _site_of(role: str, own_site: str | None, asked: str | None) -> str:
    if role == Role.SUPERVISOR:
        if asked is None:
            raise problems.InvalidInput("a supervisor names the site", field="query.site_id")
        reference = sites.load()
        if reference.office(asked) is None and reference.centre(asked) is None:
            raise problems.NotFound(f"no site {asked}", field="query.site_id")
        return asked
    if own_site is None or (asked is not None and asked != own_site):
        raise problems.Forbidden(f"the staff of {asked} is not yours to see: your office is {own_site}")
    return own_site
