"""A stand-in of the e-government payment gateway (ПШЭП) as its own process, speaking the protocol of ADR 0034, for
tests and `make run` (`btdeploy.stack.Stack` starts it). Nothing here is the platform's: it plays the outside system.

Protocol (every body JSON; every request and answer signed `X-Payment-Signature: sha256=<hex HMAC-SHA256 of the
exact body>` with the deployment's shared key):

* `POST /v1/payments` `{merchant_id, order_id, amount_tiyn, currency, description, callback_url}` → 201
  `{payment_id, order_id, status: "created", amount_tiyn, payment_url}`; the same order id again → 200, the same
  payment. An unsigned or wrongly signed request → 401.
* `GET /v1/payments/{order_id}?merchant_id=…` → `{payment_id, order_id, status, amount_tiyn, paid_at}`.
* callbacks to the payment's `callback_url`: `{notification_id, payment_id, order_id, status, amount_tiyn,
  paid_at, reason}`.

Script (unsigned, for the test that drives it; 127.0.0.1 only):

* `POST /_script/pay` `{order_id, outcome: "paid"|"failed", deliver: true|false, amount_tiyn?}` — the applicant
  pays (or fails); the callback is sent at once, or lost (`deliver: false`). Answers the callback's HTTP status.
* `POST /_script/redeliver` `{order_id}` — the last notice again, same notification id (a duplicate).
* `POST /_script/late` `{order_id, status}` — a new notice with another status after the final one (late).
* `POST /_script/forge` `{order_id}` — a notice signed with a wrong key.
* `POST /_script/fail` `{count}` — the next `count` protocol requests are answered 503.
* `GET /_script/payments` — everything the stand-in holds, with each callback's answer.

`python -m btdeploy.payment_gateway_standin --port N --key-file F [--pid-file P]`."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

HEADER = "X-Payment-Signature"


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class StandinPayment:
    payment_id: str
    order_id: str
    merchant_id: str
    amount_tiyn: int
    callback_url: str
    status: str = "created"
    paid_at: str | None = None
    last_notice: dict[str, Any] | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)


class Standin:
    def __init__(self, key: bytes, base_url: str) -> None:
        self.key = key
        self.base_url = base_url
        self.payments: dict[str, StandinPayment] = {}
        self.fail_next = 0
        self._ids = itertools.count(1)

    def signed(self, data: dict[str, Any], status: int = 200) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode()
        return Response(body, status, media_type="application/json", headers={HEADER: sign(self.key, body)})

    def notice(self, p: StandinPayment, status: str, reason: str | None = None) -> dict[str, Any]:
        return {
            "notification_id": f"N-{next(self._ids):06d}",
            "payment_id": p.payment_id,
            "order_id": p.order_id,
            "status": status,
            "amount_tiyn": p.amount_tiyn,
            "paid_at": p.paid_at,
            "reason": reason,
        }

    def deliver(self, p: StandinPayment, notice: dict[str, Any], key: bytes | None = None) -> int:
        body = json.dumps(notice, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", HEADER: sign(key or self.key, body)}
        try:
            status = httpx.post(p.callback_url, content=body, headers=headers, timeout=10).status_code
        except httpx.HTTPError as exc:
            status = 0
            p.deliveries.append({"notification_id": notice["notification_id"], "error": repr(exc)})
            return status
        p.deliveries.append({"notification_id": notice["notification_id"], "status": status})
        return status


def build(standin: Standin) -> FastAPI:
    app = FastAPI(title="payment gateway stand-in")

    async def verified(request: Request) -> bytes | None:
        body = await request.body()
        given = request.headers.get(HEADER, "")
        return body if hmac.compare_digest(sign(standin.key, body), given) else None

    def failing() -> Response | None:
        if standin.fail_next > 0:
            standin.fail_next -= 1
            return Response(b'{"error": "unavailable"}', 503, media_type="application/json")
        return None

    @app.post("/v1/payments")
    async def create(request: Request) -> Response:
        if (down := failing()) is not None:
            return down
        body = await verified(request)
        if body is None:
            return Response(b'{"error": "bad signature"}', 401, media_type="application/json")
        data = json.loads(body)
        order_id = str(data["order_id"])
        if (known := standin.payments.get(order_id)) is not None:
            return standin.signed(_view(standin, known), 200)
        p = StandinPayment(
            payment_id=f"PG-{next(standin._ids):06d}",
            order_id=order_id,
            merchant_id=str(data["merchant_id"]),
            amount_tiyn=int(data["amount_tiyn"]),
            callback_url=str(data["callback_url"]),
        )
        standin.payments[order_id] = p
        return standin.signed(_view(standin, p), 201)

    @app.get("/v1/payments/{order_id}")
    async def status(order_id: str, request: Request) -> Response:
        if (down := failing()) is not None:
            return down
        if await verified(request) is None:
            return Response(b'{"error": "bad signature"}', 401, media_type="application/json")
        p = standin.payments.get(order_id)
        if p is None:
            return standin.signed({"error": "unknown order"}, 404)
        return standin.signed(_view(standin, p))

    @app.post("/_script/pay")
    async def pay(request: Request) -> dict[str, Any]:
        data = await request.json()
        p = standin.payments[data["order_id"]]
        outcome = data.get("outcome", "paid")
        p.status = outcome
        p.paid_at = dt.datetime.now(dt.UTC).isoformat() if outcome == "paid" else None
        notice = standin.notice(p, outcome, None if outcome == "paid" else "declined by the issuer")
        if "amount_tiyn" in data:
            notice["amount_tiyn"] = int(data["amount_tiyn"])
        p.last_notice = notice
        delivered = standin.deliver(p, notice) if data.get("deliver", True) else None
        return {"notification_id": notice["notification_id"], "callback_status": delivered}

    @app.post("/_script/redeliver")
    async def redeliver(request: Request) -> dict[str, Any]:
        p = standin.payments[(await request.json())["order_id"]]
        assert p.last_notice is not None
        return {
            "notification_id": p.last_notice["notification_id"],
            "callback_status": standin.deliver(p, p.last_notice),
        }

    @app.post("/_script/late")
    async def late(request: Request) -> dict[str, Any]:
        data = await request.json()
        p = standin.payments[data["order_id"]]
        notice = standin.notice(p, data["status"], "late notice")
        return {"notification_id": notice["notification_id"], "callback_status": standin.deliver(p, notice)}

    @app.post("/_script/forge")
    async def forge(request: Request) -> dict[str, Any]:
        p = standin.payments[(await request.json())["order_id"]]
        notice = standin.notice(p, "paid")
        return {
            "notification_id": notice["notification_id"],
            "callback_status": standin.deliver(p, notice, b"not-the-key"),
        }

    @app.post("/_script/fail")
    async def fail(request: Request) -> dict[str, int]:
        standin.fail_next = int((await request.json())["count"])
        return {"fail_next": standin.fail_next}

    @app.get("/_script/payments")
    async def all_payments() -> list[dict[str, Any]]:
        return [asdict(p) for p in standin.payments.values()]

    return app


def _view(standin: Standin, p: StandinPayment) -> dict[str, Any]:
    return {
        "payment_id": p.payment_id,
        "order_id": p.order_id,
        "status": p.status,
        "amount_tiyn": p.amount_tiyn,
        "paid_at": p.paid_at,
        "payment_url": f"{standin.base_url}/pay/{p.payment_id}",
    }


class StandinProcess:
    """The stand-in started as a child process on 127.0.0.1 and stopped by its pid: started by the stack for `make
    run` and the test session (ADR 0034), or by a test of its own. `url` for the fee service's
    BT_PAYMENT_GATEWAY_URL, `key` for BT_PAYMENT_GATEWAY_SECRET, `script` to drive it. Nothing touches the disk
    before `start()` (a stack that is only asked for its environment starts nothing)."""

    def __init__(self, workdir: Path, key: bytes, port: int | None = None) -> None:
        from btdeploy.ports import free_port
        from btdeploy.processes import ChildProcess

        self.workdir = workdir
        self.port = port or free_port()
        self.key = key
        self.key_file = workdir / "payment-gateway.key"
        self.process = ChildProcess(
            "payment-gateway-standin",
            [
                sys.executable,
                "-m",
                "btdeploy.payment_gateway_standin",
                "--port",
                str(self.port),
                # The key in a 0600 file, not on a command line every `ps` shows.
                "--key-file",
                str(self.key_file),
            ],
            log_path=workdir / "payment-gateway-standin.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.key_file.write_bytes(self.key)
        self.key_file.chmod(0o600)
        self.process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.check_alive("starting the payment gateway stand-in")
            try:
                httpx.get(f"{self.url}/_script/payments", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the payment gateway stand-in did not start:\n{self.process.log_tail()}")

    def stop(self) -> None:
        self.process.stop()

    def script(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/_script/{action}", json=body, timeout=30)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def payments(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/_script/payments", timeout=10).json()
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m btdeploy.payment_gateway_standin", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True, help="the shared HMAC key (the file's bytes)")
    parser.add_argument("--pid-file", type=Path)
    args = parser.parse_args(argv)
    if args.pid_file:
        args.pid_file.write_text(str(os.getpid()))
    base = f"http://127.0.0.1:{args.port}"
    app = build(Standin(args.key_file.read_bytes().strip(), base))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
