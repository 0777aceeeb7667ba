"""The gateway's staff directory (it owns the accounts), asked on loopback: the registry's `StaffDirectory`
(registry.app.staff says who may be assigned)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from btkernel.problems import Unavailable
from registry.app.staff import StaffDirectory, StaffMember

RETRY_AFTER_S = 5


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


def from_settings(gateway_url: str | None, env: str) -> StaffDirectory | None:
    """The gateway's directory; none outside production when no gateway is configured (a registry tested on its
    own assigns whom it is told). In production the check is never skipped."""
    if gateway_url:
        return GatewayStaffDirectory(gateway_url)
    if env == "production":
        raise ValueError("BT_GATEWAY_URL is required in production: executives are checked against the staff")
    return None
