"""Example consumer of a Bir Tereze partner topic, written only from the AsyncAPI document: it reads the agency's
topic over SASL/SCRAM-SHA-512 with read_committed isolation under the agency's group prefix, verifies every event's
Ed25519 signature against the platform's published keys (JWKS), validates `data` against the agency's schema taken
from the AsyncAPI document, drops duplicates by event id and prints one JSON line per verified event on stdout.
An event that fails any check is refused: reported as one JSON line on stderr and not printed.

Settings come from the onboarding output (`python -m btdeploy partners onboard <agency> --json`), as a file
(`--settings FILE`) or as environment variables (they win): PARTNER_BOOTSTRAP, PARTNER_SECURITY_PROTOCOL,
PARTNER_SASL_MECHANISM, PARTNER_USERNAME, PARTNER_PASSWORD, PARTNER_TOPIC, PARTNER_GROUP_PREFIX,
PARTNER_SIGNING_KEYS_URL; optional PARTNER_ASYNCAPI_URL (a URL or a file; default: the gateway's
/partners/asyncapi.json beside the keys), PARTNER_GROUP (default: <group prefix>example-consumer),
PARTNER_RUN_SECONDS (stop after so many seconds; default: until Ctrl-C).

Deliberately self-contained (a partner does not have the platform's code): aiokafka, cryptography, rfc8785,
jsonschema-rs and PyYAML only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import rfc8785
import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE = "btsignature"
KEY_ID = "btkeyid"
# An unknown key id makes us fetch the key set again (the platform rotated its key), at most this often.
KEYS_REFRESH_S = 30.0
HTTP_TIMEOUT_S = 10.0


# -- signatures ---------------------------------------------------------------------------------------------------


class Refused(Exception):
    """The event must not be used; the message says why."""


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """kid → Ed25519 public key, from the platform's JSON Web Key Set (RFC 8037: kty OKP, crv Ed25519)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
            keys[str(jwk["kid"])] = Ed25519PublicKey.from_public_bytes(_unb64url(str(jwk["x"])))
    return keys


def signed_bytes(event: Mapping[str, Any]) -> bytes:
    """What the platform signed: the RFC 8785 canonical JSON of the event without `btsignature`."""
    return bytes(rfc8785.dumps({k: v for k, v in event.items() if k != SIGNATURE}))


