"""The e-government payment gateway (ПШЭП) over its HTTP protocol (ADR 0034):

* `POST {base}/v1/payments` — `{merchant_id, order_id, amount_tiyn, currency: "KZT", description, callback_url}`,
  our HMAC signature in `X-Payment-Signature`; the same `order_id` again returns the same payment. Answer 201/200
  `{payment_id, order_id, status, amount_tiyn, payment_url}`, signed by the gateway.
* `GET {base}/v1/payments/{order_id}?merchant_id=…` — the payment's status (the answer to a lost callback), signed.
* the gateway's callback to us is verified in `fees.api.payments` with the same key.

Every answer is verified before it is read; anything else (a refused connection, a timeout, a 5xx, a bad
signature) is `GatewayUnavailable`, which the API turns into 503 with nothing written."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx

from btkernel import logging as btlog
from fees.domain import signature
from fees.domain.payment import GatewayNotice

log = btlog.get(__name__)


class GatewayUnavailable(Exception):
    """The payment gateway did not give a trustworthy answer: try again later."""


@dataclass(frozen=True)
class CreatedPayment:
    gateway_payment_id: str
    payment_url: str
    status: str


class PaymentGatewayClient:
    def __init__(
        self, base_url: str, merchant: str, key: bytes, callback_url: str, *, timeout_s: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.merchant = merchant
        self.key = key
        self.callback_url = callback_url
        self.timeout_s = timeout_s

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.key)

    async def create(self, order_id: str, amount_tiyn: int, description: str) -> CreatedPayment:
        body = json.dumps(
            {
                "merchant_id": self.merchant,
                "order_id": order_id,
                "amount_tiyn": amount_tiyn,
                "currency": "KZT",
                "description": description,
                "callback_url": self.callback_url,
            },
            ensure_ascii=False,
        ).encode()
        data = await self._call("POST", f"{self.base_url}/v1/payments", body)
        try:
            return CreatedPayment(
                gateway_payment_id=str(data["payment_id"]),
                payment_url=str(data["payment_url"]),
                status=str(data["status"]),
            )
        except KeyError as exc:
            raise GatewayUnavailable(f"the payment gateway's answer lacks {exc}") from exc

    async def status(self, order_id: str) -> GatewayNotice:
        data = await self._call(
            "GET", f"{self.base_url}/v1/payments/{order_id}?merchant_id={self.merchant}", b""
        )
        try:
            return notice_from(data, notice_id=f"status:{order_id}:{data['status']}")
        except (KeyError, ValueError, TypeError) as exc:
            raise GatewayUnavailable(f"the payment gateway's status answer is unreadable: {exc}") from exc

    async def status_or_none(self, order_id: str) -> GatewayNotice | None:
        """`status`, for the background sweep of lost callbacks: no trustworthy answer is logged, not raised."""
        try:
            return await self.status(order_id)
        except GatewayUnavailable as exc:
            log.warning("payment_status_unavailable", payment_id=order_id, error=str(exc))
            return None

    async def _call(self, method: str, url: str, body: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", signature.HEADER: signature.sign(self.key, body)}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                response = await http.request(method, url, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"the payment gateway is unreachable: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailable(f"the payment gateway answered {response.status_code}")
        if not signature.verify(self.key, response.content, response.headers.get(signature.HEADER)):
            raise GatewayUnavailable("the payment gateway's answer is not signed with our key")
        if response.status_code >= 400:
            raise GatewayUnavailable(
                f"the payment gateway refused: {response.status_code} {response.text[:200]}"
            )
        data = response.json()
        if not isinstance(data, dict):
            raise GatewayUnavailable("the payment gateway's answer is not an object")
        return data


def notice_from(data: dict[str, Any], *, notice_id: str | None = None) -> GatewayNotice:
    """A notice from the gateway's JSON (callback or status answer); raises KeyError/ValueError/TypeError."""
    amount = data["amount_tiyn"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError("amount_tiyn must be a non-negative integer")
    paid_at = data.get("paid_at")
    when = dt.datetime.fromisoformat(paid_at) if isinstance(paid_at, str) else None
    if when is not None and when.tzinfo is None:
        raise ValueError("paid_at must carry its time zone")
    return GatewayNotice(
        notice_id=notice_id or str(data["notification_id"]),
        order_id=str(data["order_id"]),
        status=str(data["status"]),
        amount_tiyn=amount,
        paid_at=when,
        reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
    )
