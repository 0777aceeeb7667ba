"""A stand-in of a partner agency that decides services (ADR 0040; issue 14: "in tests it is a separate process of
the project's that consumes and answers over Kafka like a real agency would"). Nothing here is the platform's: it
plays the agency, with the agency's OWN onboarding (`btdeploy.partners.onboard`, SCRAM user `partner-<agency>`),
so the broker's ACLs are what they are for the real agency.

* It reads `partner.<agency>.requests` read-committed under a group of the agency's prefix, verifies each request's
  Ed25519 signature against the platform's key set (the JWKS at the onboarding's `signing_keys_url`, fetched
  again on an unknown key id, or a PEM/JWKS file), keeps it by application id, and drops a re-delivery by event
  id — what the AsyncAPI document tells an agency to do. A request that fails a check is kept as refused.
* It answers on `agency.<agency>.answers`: binary-mode CloudEvents `bt.agency.answer.v1`, source
  `/agencies/<agency>`, key = subject = application id.

Script (unsigned, for the test that drives it; 127.0.0.1 only):

* `GET /_script/ready` — 200 once the consumer has its partitions (503 before).
* `GET /_script/requests` — `{"verified": {application_id: event}, "refused": [{reason, offset}]}`.
* `POST /_script/answer` `{application_id, kind, reason?, decision_number?, at?, id?, source?}` — one answer now
  (`id` repeats an earlier answer's CloudEvent id; `source` forges another sender). Answers the CloudEvent sent.
* `POST /_script/plan` `{personal_number, answers: [{kind, reason?, decision_number?}, …]}` — what to answer, in
  order, to every request whose applicant has that PIN (`"*"`: any applicant without a plan of their own).
* `GET /_script/answers` — every answer sent.

`python -m btdeploy.agency_standin --settings onboarding.json --port N [--keys-file F] [--pid-file P]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request, Response

from btkernel import signing
from civreg.partners.agency_services import (
    ANSWER_KINDS,
    ANSWER_TYPE,
    REQUEST_TYPE,
    answers_topic,
    requests_topic,
)

# Where the registry expects an agency's answers to say they come from (registry.app.agency_cases).
SOURCE_PREFIX = "/agencies/"
GROUP_NAME = "standin"
# An unknown key id makes the stand-in fetch the key set again (the platform rotated its key), at most this often.
KEYS_REFRESH_S = 5.0


@dataclass
class AgencyStandin:
    """The agency's state: what it received and refused, what it is told to answer, what it answered."""

    agency: str
    verified: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    assigned: bool = False

    @property
    def source(self) -> str:
        return SOURCE_PREFIX + self.agency

    def plan_for(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        pin = str((request.get("data", {}).get("applicant") or {}).get("personal_number", ""))
        return self.plans.get(pin) or self.plans.get("*") or []


@dataclass
class KeySet:
    """The platform's public keys, from its JWKS URL or a file (PEM blocks or a JWKS document)."""

    url: str | None
    file: Path | None
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    fetched_at: float | None = None

    def verify(self, event: Mapping[str, Any]) -> None:
        if self.fetched_at is None or (
            event.get(signing.KEY_ID_ATTR) not in self.keys
            and time.monotonic() - self.fetched_at >= KEYS_REFRESH_S
        ):
            self.keys = self._load()
            self.fetched_at = time.monotonic()
        signing.verify(event, self.keys)

    def _load(self) -> dict[str, Ed25519PublicKey]:
        if self.file is not None:
            text = self.file.read_text()
            if text.lstrip().startswith("{"):
                return signing.keys_from_jwks(json.loads(text))
            blocks = [
                b + "-----END PUBLIC KEY-----\n" for b in text.split("-----END PUBLIC KEY-----") if b.strip()
            ]
            keys = [signing.load_public_pem(b) for b in blocks]
            return {signing.key_id(k): k for k in keys}
        assert self.url is not None
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return signing.keys_from_jwks(json.loads(response.read()))


def answer_event(
    standin: AgencyStandin, body: Mapping[str, Any]
) -> tuple[bytes, bytes, list[tuple[str, bytes]], dict[str, Any]]:
    """Key, value and headers of one answer (CloudEvents binary mode), and the event as a dict for the record."""
    kind = str(body["kind"])
    if kind not in ANSWER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(ANSWER_KINDS)}")
    application_id = str(uuid.UUID(str(body["application_id"])))
    at = str(body.get("at") or dt.datetime.now(dt.UTC).isoformat())
    data: dict[str, Any] = {"application_id": application_id, "kind": kind, "at": at}
    if body.get("reason") is not None:
        data["reason"] = str(body["reason"])
    if body.get("decision_number") is not None:
        data["decision_number"] = str(body["decision_number"])
    event_id = str(body.get("id") or uuid.uuid4())
    source = str(body.get("source") or standin.source)
    sent_at = dt.datetime.now(dt.UTC).isoformat()
    event = {
        "id": event_id,
        "source": source,
        "type": ANSWER_TYPE,
        "subject": application_id,
        "time": sent_at,
        "data": data,
    }
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ANSWER_TYPE.encode()),
        ("ce_subject", application_id.encode()),
        ("ce_time", sent_at.encode()),
        ("content-type", b"application/json"),
    ]
    value = json.dumps(data, ensure_ascii=False).encode()
    return application_id.encode(), value, headers, event


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, standin: AgencyStandin) -> None:
        self.standin = standin

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.standin.assigned = False

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.standin.assigned = True


