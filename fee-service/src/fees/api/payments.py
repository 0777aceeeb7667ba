"""HTTP API of duty payments (ADR 0034): create a payment at the e-government payment gateway, read it, ask the
gateway for its status (a lost callback), and the gateway's signed callback (public: the signature is its only
authentication, verified over the exact body before anything in it is read)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from btkernel import clock, idempotency, problem_docs, problems
from btkernel import logging as btlog
from btkernel.bounded import Code, Id
from btkernel.context import Actor, RequestContext
from btkernel.errors import InvalidInput
from btkernel.service import ActorDep, ContextDep, PoolDep
from civreg import sites
from civreg.calendar import ALMATY
from civreg.events.details import RecordKind
from civreg.policy import Role
from fees.adapters.payment_gateway import GatewayUnavailable, PaymentGatewayClient, notice_from
from fees.adapters.payments import PgPayments
from fees.adapters.store import PgStore
from fees.app import payments
from fees.app.decisions import visible_decisions
from fees.domain import signature
from fees.domain.payment import Payment, payment_id_for
from fees.domain.scope import PORTAL_CHANNEL

log = btlog.get(__name__)
router = APIRouter(prefix="/api/v1/duty/payments", tags=["state duty"])
bank_router = APIRouter(prefix="/api/v1/duty", tags=["state duty"])
callback_router = APIRouter(tags=["state duty"])
MAX_TIYN = 10**12
CALLBACK_PATH = "/payment-gateway/callback"
RETRY_AFTER_S = 10


class NewPayment(BaseModel):
    """At a site: the service and case to pay for, before acceptance. The portal: the application it submitted
    (`application_id`), whose decided duty is paid."""

    model_config = ConfigDict(extra="forbid")

    service_id: Code | None = Field(None, examples=["marriage_registration"])
    variant: Code | None = Field(None, description="the case (`details.variant`); default: the usual one")
    record_kind: RecordKind | None = None
    registry_office_id: Code | None = Field(None, description="defaults to the site's registry office")
    application_id: Id | None = Field(
        None, description="the portal only: an application it submitted, whose duty is paid"
    )


class PaymentOut(BaseModel):
    payment_id: str
    method: str
    status: str
    service_id: str
    site_id: str
    registry_office_id: str | None
    application_id: str | None
    amount_tiyn: int
    reference: str
    bank: str | None
    paid_on: dt.date | None
    paid_at: dt.datetime | None
    payment_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    reconciled: str | None
    channel: str | None

    @classmethod
    def of(cls, p: Payment) -> PaymentOut:
        return cls(**{name: getattr(p, name) for name in cls.model_fields})


def _gateway(request: Request) -> PaymentGatewayClient:
    client: PaymentGatewayClient = request.app.state.payment_gateway
    return client


def _unavailable(why: str) -> problems.Unavailable:
    return problems.Unavailable(f"the payment gateway is unavailable: {why}", retry_after_s=RETRY_AFTER_S)


@router.post(
    "",
    status_code=201,
    response_model=PaymentOut,
    summary="Create a payment of the state duty at the e-government payment gateway (before acceptance)",
    responses=problem_docs.declare(404, 422, 503),
)
async def create_payment(
    body: NewPayment,
    request: Request,
    response: Response,
    pool: PoolDep,
    actor: ActorDep,
    ctx: ContextDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> PaymentOut:
    key = idempotency.validate_key(idempotency_key)
    if actor.role == Role.PORTAL:
        return await _portal_payment(body, request, response, pool, actor, ctx, key)
    if body.application_id is not None:
        raise InvalidInput(
            "a site pays before acceptance; after it, record the bank document (/api/v1/duty/bank-payments)",
            field="body.application_id",
        )
    if body.service_id is None:
        raise InvalidInput("the service to pay for is required", field="body.service_id")
    site = actor.site or ""
    office = body.registry_office_id or _office_of(site)
    now = clock.now()
    cmd = payments.StartPayment(
        payment_id=payment_id_for(site, key) if key else str(uuid.uuid4()),
        service_id=body.service_id,
        site_id=site,
        registry_office_id=office,
        variant=body.variant,
        record_kind=body.record_kind,
        on=now.astimezone(ALMATY).date(),
        now=now,
        correlation_id=ctx.correlation_id,
        actor=actor.id,
    )
    async with pool.acquire() as conn:
        kept = await PgPayments(conn).payment(cmd.payment_id)
    if kept is not None:
        return PaymentOut.of(kept)  # the same Idempotency-Key: the payment already made
    due = payments.quote(cmd)
    return await _create(cmd, due.amount_tiyn, request, pool, actor, ctx)


async def _portal_payment(
    body: NewPayment,
    request: Request,
    response: Response,
    pool: PoolDep,
    actor: Actor,
    ctx: RequestContext,
    key: str | None,
) -> PaymentOut:
    """The portal pays the decided duty of an application it submitted (S004 p.7: "through the e-government
    payment gateway"); its own channel only, and one live payment per application: asked again, it gets the one
    made (to pay on its page), and a new one only after a failed one."""
    if body.application_id is None:
        raise InvalidInput("the portal pays for an application it submitted", field="body.application_id")
    async with pool.acquire() as conn:
        decisions = await visible_decisions(
            PgStore(conn), body.application_id, role=actor.role, site=actor.site
        )
        live = await PgPayments(conn).live_payment_for(body.application_id)
    decision = decisions[0] if decisions else None
    amount = payments.due_for_application(decision, body.application_id)
    assert decision is not None
    if live is not None:
        response.status_code = 200
        return PaymentOut.of(live)
    now = clock.now()
    cmd = payments.StartPayment(
        payment_id=payment_id_for(PORTAL_CHANNEL, key) if key else str(uuid.uuid4()),
        service_id=decision.service_id,
        site_id=decision.centre_id,
        registry_office_id=decision.registry_office_id,
        variant=None,
        record_kind=None,
        on=now.astimezone(ALMATY).date(),
        now=now,
        correlation_id=ctx.correlation_id,
        actor=actor.id,
        application_id=decision.application_id,
        channel=PORTAL_CHANNEL,
    )
    return await _create(cmd, amount, request, pool, actor, ctx)


async def _create(
    cmd: payments.StartPayment,
    amount_tiyn: int,
    request: Request,
    pool: PoolDep,
    actor: Actor,
    ctx: RequestContext,
) -> PaymentOut:
    """Ask the gateway, then keep the payment: nothing is written before it answers (503 otherwise)."""
    gateway = _gateway(request)
    if not gateway.configured:
        raise _unavailable("not configured in this deployment")
    try:
        created = await payments.create_at_gateway(cmd, amount_tiyn, gateway)
    except GatewayUnavailable as exc:
        log.warning("payment_gateway_unavailable", error=str(exc))
        raise _unavailable(str(exc)) from exc
    async with pool.acquire() as conn, conn.transaction():
        saved = await payments.record_created(
            created, PgPayments(conn), correlation_id=ctx.correlation_id, actor=actor.id
        )
    return PaymentOut.of(saved)


@router.get(
    "/{payment_id}",
    response_model=PaymentOut,
    summary="One payment of the state duty",
    responses=problem_docs.declare(404),
)
async def get_payment(payment_id: str, pool: PoolDep, actor: ActorDep) -> PaymentOut:
    async with pool.acquire() as conn:
        found = await payments.visible_payment(PgPayments(conn), payment_id, role=actor.role, site=actor.site)
    return PaymentOut.of(found)


@router.post(
    "/{payment_id}/status-query",
    response_model=PaymentOut,
    summary="Ask the payment gateway for the payment's status (when its callback did not come)",
    responses=problem_docs.declare(404, 503),
)
async def query_status(payment_id: str, request: Request, pool: PoolDep, actor: ActorDep) -> PaymentOut:
    async with pool.acquire() as conn:
        found = await payments.visible_payment(PgPayments(conn), payment_id, role=actor.role, site=actor.site)
    if found.method != "payment_gateway":
        raise InvalidInput("only a payment-gateway payment has a status to ask for", field="path.payment_id")
    try:
        notice = await _gateway(request).status(found.payment_id)
    except GatewayUnavailable as exc:
        raise _unavailable(str(exc)) from exc
    async with pool.acquire() as conn, conn.transaction():
        store = PgPayments(conn)
        await payments.take_notice(notice, store, clock.now())
        moved = await store.payment(found.payment_id)
    assert moved is not None
    return PaymentOut.of(moved)


class BankPaymentIn(BaseModel):
    """The bank's payment document of an accepted application's duty (S004 p.7), recorded after acceptance."""

    model_config = ConfigDict(extra="forbid")

    application_id: Id
    bank: Code = Field(description="the payer's bank (BIC)", examples=["HSBKKZKX"])
    document_number: Id
    paid_on: dt.date
    amount_tiyn: int = Field(ge=1, le=MAX_TIYN)


@bank_router.post(
    "/bank-payments",
    status_code=201,
    response_model=PaymentOut,
    summary="Record the bank's payment document of an accepted application (after acceptance)",
    responses=problem_docs.declare(404, 409, 422),
)
async def record_bank_payment(
    body: BankPaymentIn, pool: PoolDep, actor: ActorDep, ctx: ContextDep
) -> PaymentOut:
    now = clock.now()
    if body.paid_on > now.astimezone(ALMATY).date():
        raise InvalidInput("a payment cannot be dated in the future", field="body.paid_on")
    async with pool.acquire() as conn, conn.transaction():
        decisions = await visible_decisions(
            PgStore(conn), body.application_id, role=actor.role, site=actor.site
        )
        if not decisions:
            raise problems.NotFound(
                f"no fee decision for application {body.application_id}", field="body.application_id"
            )
        doc = payments.BankDocument(
            application_id=body.application_id,
            bank=body.bank,
            document_number=body.document_number,
            paid_on=body.paid_on,
            amount_tiyn=body.amount_tiyn,
        )
        saved = await payments.record_bank_payment(
            doc, decisions[0], PgPayments(conn), now=now, correlation_id=ctx.correlation_id, actor=actor.id
        )
    return PaymentOut.of(saved)


@callback_router.post(
    CALLBACK_PATH,
    summary="The payment gateway's signed notice of a payment (public; HMAC over the exact body)",
    responses=problem_docs.declare(401, 422),
)
async def gateway_callback(
    request: Request,
    pool: PoolDep,
    x_payment_signature: Annotated[str | None, Header(alias=signature.HEADER, max_length=200)] = None,
) -> JSONResponse:
    body = await request.body()
    if not signature.verify(_gateway(request).key, body, x_payment_signature):
        # Nothing of a body that is not signed with our key is believed, logged or kept.
        raise problems.Unauthorized(
            f"the notice is not signed with this deployment's payment-gateway key ({signature.HEADER})"
        )
    try:
        data: Any = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("the notice is not a JSON object")
        notice = notice_from(data)
    except (ValueError, KeyError, TypeError) as exc:
        field = f"body.{exc.args[0]}" if isinstance(exc, KeyError) else "body"
        raise InvalidInput(f"the notice cannot be read: {exc}", field=field) from exc
    if len(notice.notice_id) > 200 or len(notice.order_id) > 200:
        raise InvalidInput("notice ids are at most 200 characters", field="body.notification_id")
    async with pool.acquire() as conn, conn.transaction():
        outcome = await payments.take_notice(notice, PgPayments(conn), clock.now())
    return JSONResponse({"notification_id": notice.notice_id, "outcome": outcome})


def _office_of(site: str) -> str | None:
    registry = sites.load()
    centre = registry.centre(site)
    if centre is not None:
        return centre.registry_office
    return site if registry.office(site) else None
