"""The whole platform as processes on loopback: PostgreSQL, Kafka, the SMTP and SMS sinks and the five services."""

from __future__ import annotations

import importlib.util
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from btdeploy import internal_keys, partner_keys
from btdeploy import kafka as kafka_mod
from btdeploy.aio import run_sync
from btdeploy.kafka import KafkaServer
from btdeploy.kafka_access import service_principal
from btdeploy.kafka_cluster import KafkaCluster
from btdeploy.payment_gateway_standin import StandinProcess
from btdeploy.ports import free_ports
from btdeploy.postgres import ExternalPostgres, PostgresServer, postgres_from_env, redacted
from btdeploy.processes import MigrationProcess, ServiceProcess
from btdeploy.sms_sink import SmsSinkProcess
from btdeploy.smtp_sink import SmtpSink
from civreg.topics import ALL_TOPICS


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # BT_SERVICE_NAME, and the key everywhere in btdeploy
    app: str  # uvicorn's "<module>:<attribute>"
    database: str

    @property
    def module(self) -> str:
        return self.app.split(":", 1)[0]


# Start order; the gateway last because it fronts the others.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("intake", "intake.main:app", "bt_intake"),
    ServiceSpec("registry", "registry.main:app", "bt_registry"),
    ServiceSpec("notification", "notification.main:app", "bt_notification"),
    ServiceSpec("fee", "fees.main:app", "bt_fee"),
    ServiceSpec("gateway", "gateway.main:app", "bt_gateway"),
)
SERVICE_NAMES = tuple(spec.name for spec in SERVICES)
SMTP_FROM = "no-reply@birtereze.local"


@dataclass(frozen=True)
class PortPlan:
    gateway: int
    intake: int
    registry: int
    notification: int
    fee: int
    postgres: int
    kafka: int
    kafka_controller: int
    smtp: int
    sms: int
    payment_gateway: int

    @classmethod
    def fixed(cls) -> PortPlan:
        """The `make run` ports of docs/conventions.md."""
        return cls(
            gateway=8000,
            intake=8001,
            registry=8002,
            notification=8003,
            fee=8004,
            postgres=55432,
            kafka=19092,
            kafka_controller=19093,
            smtp=8025,
            sms=8026,
            payment_gateway=8027,
        )

    @classmethod
    def free(cls) -> PortPlan:
        """Free ports for tests, so a test run and `make run` never collide."""
        return cls(*free_ports(11))

    def service(self, name: str) -> int:
        port: int = getattr(self, name)
        return port


def missing_apps(names: Iterable[str] = SERVICE_NAMES) -> list[str]:
    """Services whose app module cannot be imported from here (not written or not installed yet)."""
    missing = []
    for spec in SERVICES:
        if spec.name not in names:
            continue
        try:
            found = importlib.util.find_spec(spec.module) is not None
        except ImportError:  # the parent package itself is missing
            found = False
        if not found:
            missing.append(f"{spec.name} ({spec.app})")
    return missing


class StartCancelled(Exception):
    pass


