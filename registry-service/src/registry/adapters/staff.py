"""The gateway's staff directory (it owns the accounts): the registry's `StaffDirectory` (registry.app.staff says
who may be assigned). The registry asks on behalf of the request it serves, showing that request's internal
token, which the gateway signed for the registry (gateway.staff): being on the gateway's host proves nothing."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from btkernel import internal_token
from btkernel.problems import Unauthorized, Unavailable
from registry.app.staff import StaffDirectory, StaffMember

RETRY_AFTER_S = 5


class GatewayStaffDirectory:
    """`GET {gateway}/internal/v1/staff/{username}` (gateway.staff)."""

    def __init__(self, base_url: str, timeout_s: float = 3.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def member(self, username: str) -> StaffMember | None:
        url = f"{self._base}/internal/v1/staff/{quote(username, safe='')}"
        presented = internal_token.presented()
        if presented is None:
            # Only a request the gateway vouched for reaches a use case that asks; this is a wiring mistake.
            raise Unauthorized("no internal token to show the staff directory")
        try:
            async with httpx.AsyncClient(timeout=self._timeout, trust_env=False) as client:
                r = await client.get(url, headers={internal_token.HEADER: presented})
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


class UnconfiguredStaffDirectory:
    """No gateway configured (BT_GATEWAY_URL): every check refuses, so no executive is ever assigned unchecked.
    In-process tests pass a fake directory instead (registry.main.build_app's `staff`)."""

    async def member(self, username: str) -> StaffMember | None:
        raise Unavailable(
            "no staff directory is configured (BT_GATEWAY_URL): executives cannot be checked",
            retry_after_s=RETRY_AFTER_S,
        )


def from_settings(gateway_url: str | None, env: str) -> StaffDirectory:
    """The gateway's directory. Without BT_GATEWAY_URL a production registry does not start, and any other
    refuses every assignment: the check is never skipped."""
    if gateway_url:
        return GatewayStaffDirectory(gateway_url)
    if env == "production":
        raise ValueError("BT_GATEWAY_URL is required in production: executives are checked against the staff")
    return UnconfiguredStaffDirectory()
