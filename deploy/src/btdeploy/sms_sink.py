"""A local SMS provider as its own process, speaking the provider's HTTP API of ADR 0038 (SMSC.kz's shape), for
tests and `make run`. Nothing here is the platform's: it plays the outside system. It keeps every message, answers
the same client reference once (dedupe), and sends each message's delivery report back to the notification
service's callback, signed with the deployment's callback key as the provider would.

Protocol (what `notification.adapters.sms_http` speaks):

* `POST /sys/send.php`, form `apikey, phones, mes, id, sender, charset, fmt=3` → `{"id", "cnt"}` or
  `{"error", "error_code"}` (1 parameters, 2 wrong key, 7 wrong phone format).
* `GET /sys/status.php?apikey&phone&id&fmt=3` → `{"id", "status", "err", "last_timestamp"}`.
* reports: `POST <callback>`, form `id, phone, status, err, ts`, header `X-Sms-Signature: sha256=<hex HMAC-SHA256
  of the body>`; status 1 delivered, 3 expired, 20/22/23 undeliverable, 25 unavailable. Retried a few times
  while the callback answers 5xx or is down.

Script (unsigned, for the tests; 127.0.0.1 only):

* `GET /_script/messages[?phone=77…]` — messages kept, each with its reports and their answers.
* `POST /_script/plan` `{phone, statuses: [25, 1], silent?}` — the reports the next messages to `phone` get, in
  order (default: 1, delivered); `silent`: each takes its status but its report is lost (never sent), so only the
  status query tells.
* `POST /_script/report` `{id, status, err?, forge?}` — a report now (`forge`: signed with a wrong key); answers
  the callback's status and body.
* `POST /_script/fail` `{count}` — the next `count` sends are answered HTTP 503.

`python -m btdeploy.sms_sink --port N --callback-url URL [--dir D]`, the keys in `BT_SMS_SINK_API_KEY` and
`BT_SMS_SINK_CALLBACK_KEY`."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

SIGNATURE_HEADER = "X-Sms-Signature"
DELIVERED = 1
# Answers to a report the sink sends again (the service was away), and how long it waits between them.
REPORT_TRIES = 5
REPORT_PAUSE_S = 0.5


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def segments(text: str) -> int:
    """The provider's count, roughly: UCS-2 as soon as one character is not ASCII (70, or 67 per part)."""
    single, part = (160, 153) if text.isascii() else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / part)


@dataclass
class SinkMessage:
    id: str
    phone: str
    text: str
    sender: str
    segments: int
    accepted_at: float
    status: int = -1
    reports: list[dict[str, Any]] = field(default_factory=list)