def verify_signature(event: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Raises Refused unless the key named by `btkeyid` signed exactly this event."""
    kid, signature = event.get(KEY_ID), event.get(SIGNATURE)
    if not isinstance(kid, str) or not isinstance(signature, str):
        raise Refused(f"not signed: no {KEY_ID}/{SIGNATURE}")
    key = keys.get(kid)
    if key is None:
        raise Refused(f"signed with an unknown key {kid!r}")
    try:
        key.verify(_unb64url(signature), signed_bytes(event))
    except (InvalidSignature, ValueError) as exc:
        raise Refused("signature does not match: altered, or not signed by the platform") from exc


# -- the AsyncAPI document --------------------------------------------------------------------------------------


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    """`node` with every local `$ref` (#/...) replaced by its target, recursively."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _resolve(doc, target)
        return {k: _resolve(doc, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(doc, v) for v in node]
    return node


def data_schemas(doc: Mapping[str, Any], topic: str) -> dict[str, dict[str, Any]]:
    """CloudEvent type → the JSON Schema of its `data`, for the channel whose address is `topic`."""
    channel = next((c for c in doc.get("channels", {}).values() if c.get("address") == topic), None)
    if channel is None:
        raise SystemExit(f"the AsyncAPI document has no channel for topic {topic!r}")
    out: dict[str, dict[str, Any]] = {}
    for ref in channel.get("messages", {}).values():
        payload = _resolve(doc, ref)["payload"]
        out[payload["properties"]["type"]["const"]] = payload["properties"]["data"]
    return out


def load_document(location: str) -> dict[str, Any]:
    """The AsyncAPI document from a URL or a file, JSON or YAML."""
    if urllib.parse.urlparse(location).scheme in ("http", "https"):
        with urllib.request.urlopen(location, timeout=HTTP_TIMEOUT_S) as response:
            text = response.read().decode("utf-8")
    else:
        text = Path(location).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)  # JSON is YAML too
    return document


def fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


# -- processing ---------------------------------------------------------------------------------------------------


@dataclass
class Checker:
    """Every check one event goes through: JSON, signature, known type, data schema, duplicate."""

    schemas: Mapping[str, Mapping[str, Any]]
    fetch_keys: Callable[[], Mapping[str, Ed25519PublicKey]]
    clock: Callable[[], float] = time.monotonic
    keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    _validators: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float | None = None

    def check(self, value: bytes) -> dict[str, Any] | None:
        """The verified event, None for a duplicate; raises Refused for an event that must not be used."""
        try:
            event = json.loads(value)
        except ValueError as exc:
            raise Refused(f"not JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise Refused("not a JSON object")
        self._verify(event)
        validator = self._validator(str(event.get("type")))
        errors = [
            f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator.iter_errors(event.get("data"))
        ]
        if errors:
            raise Refused("data does not match the agency's schema: " + "; ".join(errors[:5]))
        event_id = str(event.get("id"))
        if event_id in self.seen:  # a re-delivery: already processed
            return None
        self.seen.add(event_id)
        return event

    def _verify(self, event: Mapping[str, Any]) -> None:
        if self._fetched_at is None or (event.get(KEY_ID) not in self.keys and self._may_refresh()):
            self._fetched_at = self.clock()
            self.keys = self.fetch_keys()
        verify_signature(event, self.keys)

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= KEYS_REFRESH_S

    def _validator(self, event_type: str) -> Any:
        if event_type not in self._validators:
            schema = self.schemas.get(event_type)
            if schema is None:
                raise Refused(f"type {event_type!r} is not in the AsyncAPI document for this topic")
            self._validators[event_type] = jsonschema_rs.validator_for(dict(schema))
        return self._validators[event_type]


# -- settings and the Kafka loop ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    bootstrap: str
    security_protocol: str
    sasl_mechanism: str
    username: str
    password: str
    topic: str
    group_prefix: str
    signing_keys_url: str
    asyncapi_url: str
    group: str
    run_seconds: float | None


def load_settings(settings_file: str | None, env: Mapping[str, str] = os.environ) -> Settings:
    """The onboarding output's fields, from the JSON file and then the PARTNER_* variables (which win)."""
    values: dict[str, Any] = json.loads(Path(settings_file).read_text()) if settings_file else {}
    for name in (
        "bootstrap",
        "security_protocol",
        "sasl_mechanism",
        "username",
        "password",
        "topic",
        "group_prefix",
        "signing_keys_url",
        "asyncapi_url",
        "group",
        "run_seconds",
    ):
        if f"PARTNER_{name.upper()}" in env:
            values[name] = env[f"PARTNER_{name.upper()}"]
    missing = [
        n
        for n in ("bootstrap", "username", "password", "topic", "group_prefix", "signing_keys_url")
        if not values.get(n)
    ]
    if missing:
        names = ", ".join(f"PARTNER_{n.upper()}" for n in missing)
        raise SystemExit(f"missing settings: {names} (or --settings with the onboarding's --json output)")
    keys_url = str(values["signing_keys_url"])
    gateway = urllib.parse.urljoin(keys_url, "/")
    group = str(values.get("group") or values["group_prefix"] + "example-consumer")
    if not group.startswith(str(values["group_prefix"])):
        raise SystemExit(
            f"the consumer group must start with {values['group_prefix']!r} (the broker allows no other)"
        )
    seconds = values.get("run_seconds")
    return Settings(
        bootstrap=str(values["bootstrap"]),
        security_protocol=str(values.get("security_protocol") or "SASL_PLAINTEXT"),
        sasl_mechanism=str(values.get("sasl_mechanism") or "SCRAM-SHA-512"),
        username=str(values["username"]),
        password=str(values["password"]),
        topic=str(values["topic"]),
        group_prefix=str(values["group_prefix"]),
        signing_keys_url=keys_url,
        asyncapi_url=str(
            values.get("asyncapi_url") or urllib.parse.urljoin(gateway, "partners/asyncapi.json")
        ),
        group=group,
        run_seconds=float(seconds) if seconds not in (None, "") else None,
    )


def report(status: str, record: Any, **fields: Any) -> dict[str, Any]:
    return {
        "status": status,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        **fields,
    }


async def consume(settings: Settings, checker: Checker, stop: asyncio.Event) -> None:
    # Imported here so that the checks above can be used (and tested) without a Kafka client installed.
    from aiokafka import AIOKafkaConsumer
    from aiokafka.helpers import create_ssl_context

    consumer = AIOKafkaConsumer(
        settings.topic,
        bootstrap_servers=settings.bootstrap,
        security_protocol=settings.security_protocol,
        sasl_mechanism=settings.sasl_mechanism,
        sasl_plain_username=settings.username,
        sasl_plain_password=settings.password,
        ssl_context=create_ssl_context() if "SSL" in settings.security_protocol else None,
        group_id=settings.group,
        # The platform writes in transactions: never read what an aborted one left.
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        # Offsets are committed after the events are processed: a crash re-delivers, the id check drops repeats.
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for records in batches.values():
                for record in records:
                    try:
                        event = checker.check(record.value or b"")
                    except Refused as exc:
                        print(
                            json.dumps(report("refused", record, reason=str(exc))),
                            file=sys.stderr,
                            flush=True,
                        )
                        continue
                    if event is None:
                        print(json.dumps(report("duplicate", record)), file=sys.stderr, flush=True)
                        continue
                    print(json.dumps(report("verified", record, event=event), ensure_ascii=False), flush=True)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()


async def main_async(settings: Settings) -> None:
    document = load_document(settings.asyncapi_url)
    checker = Checker(
        schemas=data_schemas(document, settings.topic),
        fetch_keys=lambda: keys_from_jwks(fetch_json(settings.signing_keys_url)),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.run_seconds is not None:
        loop.call_later(settings.run_seconds, stop.set)
    print(
        json.dumps(
            {
                "status": "started",
                "topic": settings.topic,
                "group": settings.group,
                "types": sorted(checker.schemas),
            }
        ),
        file=sys.stderr,
        flush=True,
    )
    await consume(settings, checker, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--settings", help="the onboarding output as JSON (`partners onboard <agency> --json`)"
    )
    args = parser.parse_args(argv)
    asyncio.run(main_async(load_settings(args.settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
