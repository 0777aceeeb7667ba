"""Settings of the notification service: the kernel's plus SMTP and the delivery worker's retry policy."""

from __future__ import annotations

from pydantic import Field, model_validator

from btkernel.settings import ServiceSettings

# Development placeholders of the SMS provider's keys (ADR 0038): published here, so refused in production.
DEV_SMS_API_KEY = "dev-sms-api-key"
DEV_SMS_CALLBACK_KEY = "dev-sms-callback-key"


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_from: str = "no-reply@birtereze.local"
    smtp_timeout_s: float = 15.0
    delivery_enabled: bool = Field(True, description="false when a test drives the delivery worker itself")
    delivery_max_attempts: int = Field(5, ge=1)
    # Backoff between attempts: base * 2^(attempt-1), capped.
    delivery_backoff_s: float = Field(5.0, ge=0)
    delivery_backoff_max_s: float = Field(600.0, ge=0)
    delivery_poll_interval_s: float = Field(1.0, gt=0)
    delivery_batch_size: int = Field(20, ge=1)
    # How long a claimed row stays with the worker that claimed it; after that a worker that died mid-send has
    # its row picked up again. Must exceed the longest send (the SMTP timeout and then some).
    delivery_lease_s: float = Field(120.0, gt=0)
    # The SMS provider (ADR 0038): its base URL (unset: an SMS fails its attempts saying no provider is set), the
    # API key our requests carry, the key its delivery reports to /sms-provider/reports are signed with, and the
    # registered sender name.
    sms_provider_url: str = ""
    sms_api_key: str = DEV_SMS_API_KEY
    sms_callback_key: str = DEV_SMS_CALLBACK_KEY
    sms_sender: str = Field("BirTereze", min_length=1, max_length=11)
    sms_timeout_s: float = Field(10.0, gt=0)
    # An SMS whose delivery report has not come (ADR 0038, "Lost reports"): asked about this long after it was
    # handed over, then after pauses doubling up to the maximum, and failed as "outcome unknown" after the last
    # bound (longer than the provider's message lifetime, 24 h at most); how often the check runs.
    sms_status_after_s: float = Field(900.0, gt=0)
    sms_status_max_interval_s: float = Field(3 * 3600.0, gt=0)
    sms_status_give_up_after_s: float = Field(48 * 3600.0, gt=0)
    sms_status_poll_interval_s: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _real_sms_keys_in_production(self) -> NotificationSettings:
        # Without a provider URL no SMS is sent: a production deployment may run without SMS (then no report is
        # believed either, see `sms_report_key`).
        if (
            self.env == "production"
            and self.sms_provider_url
            and (
                self.sms_api_key in ("", DEV_SMS_API_KEY)
                or self.sms_callback_key in ("", DEV_SMS_CALLBACK_KEY)
            )
        ):
            raise ValueError(
                "BT_SMS_API_KEY and BT_SMS_CALLBACK_KEY must be this deployment's own keys in production "
                "(the development placeholders are published)"
            )
        return self

    @property
    def sms_report_key(self) -> bytes:
        """The key delivery reports must be signed with; empty (every report refused) for the published
        placeholder in production."""
        if self.env == "production" and self.sms_callback_key == DEV_SMS_CALLBACK_KEY:
            return b""
        return self.sms_callback_key.encode()
