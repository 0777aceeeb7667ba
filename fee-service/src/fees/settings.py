"""Settings of the fee service: the kernel's, under the service's own name."""

from __future__ import annotations

from btkernel.settings import ServiceSettings


class FeeSettings(ServiceSettings):
    service_name: str = "fee"
