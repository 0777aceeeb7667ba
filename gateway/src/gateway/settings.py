"""The gateway's settings: the kernel's ServiceSettings plus the token secret, the upstream services' URLs, the
login brute-force guard and the upstream timeouts. They live here, not in the kernel, because only the gateway
knows which services sit behind it (issue 8)."""

from __future__ import annotations

from pydantic import model_validator

from btkernel.settings import ServiceSettings

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(ServiceSettings):
    service_name: str = "gateway"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_s: int = 8 * 3600
    intake_url: str = "http://127.0.0.1:8001"
    registry_url: str = "http://127.0.0.1:8002"
    notification_url: str = "http://127.0.0.1:8003"
    fee_url: str = "http://127.0.0.1:8004"
    upstream_timeout_s: float = 15.0
    # The gateway's own budget is the upstream timeout (its proxy answers 504 then), not the services' budget.
    request_timeout_s: float = 0.0
    # Failed sign-ins allowed per user name within the window before the token endpoint answers 429.
    login_max_failures: int = 10
    login_window_s: float = 60.0
    # Health probes and OpenAPI fetches must not hang a readiness check for the full proxy timeout.
    upstream_probe_timeout_s: float = 3.0
    # How long an idle pooled connection to a service is kept: well under the services' keep-alive timeout
    # (btkernel.serve: 30 s), so the gateway drops it before the service can close it under a request
    # (gateway.upstream).
    upstream_keepalive_s: float = 5.0

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        # A development secret in production would let anyone mint tokens.
        if self.env == "production" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("BT_JWT_SECRET must be set to a real secret in production")
        return self

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
