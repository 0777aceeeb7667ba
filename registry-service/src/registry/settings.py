"""Settings of the registry service (BT_* environment variables)."""

from btkernel.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    # The durable scheduler of deadline events; every instance may run one (emission is exactly once anyway).
    scheduler_enabled: bool = True
    scheduler_interval_s: float = 5.0
    # The gateway, whose staff directory says who may be assigned as an executive (registry.adapters.staff).
    gateway_url: str | None = None
