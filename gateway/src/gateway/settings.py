"""The gateway's settings: the kernel's ServiceSettings plus the token secret, the upstream services' URLs, the
sign-in guard and the upstream timeouts. They live here, not in the kernel, because only the gateway
knows which services sit behind it (issue 8)."""

from __future__ import annotations

from pydantic import model_validator

from btkernel.settings import ServiceSettings
from gateway import partners
from gateway.balancer import split_urls

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
# HS256 needs a key at least as long as its hash output, 256 bits (RFC 7518 §3.2): a shorter one can be guessed.
MIN_SECRET_BYTES = 32
# The environments where the development shortcuts (the placeholder secret, the seeded development accounts with
# their published passwords) are allowed — and only when BT_ENV names one of them explicitly (ADR 0021).
DEVELOPMENT_ENVS = frozenset({"development", "test"})


class Settings(ServiceSettings):
    service_name: str = "gateway"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_s: int = 8 * 3600
    # Each may list several instances of the service, comma-separated (gateway.balancer).
    intake_url: str = "http://127.0.0.1:8001"
    registry_url: str = "http://127.0.0.1:8002"
    notification_url: str = "http://127.0.0.1:8003"
    fee_url: str = "http://127.0.0.1:8004"
    upstream_timeout_s: float = 15.0
    # The gateway's own budget is the upstream timeout (its proxy answers 504 then), not the services' budget.
    request_timeout_s: float = 0.0
    # The sign-in guard (gateway.ratelimit, ADR 0021): failed sign-ins allowed within the window for one user name
    # from one client address, and from one client address whatever the names, before the token endpoint
    # answers 429 to that pair or that address.
    login_max_failures: int = 10
    login_address_max_failures: int = 20
    login_window_s: float = 60.0
    # How long an account's state (active, role, site) read for a bearer token is reused: a deactivated account's
    # tokens are refused at most this long after the change (gateway.users.AccountCache).
    account_cache_s: float = 2.0
    # Health probes and OpenAPI fetches must not hang a readiness check for the full proxy timeout.
    upstream_probe_timeout_s: float = 3.0
    # How long an idle pooled connection to a service is kept: well under the services' keep-alive timeout
    # (btkernel.serve: 30 s), so the gateway drops it before the service can close it under a request
    # (gateway.upstream).
    upstream_keepalive_s: float = 5.0
    # The Ed25519 private key (PEM, PKCS#8) that signs the internal token of every relayed request
    # (btkernel.internal_token, gateway.vouch). Unset: a key of this process only, which no service trusts —
    # refused in production.
    internal_token_key_file: str = ""
    # The partner signing keys' public halves (one or more Ed25519 public key PEMs, concatenated), published as a
    # JWKS at /.well-known/bt-partner-keys.json (gateway.partners). Unset or missing: an empty set — refused in
    # production.
    partner_public_keys_file: str = ""
    # The browser assets the desk and /docs serve (`make desk-assets`: gateway/assets/node_modules). Unset: that
    # folder of this checkout (gateway.desk.serve.default_vendor_dir).
    desk_assets_dir: str = ""

    @model_validator(mode="after")
    def _a_real_secret(self) -> Settings:
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"BT_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)")
        # The placeholder is published in this repository: with it anyone could mint tokens.
        if self.env not in DEVELOPMENT_ENVS and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError(f"BT_JWT_SECRET must be set to a real secret when BT_ENV={self.env}")
        return self

    @property
    def development_shortcuts(self) -> bool:
        """Whether the development accounts are seeded and may sign in: only when BT_ENV says development or
        test itself, never because it was left unset."""
        return self.env in DEVELOPMENT_ENVS and "env" in self.model_fields_set

    def check_start(self) -> None:
        """Refuse to start a gateway that would have to guess its environment. Checked at start, not when the
        settings are read, so that importing the app (the migration step reads its migrations that way) needs
        no environment."""
        if "env" not in self.model_fields_set:
            raise ValueError(
                "BT_ENV is not set: set it to development, test or production (the gateway does not guess "
                "whether the development accounts and secret are allowed)"
            )
        if self.env not in DEVELOPMENT_ENVS and not self.internal_token_key_file:
            raise ValueError(
                f"BT_INTERNAL_TOKEN_KEY_FILE is not set: with BT_ENV={self.env} the gateway must sign the "
                "services' internal tokens with its real key"
            )
        if self.env not in DEVELOPMENT_ENVS:
            # Unset, unreadable or without an Ed25519 key: partners could verify no event, so do not start.
            if not self.partner_public_keys_file:
                raise ValueError(
                    f"BT_PARTNER_PUBLIC_KEYS_FILE is not set: with BT_ENV={self.env} it is required"
                )
            partners.load_public_keys(self.partner_public_keys_file)

    def upstream_instances(self) -> dict[str, tuple[str, ...]]:
        """Base URLs of every upstream service's instances (a `BT_<SERVICE>_URL` may list several, comma-separated;
        gateway.balancer), by the service name the route table uses."""
        return {name: split_urls(value) for name, value in self.upstream_urls().items()}

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of every upstream service, as configured, by the service name the route table uses."""
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