def build(standin: AgencyStandin, settings: Mapping[str, Any], keys: KeySet) -> FastAPI:
    kafka = {
        "bootstrap_servers": settings["bootstrap"],
        "security_protocol": settings.get("security_protocol") or "SASL_PLAINTEXT",
        "sasl_mechanism": settings.get("sasl_mechanism") or "SCRAM-SHA-512",
        "sasl_plain_username": settings["username"],
        "sasl_plain_password": settings["password"],
    }
    # Made in the server's loop (aiokafka needs one); not idempotent: the agency's principal has WRITE on its
    # answer topic and nothing more.
    producers: list[AIOKafkaProducer] = []

    async def send(body: Mapping[str, Any]) -> dict[str, Any]:
        key, value, headers, event = answer_event(standin, body)
        await producers[0].send_and_wait(answers_topic(standin.agency), value=value, key=key, headers=headers)
        standin.sent.append(event)
        return event

    async def on_request(raw: bytes, offset: int) -> None:
        try:
            event = json.loads(raw)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
            keys.verify(event)
            if event.get("type") != REQUEST_TYPE:
                raise ValueError(f"type {event.get('type')!r} is not {REQUEST_TYPE}")
            application_id = str(event["data"]["application_id"])
        except (ValueError, KeyError, TypeError, signing.SignatureInvalid) as exc:
            standin.refused.append({"offset": offset, "reason": str(exc)})
            return
        if event["id"] in standin.seen_ids:  # a re-delivery, or the platform's re-send: same id, already done
            return
        standin.seen_ids.add(str(event["id"]))
        standin.verified[application_id] = event
        for step in standin.plan_for(event):
            await send({**step, "application_id": application_id})

    async def consume(stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            **kafka,
            group_id=str(settings["group_prefix"]) + GROUP_NAME,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        consumer.subscribe([requests_topic(standin.agency)], listener=_Assigned(standin))
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=100)
                for records in batches.values():
                    for record in records:
                        await on_request(record.value or b"", record.offset)
                if batches:
                    await consumer.commit()
        finally:
            await consumer.stop()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        producer = AIOKafkaProducer(**kafka, acks="all")
        await producer.start()
        producers.append(producer)
        stop = asyncio.Event()
        task = asyncio.create_task(consume(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
            await producer.stop()

    app = FastAPI(title=f"agency stand-in {standin.agency}", lifespan=lifespan)

    @app.get("/_script/ready")
    async def ready() -> Response:
        return Response(status_code=200 if standin.assigned else 503)

    @app.get("/_script/requests")
    async def requests() -> dict[str, Any]:
        return {"verified": standin.verified, "refused": standin.refused}

    @app.post("/_script/answer")
    async def answer(request: Request) -> Response:
        try:
            event = await send(await request.json())
        except (ValueError, KeyError) as exc:
            return Response(json.dumps({"error": str(exc)}), 422, media_type="application/json")
        return Response(json.dumps(event), 200, media_type="application/json")

    @app.post("/_script/plan")
    async def plan(request: Request) -> dict[str, Any]:
        body = await request.json()
        standin.plans[str(body["personal_number"])] = [dict(step) for step in body["answers"]]
        return {"plans": standin.plans}

    @app.get("/_script/answers")
    async def answers() -> list[dict[str, Any]]:
        return standin.sent

    return app


# -- the process ------------------------------------------------------------------------------------------------


class AgencyStandinProcess:
    """The stand-in as a child process on 127.0.0.1, stopped by its pid. `connection` is the agency's onboarding
    (`btdeploy.partners.PartnerConnection`), written to a 0600 file: the password is on no command line."""

    def __init__(self, workdir: Path, connection: Any, port: int | None = None) -> None:
        from btdeploy.ports import free_port
        from btdeploy.processes import ChildProcess

        self.workdir = workdir
        self.connection = connection
        self.port = port or free_port()
        self.settings_file = workdir / f"{connection.agency}-onboarding.json"
        self.process = ChildProcess(
            f"agency-standin-{connection.agency}",
            [
                sys.executable,
                "-m",
                "btdeploy.agency_standin",
                "--settings",
                str(self.settings_file),
                "--port",
                str(self.port),
            ],
            log_path=workdir / f"agency-standin-{connection.agency}.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.settings_file.touch(mode=0o600)
        self.settings_file.chmod(0o600)
        self.settings_file.write_text(json.dumps(asdict(self.connection)))
        self.process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.check_alive("starting the agency stand-in")
            try:
                if httpx.get(f"{self.url}/_script/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the agency stand-in did not start:\n{self.process.log_tail()}")

    def stop(self) -> None:
        self.process.stop()

    def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/_script/requests", timeout=10).json()
        return result

    def answer(self, application_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        body = {"application_id": application_id, "kind": kind, **fields}
        response = httpx.post(f"{self.url}/_script/answer", json=body, timeout=30)
        response.raise_for_status()
        event: dict[str, Any] = response.json()
        return event

    def plan(self, personal_number: str, answers: list[dict[str, Any]]) -> None:
        body = {"personal_number": personal_number, "answers": answers}
        httpx.post(f"{self.url}/_script/plan", json=body, timeout=10).raise_for_status()

    def answers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/_script/answers", timeout=10).json()
        return result


def with_gateway(connection: Any, gateway_url: str) -> Any:
    """The onboarding with the signing keys of the gateway that really runs (onboarding may name a placeholder)."""
    from btdeploy.partners import SIGNING_KEYS_PATH

    return replace(connection, signing_keys_url=gateway_url.rstrip("/") + SIGNING_KEYS_PATH)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m btdeploy.agency_standin", description=__doc__)
    parser.add_argument(
        "--settings", type=Path, required=True, help="the agency's onboarding output (--json)"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--keys-file", type=Path, help="the platform's public keys (PEM or JWKS) instead of the URL"
    )
    parser.add_argument("--pid-file", type=Path)
    args = parser.parse_args(argv)
    if args.pid_file:
        args.pid_file.write_text(str(os.getpid()))
    settings = json.loads(args.settings.read_text())
    standin = AgencyStandin(agency=str(settings["agency"]))
    keys = KeySet(url=settings.get("signing_keys_url"), file=args.keys_file)
    uvicorn.run(build(standin, settings, keys), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