class Sink:
    def __init__(self, api_key: str, callback_key: bytes, callback_url: str, directory: Path | None) -> None:
        self.api_key = api_key
        self.callback_key = callback_key
        self.callback_url = callback_url
        self.directory = directory
        self.messages: dict[str, SinkMessage] = {}
        self.plans: dict[str, list[int]] = {}
        # Phones whose reports are lost: the status changes, the callback never hears of it.
        self.silent: set[str] = set()
        self.fail_next = 0
        self._tasks: set[asyncio.Task[dict[str, Any]]] = set()

    def accept(self, form: dict[str, str]) -> dict[str, Any]:
        if not hmac.compare_digest(form.get("apikey", "").encode(), self.api_key.encode()):
            return {"error": "authorise error", "error_code": 2}
        ref, phone, text = form.get("id", ""), form.get("phones", ""), form.get("mes", "")
        if not ref or len(ref) > 40 or not text or len(text) > 1000:
            return {"error": "parameters error", "error_code": 1}
        if known := self.messages.get(ref):
            return {"id": known.id, "cnt": known.segments}  # the same reference is one message
        if not (phone.isascii() and phone.isdigit() and len(phone) == 11 and phone.startswith("77")):
            return {"error": "invalid number", "error_code": 7}
        m = SinkMessage(ref, phone, text, form.get("sender", ""), segments(text), time.time())
        self.messages[ref] = m
        if self.directory is not None:
            with (self.directory / "messages.jsonl").open("a", encoding="utf-8") as f:
                f.write(
                    json.dumps({k: v for k, v in asdict(m).items() if k != "reports"}, ensure_ascii=False)
                )
                f.write("\n")
        plan = self.plans.get(phone) or []
        status = plan.pop(0) if plan else DELIVERED
        if phone in self.silent:
            m.status = status
            return {"id": m.id, "cnt": m.segments}
        task = asyncio.create_task(self.report(m, status))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"id": m.id, "cnt": m.segments}

    async def report(
        self, m: SinkMessage, status: int, *, err: int = 0, forge: bool = False
    ) -> dict[str, Any]:
        """Send one report to the callback, again while the service is away or answers 5xx."""
        m.status = status
        body = urlencode(
            {"id": m.id, "phone": m.phone, "status": status, "err": err, "ts": int(time.time())}
        ).encode()
        key = b"not-the-callback-key" if forge else self.callback_key
        headers = {"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: sign(key, body)}
        answer: dict[str, Any] = {"status": status, "forged": forge}
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(1, REPORT_TRIES + 1):
                try:
                    response = await client.post(self.callback_url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    answer |= {"callback_status": 0, "error": repr(exc)}
                else:
                    answer |= {"callback_status": response.status_code, "callback_body": response.text[:2000]}
                    if response.status_code < 500:
                        break
                await asyncio.sleep(REPORT_PAUSE_S * attempt)
        m.reports.append(answer)
        return answer


def build(sink: Sink) -> FastAPI:
    app = FastAPI(title="SMS provider sink")

    @app.post("/sys/send.php")
    async def send(request: Request) -> Response:
        if sink.fail_next > 0:
            sink.fail_next -= 1
            return Response(b'{"error": "service unavailable"}', 503, media_type="application/json")
        form = {k: str(v) for k, v in (await request.form()).items()}
        return Response(json.dumps(sink.accept(form), ensure_ascii=False), media_type="application/json")

    @app.get("/sys/status.php")
    async def status(apikey: str = "", id: str = "") -> dict[str, Any]:
        if not hmac.compare_digest(apikey.encode(), sink.api_key.encode()):
            return {"error": "authorise error", "error_code": 2}
        m = sink.messages.get(id)
        if m is None:
            return {"error": "message not found", "error_code": 5}
        return {"id": m.id, "status": m.status, "err": 0, "last_timestamp": int(m.accepted_at)}

    @app.get("/_script/messages")
    async def messages(phone: str = "") -> list[dict[str, Any]]:
        wanted = phone.removeprefix("+")
        return [asdict(m) for m in sink.messages.values() if not wanted or m.phone == wanted]

    @app.post("/_script/plan")
    async def plan(request: Request) -> dict[str, Any]:
        data = await request.json()
        phone = str(data["phone"]).removeprefix("+")
        sink.plans[phone] = [int(s) for s in data["statuses"]]
        if data.get("silent"):
            sink.silent.add(phone)
        else:
            sink.silent.discard(phone)
        return {"phone": phone, "statuses": sink.plans[phone], "silent": phone in sink.silent}

    @app.post("/_script/report")
    async def report(request: Request) -> dict[str, Any]:
        data = await request.json()
        m = sink.messages[str(data["id"])]
        return await sink.report(
            m, int(data["status"]), err=int(data.get("err", 0)), forge=bool(data.get("forge", False))
        )

    @app.post("/_script/fail")
    async def fail(request: Request) -> dict[str, int]:
        sink.fail_next = int((await request.json())["count"])
        return {"fail_next": sink.fail_next}

    return app


class SmsSinkProcess:
    """The sink as a child process on 127.0.0.1, stopped by its pid: `url` for the notification service's
    BT_SMS_PROVIDER_URL, the keys for BT_SMS_API_KEY / BT_SMS_CALLBACK_KEY, and the script for tests."""

    def __init__(
        self, workdir: Path, port: int, *, api_key: str, callback_key: str, callback_url: str
    ) -> None:
        from btdeploy.processes import ChildProcess

        self.workdir = workdir
        self.port = port
        self.host = "127.0.0.1"
        self.api_key = api_key
        self.callback_key = callback_key
        self.process = ChildProcess(
            "sms-sink",
            [
                sys.executable,
                "-m",
                "btdeploy.sms_sink",
                "--port",
                str(port),
                "--callback-url",
                callback_url,
                "--dir",
                str(workdir),
            ],
            log_path=workdir / "sms-sink.log",
            # Keys in the environment, not on a command line every `ps` shows.
            env={"BT_SMS_SINK_API_KEY": api_key, "BT_SMS_SINK_CALLBACK_KEY": callback_key},
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.check_alive("starting the SMS sink")
            try:
                httpx.get(f"{self.url}/_script/messages", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the SMS sink did not start:\n{self.process.log_tail()}")

    def stop(self) -> None:
        self.process.stop()

    def messages(self, phone: str = "") -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_script/messages", params={"phone": phone}, timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def wait_for(
        self, phone: str, count: int = 1, *, reports: int = 0, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Poll until `phone` has `count` messages, the last of them with at least `reports` reports sent."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(phone)
            if len(found) >= count and len(found[count - 1]["reports"]) >= reports:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} SMS to {phone} after {timeout:.0f} s: {found}")
            time.sleep(0.1)

    def script(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/_script/{action}", json=body, timeout=60)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m btdeploy.sms_sink", description=__doc__)
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument(
        "--callback-url", required=True, help="the notification service's /sms-provider/reports"
    )
    parser.add_argument("--dir", type=Path, default=None, help="append each message to messages.jsonl here")
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    sink = Sink(
        os.environ.get("BT_SMS_SINK_API_KEY", "dev-sms-api-key"),
        os.environ.get("BT_SMS_SINK_CALLBACK_KEY", "dev-sms-callback-key").encode(),
        args.callback_url,
        args.dir,
    )
    uvicorn.run(build(sink), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
