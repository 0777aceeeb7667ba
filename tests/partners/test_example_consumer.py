"""The example consumer's own checks (docs/partners/example-consumer/consumer.py, loaded from its file: it imports
nothing of ours): an event signed with btkernel.signing passes, an altered one, one signed by a stranger and one
whose data the AsyncAPI document does not allow are refused, a repeated id is dropped."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import signing
from civreg.partners import asyncapi

CONSUMER = Path(__file__).resolve().parents[2] / "docs" / "partners" / "example-consumer" / "consumer.py"
TOPIC = "partner.kz-social-fund"


@pytest.fixture(scope="module")
def consumer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bt_example_consumer", CONSUMER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _event(key: Ed25519PrivateKey, **data: Any) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": "0b8f2f55-0c47-5a55-9c38-2f2d1f3a1b01",
        "source": "/bir-tereze/registry",
        "type": "kz.civreg.partner.death-registered.v1",
        "subject": "r-1",
        "time": "2026-03-02T09:30:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:birtereze:partner:kz-social-fund:death-registered.v1",
        "data": {"record_id": "r-1", "subject": {"iin": "900101400017", "surname": "Жұмабаева"}, **data},
    }
    return signing.sign(event, key)


def _checker(consumer: ModuleType, key: Ed25519PrivateKey) -> Any:
    # The document as a partner gets it: the JSON the gateway serves.
    document = json.loads(asyncapi.to_json(asyncapi.generate()))
    jwks = json.loads(json.dumps(signing.jwks([key.public_key()])))
    return consumer.Checker(
        schemas=consumer.data_schemas(document, TOPIC), fetch_keys=lambda: consumer.keys_from_jwks(jwks)
    )


def _raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def test_the_consumer_imports_none_of_our_packages() -> None:
    source = CONSUMER.read_text(encoding="utf-8")
    for ours in ("btkernel", "civreg", "btdeploy", "gateway"):
        assert f"import {ours}" not in source
        assert f"from {ours}" not in source


def test_a_signed_event_passes_and_an_altered_one_is_refused(
    consumer: ModuleType, key: Ed25519PrivateKey
) -> None:
    checker = _checker(consumer, key)
    event = _event(key, died_on="2026-02-28")

    assert checker.check(_raw(event)) == event

    altered = copy.deepcopy(event)
    altered["data"]["died_on"] = "2026-01-28"
    altered["id"] = "another-id"  # not a duplicate: refused for its signature
    with pytest.raises(consumer.Refused, match="signature does not match"):
        checker.check(_raw(altered))
    # The consumer's verification agrees with the platform's, both ways.
    keys = consumer.keys_from_jwks(signing.jwks([key.public_key()]))
    consumer.verify_signature(event, keys)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(altered, {signing.key_id(key.public_key()): key.public_key()})


def test_a_strangers_signature_and_an_unsigned_event_are_refused(
    consumer: ModuleType, key: Ed25519PrivateKey
) -> None:
    checker = _checker(consumer, key)
    with pytest.raises(consumer.Refused, match="unknown key"):
        checker.check(_raw(_event(Ed25519PrivateKey.generate())))
    unsigned = _event(key)
    del unsigned["btsignature"]
    with pytest.raises(consumer.Refused, match="not signed"):
        checker.check(_raw(unsigned))


def test_data_outside_the_agencys_schema_is_refused(consumer: ModuleType, key: Ed25519PrivateKey) -> None:
    checker = _checker(consumer, key)
    # Correctly signed, but the social fund's contract grants no place of death.
    with pytest.raises(consumer.Refused, match="schema"):
        checker.check(_raw(_event(key, death_place="Алматы")))
    other_type = _event(key) | {"type": "kz.civreg.partner.marriage-registered.v1"}
    with pytest.raises(consumer.Refused, match="not in the AsyncAPI document"):
        checker.check(_raw(signing.sign(other_type, key)))


def test_a_repeated_event_id_is_dropped(consumer: ModuleType, key: Ed25519PrivateKey) -> None:
    checker = _checker(consumer, key)
    event = _event(key)
    assert checker.check(_raw(event)) is not None
    assert checker.check(_raw(event)) is None


def test_settings_from_the_onboarding_output_and_the_environment(
    consumer: ModuleType, tmp_path: Path
) -> None:
    onboarding = {
        "agency": "kz-social-fund",
        "bootstrap": "127.0.0.1:19092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "username": "partner-kz-social-fund",
        "password": "from-the-file",
        "topic": TOPIC,
        "group_prefix": "partner.kz-social-fund.",
        "signing_keys_url": "http://127.0.0.1:8000/.well-known/bt-partner-keys.json",
    }
    file = tmp_path / "onboarding.json"
    file.write_text(json.dumps(onboarding))

    settings = consumer.load_settings(str(file), {"PARTNER_PASSWORD": "from-the-env"})

    assert settings.password == "from-the-env"
    assert settings.group == "partner.kz-social-fund.example-consumer"
    assert settings.asyncapi_url == "http://127.0.0.1:8000/partners/asyncapi.json"
    with pytest.raises(SystemExit, match="must start with"):
        consumer.load_settings(str(file), {"PARTNER_GROUP": "someone-else"})
    with pytest.raises(SystemExit, match="PARTNER_TOPIC"):
        consumer.load_settings(None, {"PARTNER_BOOTSTRAP": "x"})
