"""Settings of the intake service (BT_* environment variables)."""

from btkernel.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    # An application's event opens its case in the registry (issue 13's P2), so it is published at once, unless
    # intake commits 20 or more submissions a second: then the commits of a tenth of a second share one round.
    relay_round_interval_s: float = 0.1
    relay_busy_commits_per_s: int = 20
    # The monthly return of uncollected results (S004 p.9); hourly is plenty for a one-month term.
    storage_sweep_enabled: bool = True
    storage_sweep_interval_s: float = 3600.0
