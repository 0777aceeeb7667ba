"""Settings of the intake service (BT_* environment variables)."""

from btkernel.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    # Published at once, never gathered: an application's event opens its case in the registry (issue 13's P2).
    relay_round_interval_s: float = 0.0
    # The monthly return of uncollected results (S004 p.9); hourly is plenty for a one-month term.
    storage_sweep_enabled: bool = True
    storage_sweep_interval_s: float = 3600.0
