"""Typed settings of a service process, read from BT_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BT_", extra="ignore")

    env: str = "development"  # development | test | production
    service_name: str = "service"
    database_url: str = "postgresql://postgres@127.0.0.1:55432/bt_service"
    kafka_bootstrap: str = "127.0.0.1:19092"
    http_port: int = 8000
    relay_enabled: bool = True
    consumers_enabled: bool = True
    log_level: str = "INFO"
    # How many times a consumer retries one event before it dead-letters it.
    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 0.5
    db_pool_max: int = 10
    # End-to-end tests of month-long terms only (btkernel.clock); refused in production.
    clock_offset_s: float = 0.0

    @model_validator(mode="after")
    def _no_shifted_clock_in_production(self) -> ServiceSettings:
        if self.env == "production" and self.clock_offset_s:
            raise ValueError("BT_CLOCK_OFFSET_S is for tests; a production service runs on real time")
        return self


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_s: int = 8 * 3600
    intake_url: str = "http://127.0.0.1:8001"
    registry_url: str = "http://127.0.0.1:8002"
    notification_url: str = "http://127.0.0.1:8003"
    fee_url: str = "http://127.0.0.1:8004"
    upstream_timeout_s: float = 15.0

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> GatewaySettings:
        # A development secret in production would let anyone mint tokens.
        if self.env == "production" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("BT_JWT_SECRET must be set to a real secret in production")
        return self
