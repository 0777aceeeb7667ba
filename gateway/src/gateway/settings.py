"""The gateway's settings: the kernel's GatewaySettings plus the login brute-force guard."""

from __future__ import annotations

from btkernel.settings import GatewaySettings


class Settings(GatewaySettings):
    # Failed sign-ins allowed per user name within the window before the token endpoint answers 429.
    login_max_failures: int = 10
    login_window_s: float = 60.0
    # Health probes and OpenAPI fetches must not hang a readiness check for the full proxy timeout.
    upstream_probe_timeout_s: float = 3.0
    # How long an idle pooled connection to a service is kept: well under the services' keep-alive timeout
    # (btkernel.serve: 30 s), so the gateway drops it before the service can close it under a request
    # (gateway.upstream).
    upstream_keepalive_s: float = 5.0

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of every upstream service, by the service name the route table uses."""
        return {
            "intake": self.intake_url,
            "registry": self.registry_url,
            "notification": self.notification_url,
            "fee": self.fee_url,
        }


def load() -> Settings:
    """Settings from BT_* variables; the gateway writes no events and consumes none, so relay and consumers are
    always off whatever the environment says."""
    return Settings(relay_enabled=False, consumers_enabled=False)
