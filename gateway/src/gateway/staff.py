"""The staff directory: who a user name is (role, site, active), read-only, for the services on loopback.

The gateway owns accounts; the registry asks here before a head assigns an executive (only an active executive
of the same office may be assigned, S002 p.5(2)). Not part of the public API: not in the OpenAPI document, not in
the route table, and answered only to callers on this host — the services themselves.
"""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from btkernel.problems import Forbidden, NotFound
from gateway.state import GatewayDep

PATH = "/internal/v1/staff/{username}"
router = APIRouter(include_in_schema=False)


class StaffMember(BaseModel):
    username: str
    role: str
    site: str | None
    active: bool


def _on_this_host(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get(PATH)
async def staff_member(username: str, request: Request, gateway: GatewayDep) -> JSONResponse:
    if not _on_this_host(request):
        raise Forbidden("the staff directory answers the platform's services only")
    if len(username) > 64:
        raise NotFound("no such user")
    user = await gateway.users.get(username)
    if user is None:
        raise NotFound(f"no user {username}")
    member = StaffMember(username=user.username, role=user.role, site=user.site, active=user.active)
    return JSONResponse(member.model_dump())
