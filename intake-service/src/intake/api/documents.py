"""Printable documents of an application (receipt, refusal receipt, registration mark) as PDF or as their fields in
JSON, chosen by `Accept`; and the public verification of the code their QR carries (docs/adr/0033)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from btkernel.errors import DomainError
from btkernel.history import audit
from btkernel.service import ActorDep, ContextDep, PoolDep
from intake.api.deps import UowDep
from intake.documents import codes, pdf, use_cases
from intake.documents.layout import Lang
from intake.documents.use_cases import Verifier

router = APIRouter(prefix="/api/v1", tags=["documents"])

PDF, JSON = "application/pdf", "application/json"
# An Accept header longer than this, or with more ranges, is judged on what fits: a browser's is ~150 characters.
MAX_ACCEPT = 1000
MAX_RANGES = 32
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]+")

ApplicationId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
LangQuery = Annotated[
    Lang, Query(description="ru (default), or the site's state language: kk in Kazakhstan, ky in Kyrgyzstan")
]
AcceptHeader = Annotated[str | None, Header(alias="Accept")]


class NotAcceptable(DomainError):
    status = 406
    title = "Not acceptable"


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """RFC 9110 §12.5.1: the q of the most specific range that matches `offer`; 0 when none does."""
    kind = offer.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for media, q in ranges:
        rank = 2 if media == offer else 1 if media == f"{kind}/*" else 0 if media == "*/*" else -1
        if rank > best[0]:
            best = (rank, q)
    return best[1]


def _ranges(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept[:MAX_ACCEPT].split(",")[:MAX_RANGES]:
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        if media:
            out.append((media.lower(), q))
    return out


def negotiate(accept: str | None, offers: tuple[str, ...]) -> str | None:
    """The offer the caller prefers; ties go to the first offer (JSON: the API's own form), no Accept at all
    means anything. None when the caller takes none of them."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    scored = [(q, -i, o) for i, o in enumerate(offers) if (q := _quality(o, ranges)) > 0]
    return max(scored)[2] if scored else None


def _refuse(accept: str | None, detail: str) -> NotAcceptable:
    return NotAcceptable(
        detail,
        errors=[{"path": "header.accept", "reason": f"not one of {JSON}, {PDF}: {(accept or '')[:100]}"}],
        code="not_acceptable",
    )


def refuse_pdf_on_json_route(accept: str | None, application_id: str) -> None:
    """`GET /applications/{id}` is JSON only: a caller asking for a PDF there is told where the receipt is."""
    if negotiate(accept, (JSON,)) is None:
        raise _refuse(
            accept,
            f"the application is JSON; its receipt as PDF is GET /api/v1/applications/{application_id}/receipt",
        )


async def get_verifier(request: Request) -> Verifier:
    verifier: Verifier = request.app.state.document_verifier
    return verifier


VerifierDep = Annotated[Verifier, Depends(get_verifier)]


async def _answer(
    application_id: str,
    served: frozenset[str],
    action: str,
    lang: Lang,
    accept: str | None,
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
    verifier: Verifier,
) -> Response:
    media = negotiate(accept, (JSON, PDF))
    if media is None:
        raise _refuse(accept, f"this document is served as {JSON} or {PDF}")
    doc = await use_cases.document(actor, application_id, served, lang, uow, verifier)
    # A printed document carries names and phones: audited like the application itself (ADR 0030).
    await audit.record_read(
        pool,
        ctx,
        action=action,
        query={"application_id": application_id, "lang": lang},
        returned=[application_id],
    )
    if media == JSON:
        return JSONResponse(doc.as_json())
    name = _SAFE_FILE.sub("-", f"{doc.kind}-{doc.number}-{lang}") + ".pdf"
    return Response(
        pdf.render(doc),
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store"},
    )


_BOTH = {
    200: {
        "description": "the document as PDF (`Accept: application/pdf`) or its fields (`application/json`)",
        "content": {
            PDF: {"schema": {"type": "string", "format": "binary"}},
            JSON: {"schema": {"type": "object"}},
        },
    },
    406: {"description": "`Accept` names neither form"},
}


@router.get(
    "/applications/{application_id}/receipt",
    summary="The receipt, or the refusal receipt, of an application as PDF or JSON (S004 p.9(2))",
    response_class=Response,
    responses=_BOTH,  # type: ignore[arg-type]
)
async def receipt(
    application_id: ApplicationId,
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
    verifier: VerifierDep,
    lang: LangQuery = "ru",
    accept: AcceptHeader = None,
) -> Response:
    return await _answer(
        application_id,
        use_cases.RECEIPT_KINDS,
        "applications.receipt",
        lang,
        accept,
        uow,
        actor,
        pool,
        ctx,
        verifier,
    )


@router.get(
    "/applications/{application_id}/registration-mark",
    summary="The registry desk's registration mark of an application as PDF or JSON (S004 p.9(1))",
    response_class=Response,
    responses=_BOTH,  # type: ignore[arg-type]
)
async def registration_mark(
    application_id: ApplicationId,
    uow: UowDep,
    actor: ActorDep,
    pool: PoolDep,
    ctx: ContextDep,
    verifier: VerifierDep,
    lang: LangQuery = "ru",
    accept: AcceptHeader = None,
) -> Response:
    return await _answer(
        application_id,
        use_cases.MARK_KINDS,
        "applications.registration_mark",
        lang,
        accept,
        uow,
        actor,
        pool,
        ctx,
        verifier,
    )


@router.get(
    "/verify/{code}",
    summary="Whether a printed document is genuine, and where its application stands (no personal data)",
    response_model=dict[str, Any],
    responses={404: {"description": "the document is not known"}},
)
async def verify(
    code: Annotated[str, Path(max_length=codes.MAX_CODE_LENGTH)], uow: UowDep, verifier: VerifierDep
) -> JSONResponse:
    found = await use_cases.verify(code, uow, verifier)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})
