"""The services' Kafka login over TLS where the broker is on other machines (deploy/k8s), plain SASL on loopback."""

from __future__ import annotations

import ssl

from btkernel.kafka_client import client_options
from btkernel.settings import ServiceSettings


def test_loopback_is_sasl_without_tls() -> None:
    options = client_options(ServiceSettings(kafka_username="bt-fee", kafka_password="pw"))
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in options
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("SCRAM-SHA-512", "bt-fee")


def test_sasl_ssl_verifies_the_broker_certificate() -> None:
    options = client_options(
        ServiceSettings(kafka_username="bt-fee", kafka_password="pw", kafka_security_protocol="SASL_SSL")
    )
    assert options["security_protocol"] == "SASL_SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
