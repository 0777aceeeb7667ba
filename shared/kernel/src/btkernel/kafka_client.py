"""How every Kafka client of a service reaches and logs in to the broker: SASL/SCRAM-SHA-512, always.

The broker refuses anonymous clients and authorises each principal by ACLs (docs/adr/0023-kafka-principals-and-acls.md),
so there is no development shortcut here: a service without BT_KAFKA_USERNAME/BT_KAFKA_PASSWORD cannot connect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka.helpers import create_ssl_context

from btkernel.settings import ServiceSettings

# Keyword arguments every aiokafka client (producer, consumer, admin) takes: bootstrap and login.
KafkaOptions = Mapping[str, Any]

SECURITY_PROTOCOL = "SASL_PLAINTEXT"
SASL_MECHANISM = "SCRAM-SHA-512"


def sasl_options(bootstrap: str, username: str, password: str) -> dict[str, Any]:
    """The options for a client logging in as `username` (a service, the administrator, a test's principal)."""
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": SECURITY_PROTOCOL,
        "sasl_mechanism": SASL_MECHANISM,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """The options of this service's own principal (BT_KAFKA_BOOTSTRAP, BT_KAFKA_USERNAME, BT_KAFKA_PASSWORD), over
    TLS when BT_KAFKA_SECURITY_PROTOCOL is SASL_SSL (BT_KAFKA_SSL_CAFILE: the CA to trust)."""
    options = sasl_options(
        settings.kafka_bootstrap, settings.kafka_username, settings.kafka_password.get_secret_value()
    )
    if settings.kafka_security_protocol == "SASL_SSL":
        options["security_protocol"] = "SASL_SSL"
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
    return options
