"""The staff directory: who a user name is (role, site, active), read-only, for the platform's services.

The gateway owns accounts; the registry asks here before a head assigns an executive (only an active executive
of the same office may be assigned, S002 p.5(2)). Not part of the public API: not in the OpenAPI document, not in
the route table. Being on this host proves nothing (issue 9): the caller shows the internal token of the request
it is serving — signed by this gateway, unexpired, addressed to a service allowed to ask (`STAFF_CALLERS`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from btkernel import internal_token
from btkernel.problems import Forbidden, NotFound, Unauthorized
from gateway.internal_tokens import STAFF_CALLERS
from gateway.state import GatewayDep

PATH = "/internal/v1/staff/{username}"
router = APIRouter(include_in_schema=False)


class StaffMember(BaseModel):
    username: str
    role: str
    site: str | None
    active: bool


def _check_caller(request: Request, verifier: internal_token.Verifier) -> None:
    presented = request.headers.get(internal_token.HEADER)
    if presented is None:
        raise Unauthorized(
            f"the staff directory answers the platform's services only: show the {internal_token.HEADER} of "
            "the request being served"
        )
    try:
        verifier.verify(presented)
    except internal_token.InvalidToken as exc:
        if exc.kind == "audience":
            raise Forbidden(f"the staff directory answers {', '.join(STAFF_CALLERS)} only") from None
        raise Unauthorized(f"internal token refused: {exc.reason}") from None


@router.get(PATH)
async def staff_member(username: str, request: Request, gateway: GatewayDep) -> JSONResponse:
    _check_caller(request, gateway.internal_tokens.staff_callers)
    if len(username) > 64:
        raise NotFound("no such user")
    user = await gateway.users.get(username)
    if user is None:
        raise NotFound(f"no user {username}")
    member = StaffMember(username=user.username, role=user.role, site=user.site, active=user.active)
    return JSONResponse(member.model_dump())
