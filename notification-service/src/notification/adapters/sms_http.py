"""The SMS provider's HTTP API (ADR 0038, modelled on SMSC.kz's `sys/send.php`): `app.delivery.SmsSender` over
httpx, the status query, and the check of a delivery report's signature.

* `POST {base}/sys/send.php`, form `apikey, phones, mes, id, sender, charset=utf-8, fmt=3` → JSON
  `{"id": <our reference>, "cnt": <segments>}` or `{"error": …, "error_code": N}`. The provider keeps each `id`
  once: the same reference again answers the first message and sends nothing.
* `GET {base}/sys/status.php?apikey&phone&id&fmt=3` → `{"id", "status", "err", "last_timestamp"}`.
* Delivery reports: `POST <our callback>`, form `id, phone, status, err, ts`, header
  `X-Sms-Signature: sha256=<hex HMAC-SHA256 of the exact body with the deployment's callback key>`."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from notification.domain.delivery import DeliveryError
from notification.domain.sms_reports import DeliveryReport, Sms

SIGNATURE_HEADER = "X-Sms-Signature"

# The provider's error codes: which ones no retry can cure. A wrong key (2), an empty account (3), a blocked
# address (4) or a burst limit (9) are retried: they are the deployment's to fix, not the message's fault.
_PERMANENT_ERRORS = {
    1: "the request's parameters are wrong",
    6: "the text or sender name is prohibited",
    7: "the phone number's format is wrong",
    8: "the number cannot take messages",
}


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signed_by(key: bytes, body: bytes, given: str | None) -> bool:
    """Whether `given` is this deployment's signature of `body` (compared in constant time)."""
    return given is not None and hmac.compare_digest(sign(key, body), given)


class SmsHttpSender:
    """`app.delivery.SmsSender` on the provider's API."""

    def __init__(self, base_url: str, api_key: str, *, sender: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sender = sender
        self.timeout_s = timeout_s

    async def send(self, sms: Sms) -> None:
        form = {
            "apikey": self.api_key,
            "phones": sms.phone.removeprefix("+"),
            "mes": sms.text,
            "id": sms.reference,
            "sender": self.sender,
            "charset": "utf-8",
            "fmt": "3",
        }
        answer = await self._call("POST", "/sys/send.php", data=form)
        if "error_code" in answer:
            code = int(answer["error_code"])
            reason = _PERMANENT_ERRORS.get(code) or str(answer.get("error", "refused"))
            raise DeliveryError(f"SMS provider error {code}: {reason}", permanent=code in _PERMANENT_ERRORS)
        if str(answer.get("id")) != sms.reference:
            raise DeliveryError(f"SMS provider answered for {answer.get('id')!r}", permanent=False)

    async def status(self, reference: str, phone: str) -> DeliveryReport:
        """The provider's status of one message, read as the report it would have sent (for a report that never
        came, `app.sms_status`); DeliveryError when the provider cannot say (an error answer, no JSON)."""
        params = {"apikey": self.api_key, "phone": phone.removeprefix("+"), "id": reference, "fmt": "3"}
        answer = await self._call("GET", "/sys/status.php", params=params)
        if "error_code" in answer:
            raise DeliveryError(
                f"SMS provider error {answer['error_code']}: {str(answer.get('error', 'refused'))[:200]}",
                permanent=False,
            )
        try:
            status = int(answer["status"])
            err = answer.get("err")
            error_code = int(err) if err not in (None, "") else None
        except (KeyError, TypeError, ValueError) as exc:
            raise DeliveryError(
                f"SMS provider status unreadable: {str(answer)[:200]}", permanent=False
            ) from exc
        if str(answer.get("id")) != reference:
            raise DeliveryError(f"SMS provider answered for {answer.get('id')!r}", permanent=False)
        return DeliveryReport(reference=reference, phone=phone, status=status, error_code=error_code)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS provider unavailable: {exc!r}", permanent=False) from exc
        if response.status_code != 200:
            # 4xx other than too-many-requests means we asked wrongly: retrying the same request cannot help.
            permanent = 400 <= response.status_code < 500 and response.status_code != 429
            raise DeliveryError(f"SMS provider HTTP {response.status_code}", permanent=permanent)
        try:
            answer = response.json()
        except ValueError as exc:
            raise DeliveryError("SMS provider answered no JSON", permanent=False) from exc
        if not isinstance(answer, dict):
            raise DeliveryError("SMS provider answered no JSON object", permanent=False)
        return answer
