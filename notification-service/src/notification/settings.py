"""Settings of the notification service: the kernel's plus SMTP and the delivery worker's retry policy."""

from __future__ import annotations

from pydantic import Field

from btkernel.settings import ServiceSettings


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
