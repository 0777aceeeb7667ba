"""Who may be assigned as an executive: the gateway's staff directory (it owns the accounts), asked on loopback.

Only an active executive of the case's own office may be assigned (S002 p.5(2): the head imposes a resolution
on an employee of the provider). A refusal names `body.executive_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import httpx

from btkernel.problems import InvalidInput, Unavailable

EXECUTIVE = "registry_executive"
RETRY_AFTER_S = 5


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: str
    site: str | None
    active: bool


class StaffDirectory(Protocol):
    async def member(self, username: str) -> StaffMember | None: ...


class GatewayStaffDirectory:
    """`GET {gateway}/internal/v1/staff/{username}` (gateway.staff)."""

    def __init__(self, base_url: str, timeout_s: float = 3.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def member(self, username: str) -> StaffMember | None:
        url = f"{self._base}/internal/v1/staff/{quote(username, safe='')}"
        try:
            async with httpx.AsyncClient(timeout=self._timeout, trust_env=False) as client:
                r = await client.get(url)
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"the staff directory cannot be reached ({type(exc).__name__}); try again",
                retry_after_s=RETRY_AFTER_S,
            ) from None
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise Unavailable(
                f"the staff directory answered {r.status_code}; try again", retry_after_s=RETRY_AFTER_S
            )
        data = r.json()
        return StaffMember(
            username=str(data["username"]),
            role=str(data["role"]),
            site=data.get("site"),
            active=bool(data["active"]),
        )


async def check_executive(directory: StaffDirectory, executive_id: str, office_id: str) -> None:
    """Refuse (422, body.executive_id) anyone but an active executive of `office_id`."""
    field = "body.executive_id"
    member = await directory.member(executive_id)
    if member is None:
        raise InvalidInput(f"there is no user {executive_id}", field=field)
    if member.role != EXECUTIVE:
        raise InvalidInput(f"{executive_id} is not an executive (role {member.role})", field=field)
    if member.site != office_id:
        raise InvalidInput(f"{executive_id} is an executive of another registry office", field=field)
    if not member.active:
        raise InvalidInput(f"the account of {executive_id} is disabled", field=field)


def from_settings(gateway_url: str | None, env: str) -> StaffDirectory | None:
    """The gateway's directory; none outside production when no gateway is configured (a registry tested on its
    own assigns whom it is told). In production the check is never skipped."""
    if gateway_url:
        return GatewayStaffDirectory(gateway_url)
    if env == "production":
        raise ValueError("BT_GATEWAY_URL is required in production: executives are checked against the staff")
    return None
