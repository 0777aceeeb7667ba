"""Typed settings of a service process, read from BT_* environment variables (pydantic-settings).

What every service shares; a service's own settings (the gateway's upstream URLs and token secret) subclass
these in the service (`gateway.settings`): the kernel knows no service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Every value BT_ENV may take. There is no "staging": a staging deployment is a production deployment (real
# secrets, no development accounts) on other machines, so it runs as production; an unknown value (`prod`,
# `staging`, a typo) stops the start instead of silently getting development shortcuts (issue 9).
ENVIRONMENTS = ("development", "test", "production")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BT_", extra="ignore")

    env: str = "development"  # one of ENVIRONMENTS
    service_name: str = "service"
    # The service's own login role and database, never a superuser (ADR 0022); btdeploy gives the password.
    database_url: str = "postgresql://bt_service@127.0.0.1:55432/bt_service"
    kafka_bootstrap: str = "127.0.0.1:19092"
    # The service's own SCRAM principal (`bt-<service>`), least-privilege ACLs on the broker (ADR 0023).
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    # SASL_PLAINTEXT on loopback (make run, tests); SASL_SSL where the broker is on other machines (deploy/k8s), with
    # the CA that signed the broker's certificate (empty: the system's trust store).
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    kafka_ssl_cafile: str = ""
    http_port: int = 8000
    relay_enabled: bool = True
    consumers_enabled: bool = True
    log_level: str = "INFO"
    # How many times a consumer retries one event before it dead-letters it.
    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    # How long the broker holds a consumer's fetch when there is nothing new (a long poll: a record that arrives
    # is answered at once, so this costs no latency). Kafka's 500 ms default makes every idle consumer ask twice a
    # second: with ~15 consumer groups per platform that was most of an idle broker's CPU (issue 13). A rebalance's
    # new partitions may wait up to this long for their first fetch.
    consumer_fetch_max_wait_ms: int = 2000
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 0.5
    # While commits keep coming, the relay starts a round at most this often (`OutboxRelay`): a round is a Kafka
    # transaction, which costs the broker ~4 ms of CPU however few its records, so a busy relay gathers the commits
    # of an interval into one; after a quiet interval the next row goes at once.
    relay_round_interval_s: float = Field(0.25, ge=0, le=10)
    # ... and only while at least this many commits a second come (`outbox.CommitRate`; 0: whenever a round
    # published). Intake sets a rate: its events open the registry's cases, the way a submission takes (issue 13's
    # P2), so only a busy counter's commits wait.
    relay_busy_commits_per_s: int = Field(0, ge=0, le=10_000)
    # Published outbox rows older than this are deleted by the relay (`btkernel.outbox_retention`, ADR 0044); the
    # event store keeps every event for good. 0 keeps them too.
    outbox_retention_days: int = Field(30, ge=0, le=3650)
    # The largest event (key + value + headers) the outbox accepts: below Kafka's default message.max.bytes
    # (1 MiB) with room for the record batch's own overhead, so whatever is committed can be published (ADR 0009).
    max_event_bytes: int = 900_000
    # A row whose publication fails with an error that is neither transient nor the record's fault is parked
    # after this many attempts; transient errors (broker away) are retried for ever.
    relay_max_attempts: int = 10
    # /health turns "degraded" when the oldest unpublished outbox row is older than this.
    health_outbox_max_age_s: float = 60.0
    # ... when a consumer group's lag grew across this many consecutive samples, taken this often.
    health_lag_samples: int = 5
    health_sample_interval_s: float = 10.0
    # Kafka offsets (dead letters, lag) are read at most this often per process, however often /health is asked.
    health_kafka_cache_s: float = 5.0
    # Bound on each probe (database, Kafka) so /health answers even when a dependency hangs.
    health_probe_timeout_s: float = 2.0
    db_pool_max: int = 10
    # Whether the service applies its migrations at start (BT_MIGRATE_ON_START). Unset: only in development and
    # test, where in-process fixtures build apps on fresh databases; a deployed service only verifies its schema,
    # and `python -m btkernel.migrate` runs once before it (ADR 0015).
    migrate_on_start: bool | None = None
    # End-to-end tests of month-long terms only (btkernel.clock); refused in production.
    clock_offset_s: float = 0.0
    # The largest request body accepted (btkernel.limits); bigger ones get 413 before they are read.
    max_body_bytes: int = 256 * 1024
    # A request's time budget in the service (btkernel.budget): shorter than the gateway's upstream timeout (15 s),
    # so a caller that sees a failure never finds the work done anyway. 0 turns it off.
    request_timeout_s: float = 10.0
    # The gateway's public key(s) that sign internal tokens (btkernel.internal_token): PEM text or a file's path,
    # several PEM blocks during a key rollover. Unset, this service authenticates nobody; in production it does
    # not start.
    internal_token_public_key: str = ""
    # The tamper-evident history (btkernel.history, ADR 0030): the chain's head is sealed this often (and at
    # shutdown) with the platform's signing key, when the key file is given; the whole history is verified this
    # often for /health. 0 turns either off.
    partner_signing_key_file: str = ""
    seal_interval_s: float = 60.0
    verify_interval_s: float = 300.0
    # Traces (btkernel.tracing, ADR 0028): OTLP/HTTP to a collector's base URL (production), or JSON lines
    # appended to a file (tests, `make run`); neither set, no spans at all.
    otel_exporter_otlp_endpoint: str = ""
    trace_file: str = ""

    @property
    def migrates_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.env in ("development", "test")

    @field_validator("env")
    @classmethod
    def _known_env(cls, value: str) -> str:
        if value not in ENVIRONMENTS:
            raise ValueError(
                f"BT_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r} "
                "(a staging deployment runs as production)"
            )
        return value

    @model_validator(mode="after")
    def _no_shifted_clock_in_production(self) -> ServiceSettings:
        if self.env == "production" and self.clock_offset_s:
            raise ValueError("BT_CLOCK_OFFSET_S is for tests; a production service runs on real time")
        return self
