"""Settings of the registry service (BT_* environment variables)."""

from btkernel.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    # The durable scheduler of deadline events; every instance may run one (emission is exactly once anyway).
    scheduler_enabled: bool = True
    scheduler_interval_s: float = 5.0
    # The gateway, whose staff directory says who may be assigned as an executive (registry.adapters.staff).
    gateway_url: str | None = None
    # The partner publisher (registry.app.partner_feed): one feed per agency contract, in this process, whenever
    # consumers run. It signs with this Ed25519 private key (PEM file, btkernel.signing); without one it does not
    # run (development, test: /health says degraded; production: the service does not start).
    partners_enabled: bool = True
    partner_signing_key_file: str = ""
    # How soon a running feed sees an operator's `python -m registry.partners republish <agency>`.
    partner_request_poll_s: float = 2.0