class Stack:
    """Starts everything in dependency order and stops, by pid, only what it started, in reverse order.

    PostgreSQL, Kafka and the SMTP sink may be passed in already running (the test fixtures share them);
    then the stack uses them and leaves them running on stop().
    """

    def __init__(
        self,
        run_dir: Path,
        ports: PortPlan,
        *,
        env_name: str = "development",
        fast: bool = False,
        services: Iterable[str] = SERVICE_NAMES,
        extra_env: Mapping[str, str] | None = None,
        postgres: PostgresServer | ExternalPostgres | None = None,
        kafka: KafkaServer | KafkaCluster | None = None,
        smtp: SmtpSink | None = None,
        progress: Callable[[str], None] | None = None,
        instances: Mapping[str, int] | None = None,
        database_suffix: str = "",
    ) -> None:
        self.run_dir = run_dir
        self.ports = ports
        self.env_name = env_name
        self.fast = fast
        self.service_names = tuple(n for n in SERVICE_NAMES if n in set(services))
        self.extra_env = dict(extra_env or {})
        self._progress = progress or (lambda _msg: None)
        self._own_postgres = postgres is None
        self._own_kafka = kafka is None
        self._own_smtp = smtp is None
        self.postgres = postgres or postgres_from_env(run_dir / "postgres", ports.postgres, fast)
        self.kafka: KafkaServer | KafkaCluster = kafka or KafkaServer(
            run_dir / "kafka", ports.kafka, ports.kafka_controller
        )
        # Processes per service: one each unless told (a test of two intake and registry instances behind the
        # gateway, ADR 0029); the first on the plan's port, the others on free ones.
        counts = dict(instances or {})
        self.instance_ports: dict[str, list[int]] = {
            name: [ports.service(name), *free_ports(counts.get(name, 1) - 1)] for name in self.service_names
        }
        self._instances: dict[str, list[ServiceProcess]] = {}
        # A second stack on the same PostgreSQL (the cluster test beside the session's) needs databases of its own:
        # two stacks' relays would otherwise take turns publishing one outbox to two brokers.
        self.database_suffix = database_suffix
        self.smtp = smtp or SmtpSink(ports.smtp, run_dir / "mail")
        # The SMS provider's stand-in, always the stack's own: its keys are this stack's, and its delivery reports
        # come back through the stack's gateway, the public route a real provider would use (ADR 0038).
        self.sms = SmsSinkProcess(
            run_dir / "sms",
            ports.sms,
            api_key=secrets.token_hex(16),
            callback_key=secrets.token_hex(32),
            callback_url=f"http://127.0.0.1:{ports.gateway}/sms-provider/reports",
        )
        # The e-government payment gateway's stand-in (ADR 0034), the stack's own like the SMS sink: its key is this
        # stack's, and its callbacks come back through the stack's gateway.
        self.payment_gateway = StandinProcess(
            run_dir / "payment-gateway", secrets.token_hex(32).encode(), ports.payment_gateway
        )
        self._services: dict[str, ServiceProcess] = {}
        # Set from another thread (a Ctrl-C during start) to give up at the next step instead of finishing.
        self.cancel = threading.Event()
        # What has been started, in order, as (name, stop function): stop() walks it backwards.
        self._started: list[tuple[str, Callable[[], None]]] = []
        self._public_key: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        missing = missing_apps(self.service_names)
        if missing:
            raise RuntimeError(
                "cannot start the stack: no app module for "
                + ", ".join(missing)
                + " — is the service written, and installed with `make install`?"
            )
        try:
            self._start_infrastructure()
            self._start_services()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        errors = []
        while self._started:
            name, stop = self._started.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the rest; report at the end
                errors.append(f"{name}: {exc!r}")
        if errors:
            raise RuntimeError("some parts did not stop cleanly: " + "; ".join(errors))

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- access ------------------------------------------------------------------------------------------

    def url(self, service: str) -> str:
        self._check_name(service)
        return f"http://127.0.0.1:{self.ports.service(service)}"

    def service(self, name: str) -> ServiceProcess:
        self._check_name(name)
        return self._services[name]

    def instances(self, name: str) -> list[ServiceProcess]:
        """Every process of service `name`, the first being `service(name)`."""
        self._check_name(name)
        return list(self._instances[name])

    def urls(self, service: str) -> list[str]:
        self._check_name(service)
        return [f"http://127.0.0.1:{port}" for port in self.instance_ports[service]]

    @property
    def services(self) -> dict[str, ServiceProcess]:
        return dict(self._services)

    def pids(self) -> dict[str, list[int]]:
        """The running processes by part, for `make bench`'s CPU and memory per process (issue 13): every instance
        of each service, each Kafka JVM, and PostgreSQL's postmaster (its backends are its children); a part not
        started here as a process (an external PostgreSQL) is absent."""
        found: dict[str, list[int]] = {
            name: [p.pid for p in self._instances.get(name, []) if p.pid is not None and p.running]
            for name in self.service_names
        }
        brokers = self.kafka.nodes if isinstance(self.kafka, KafkaCluster) else [self.kafka]
        found["kafka"] = [pid for broker in brokers if (pid := broker.pid) is not None]
        if isinstance(self.postgres, PostgresServer) and self.postgres.pid is not None:
            found["postgres"] = [self.postgres.pid]
        return {name: pids for name, pids in found.items() if pids}

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    def database_url(self, service: str) -> str:
        """As the service's own role, which may use its database and nothing else, and cannot change its history
        (ADR 0022, 0030)."""
        return self.postgres.dsn(self.database_name(service))

    def database_name(self, service: str) -> str:
        return _spec(service).database + self.database_suffix

    def owner_database_url(self, service: str) -> str:
        """As the role that owns the service's database and runs its migrations (ADR 0030)."""
        return self.postgres.owner_dsn(self.database_name(service))

    def env_for(self, service: str, *, instance: int = 0, **overrides: str) -> dict[str, str]:
        """The BT_* variables `service` (its `instance`-th process) runs with; also right for an extra process of
        it (e.g. its relay)."""
        spec = _spec(service)
        env = {
            "BT_ENV": self.env_name,
            "BT_SERVICE_NAME": spec.name,
            "BT_DATABASE_URL": self.postgres.dsn(self.database_name(spec.name)),
            "BT_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            # Its own SCRAM principal, with only the ACLs of btdeploy.kafka_access (ADR 0023).
            "BT_KAFKA_USERNAME": service_principal(spec.name),
            "BT_KAFKA_PASSWORD": self.kafka.password_of(service_principal(spec.name)),
            "BT_HTTP_PORT": str(self.instance_ports[spec.name][instance]),
            "BT_RELAY_ENABLED": "true",
            "BT_CONSUMERS_ENABLED": "true",
            # Migrations are the pre-start step's (`_migrate`), run once; the service only verifies its schema.
            "BT_MIGRATE_ON_START": "false",
            "BT_LOG_LEVEL": os.environ.get("BT_LOG_LEVEL", "INFO"),
            # The gateway signs each request's internal token; every service (the gateway too, for its staff
            # directory) verifies it with this public key (btkernel.internal_token).
            "BT_INTERNAL_TOKEN_PUBLIC_KEY": self._internal_token_public_key(),
            # Its spans as JSON lines, for a developer to look at and the tracing test to read (ADR 0028).
            "BT_TRACE_FILE": str(self.trace_file(spec.name)),
        }
        if spec.name != "gateway":
            # Each service seals its history with the platform's key, published as the partners' JWKS (ADR 0030).
            env["BT_PARTNER_SIGNING_KEY_FILE"] = str(partner_keys.signing_key_file(self.run_dir))
            if self.env_name == "test":
                # The tests see a seal and a broken chain within seconds, not minutes.
                env |= {"BT_SEAL_INTERVAL_S": "2", "BT_VERIFY_INTERVAL_S": "2"}
        if spec.name == "gateway":
            # Only set when given: otherwise the gateway's own development default applies.
            if secret := os.environ.get("BT_JWT_SECRET"):
                env["BT_JWT_SECRET"] = secret
            env["BT_INTERNAL_TOKEN_KEY_FILE"] = str(internal_keys.ensure_key_file(self.run_dir))
            # Served as the JWKS partners verify with (/.well-known/bt-partner-keys.json).
            env["BT_PARTNER_PUBLIC_KEYS_FILE"] = str(partner_keys.public_keys_file(self.run_dir))
            for upstream in ("intake", "registry", "notification", "fee"):
                # Every instance, comma-separated: the gateway spreads over them (gateway.balancer).
                env[f"BT_{upstream.upper()}_URL"] = ",".join(self.urls(upstream))
        if spec.name == "intake":
            # The QR on printed documents leads to the gateway's public /verify/{code} (ADR 0033).
            env["BT_PUBLIC_URL"] = f"http://127.0.0.1:{self.ports.service('gateway')}"
        if spec.name == "registry":
            # The staff directory: only an active executive of the office may be assigned (gateway.staff).
            env["BT_GATEWAY_URL"] = f"http://127.0.0.1:{self.ports.service('gateway')}"
            # The partner publisher signs every partner event with the platform's key (btdeploy.partner_keys).
            env["BT_PARTNER_SIGNING_KEY_FILE"] = str(partner_keys.signing_key_file(self.run_dir))
        if spec.name == "notification":
            env |= {
                "BT_SMTP_HOST": self.smtp.host,
                "BT_SMTP_PORT": str(self.smtp.port),
                "BT_SMTP_FROM": SMTP_FROM,
                "BT_SMS_PROVIDER_URL": self.sms.url,
                "BT_SMS_API_KEY": self.sms.api_key,
                "BT_SMS_CALLBACK_KEY": self.sms.callback_key,
            }
        if spec.name == "fee":
            env |= {
                "BT_PAYMENT_GATEWAY_URL": self.payment_gateway.url,
                "BT_PAYMENT_GATEWAY_SECRET": self.payment_gateway.key.decode(),
                # Public on the platform's gateway, which relays the signed body to the fee service.
                "BT_PAYMENT_CALLBACK_URL": f"{self._gateway_url()}/payment-gateway/callback",
            }
        env |= self.extra_env
        env |= overrides
        return env

    def _gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.service('gateway')}"

    def trace_file(self, service: str) -> Path:
        """Where `service`'s processes append their spans (btkernel.tracing), next to its log."""
        return self.run_dir / "logs" / f"{_spec(service).name}.traces.jsonl"

    def summary(self) -> dict[str, Any]:
        return {
            "gateway": self.url("gateway") if "gateway" in self.service_names else None,
            "services": {name: self.url(name) for name in self.service_names},
            "kafka": self.kafka.bootstrap,
            # The administrator, without the password: that stays in its file (ADR 0022).
            "postgres": redacted(self.postgres.admin_dsn()),
            "smtp": f"{self.smtp.host}:{self.smtp.port}",
            "mail_dir": self.smtp.directory,
            "sms": self.sms.url,
            "sms_dir": self.sms.workdir,
            "payment_gateway": self.payment_gateway.url,
            "logs": self.run_dir / "logs",
        }

    # -- internals ---------------------------------------------------------------------------------------

    def _internal_token_public_key(self) -> str:
        if self._public_key is None:
            self._public_key = internal_keys.public_key_pem(internal_keys.ensure_key_file(self.run_dir))
        return self._public_key

    def _step(self, message: str | None = None) -> None:
        if self.cancel.is_set():
            raise StartCancelled("start of the stack cancelled")
        if message:
            self._progress(message)

    def _start_infrastructure(self) -> None:
        if self._own_kafka:
            kafka_mod.fetch()
            self._step(f"starting Kafka on {self.kafka.bootstrap}")
            # The JVM warms up while PostgreSQL starts.
            self.kafka.launch()
            self._started.append(("kafka", self.kafka.stop))
        if self._own_postgres:
            self._step(
                "starting PostgreSQL"
                if isinstance(self.postgres, PostgresServer)
                else "using PostgreSQL from DATABASE_URL"
            )
            self._started.append(("postgres", self.postgres.stop))
            self.postgres.start()
        # Each service's database with its own login role; the migrations below run as that role too.
        for name in self.service_names:
            run_sync(self.postgres.create_database(self.database_name(name)))
        if self._own_kafka:
            self._step()
            self.kafka.wait_ready()
        # As the administrator: topics with their configs, each service's principal and ACLs (ADR 0023).
        self.kafka.provision(ALL_TOPICS)
        if self._own_smtp:
            self._step(f"starting the SMTP sink on {self.smtp.host}:{self.smtp.port}")
            self.smtp.start()
            self._started.append(("smtp", self.smtp.stop))
        self._step(f"starting the SMS sink on {self.sms.url}")
        self.sms.start()
        self._started.append(("sms", self.sms.stop))
        self._step(f"starting the payment gateway stand-in on {self.payment_gateway.url}")
        self.payment_gateway.start()
        self._started.append(("payment-gateway", self.payment_gateway.stop))

    def _migrate(self) -> None:
        """Every service's migrations, before any service starts: one `python -m btkernel.migrate` per database,
        the five in parallel (each imports its app to learn its migration packages)."""
        log_dir = self.run_dir / "logs"
        self._step("applying migrations")
        steps = [
            MigrationProcess(
                name,
                _spec(name).app,
                # As the database's owner: the service's own role may not change the schema (ADR 0030).
                self.env_for(name, BT_DATABASE_URL=self.owner_database_url(name)),
                log_dir / f"{name}.log",
            )
            for name in self.service_names
        ]
        try:
            for step in steps:
                step.start()
            for step in steps:
                step.finish()
        finally:
            for step in steps:
                step.stop()  # only those still running: after a failure or a cancel

    def _start_services(self) -> None:
        self._migrate()
        log_dir = self.run_dir / "logs"
        for name in self.service_names:
            spec = _spec(name)
            self._instances[name] = []
            for i, port in enumerate(self.instance_ports[name]):
                label = name if i == 0 else f"{name}-{i + 1}"
                process = ServiceProcess(
                    label, spec.app, port, self.env_for(name, instance=i), log_dir / f"{label}.log"
                )
                self._instances[name].append(process)
                self._step(f"starting {label} on {process.url}")
                process.start()
                self._started.append((label, process.stop))
            self._services[name] = self._instances[name][0]
        # Started together, waited for together: the interpreters import in parallel.
        started = time.monotonic()
        for name in self.service_names:
            for process in self._instances[name]:
                self._step()
                process.wait_ready(timeout=max(5.0, 90.0 - (time.monotonic() - started)))

    def _check_name(self, name: str) -> None:
        if name not in self.service_names:
            raise KeyError(f"no service {name!r} in this stack (has {', '.join(self.service_names)})")


def _spec(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICE_NAMES)}")
