"""`POST /sms-provider/reports`: the SMS provider's delivery report (ADR 0038). Not under `/api/`: no user and no
gateway token calls it. Its only authentication is the HMAC signature over the exact body with this deployment's
callback key, checked before anything in the body is read; a report naming no SMS of ours is 404, a status the
protocol does not have 422, each naming the field."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from btkernel import clock, problem_docs, problems
from btkernel.errors import InvalidInput, NotFound
from btkernel.service import PoolDep
from notification.adapters.sms_http import SIGNATURE_HEADER, signed_by
from notification.adapters.store import PgStore
from notification.app import sms_reports
from notification.domain.delivery import RetryPolicy
from notification.domain.phone import InvalidPhone, normalise_kz_mobile
from notification.domain.sms_reports import DeliveryReport, UnreadableReport

PATH = "/sms-provider/reports"
# A report is five short fields; anything longer is not one.
MAX_REPORT_BYTES = 2048
_INT_BOUND = 10**12


def router(callback_key: bytes, policy: RetryPolicy, *, actor: str) -> APIRouter:
    api = APIRouter(tags=["notifications"])

    @api.post(
        PATH,
        summary="The SMS provider's signed delivery report (public; HMAC over the exact body)",
        responses=problem_docs.declare(401, 404, 422),
    )
    async def delivery_report(
        request: Request,
        pool: PoolDep,
        signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER, max_length=200)] = None,
    ) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_REPORT_BYTES:
            raise InvalidInput(f"a delivery report is at most {MAX_REPORT_BYTES} bytes", field="body")
        if not callback_key or not signed_by(callback_key, body, signature):
            # Nothing of a body not signed with our key is believed, logged or kept.
            raise problems.Unauthorized(
                f"the report is not signed with this deployment's SMS callback key ({SIGNATURE_HEADER})"
            )
        report = _report(body)
        async with pool.acquire() as conn, conn.transaction():
            try:
                outcome = await sms_reports.take_report(
                    report, PgStore(conn), policy=policy, now=clock.now(), actor=actor
                )
            except sms_reports.UnknownMessage as exc:
                raise NotFound(str(exc), field=exc.field) from exc
            except UnreadableReport as exc:
                raise InvalidInput(str(exc), field=exc.field) from exc
        return JSONResponse({"id": report.reference, "outcome": outcome})

    return api


def _report(body: bytes) -> DeliveryReport:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the report is not a form: {exc}", field="body") from exc
    phone = _text(fields, "phone")
    try:
        normalised = normalise_kz_mobile(phone if phone.startswith("+") else "+" + phone)
    except InvalidPhone as exc:
        raise InvalidInput(str(exc), field="body.phone") from exc
    # `ts`, the provider's moment, is not used: the log records moments on the service's clock (ADR 0017).
    return DeliveryReport(
        reference=_text(fields, "id"),
        phone=normalised,
        status=_integer(_text(fields, "status"), "status"),
        error_code=_integer(err, "err") if (err := _text(fields, "err", required=False)) else None,
    )


def _text(fields: dict[str, list[str]], name: str, *, required: bool = True) -> str:
    values = fields.get(name)
    if not values or values[0] == "":
        if required:
            raise InvalidInput(f"{name} is required", field=f"body.{name}")
        return ""
    if len(values[0]) > 64:
        raise InvalidInput(f"{name} is at most 64 characters", field=f"body.{name}")
    return values[0]


def _integer(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} is a whole number", field=f"body.{name}") from None
    if abs(value) >= _INT_BOUND:
        raise InvalidInput(f"{name} is out of range", field=f"body.{name}")
    return value
