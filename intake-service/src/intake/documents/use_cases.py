"""Reading the printable documents: an application's own document, for those who may read the application, and
the public verification of a code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from btkernel.context import Actor
from btkernel.errors import NotFound
from intake.app.queries import get_application
from intake.app.unit_of_work import IntakeUnitOfWork
from intake.documents import codes, layout, verification
from intake.documents.layout import Lang, PrintedDocument

# What each document route serves; the other kinds are named in the 404 so a desk finds the right one.
RECEIPT_KINDS = frozenset({layout.RECEIPT, layout.REFUSAL_RECEIPT})
MARK_KINDS = frozenset({layout.REGISTRATION_MARK})
UNKNOWN = "this document is not known"


@dataclass(frozen=True)
class Verifier:
    """Makes and reads the codes on printed documents, and the addresses the QR leads to."""

    public_url: str
    secrets: Sequence[bytes]

    def url(self, ref: codes.DocumentRef) -> str:
        return f"{self.public_url.rstrip('/')}/verify/{codes.issue(ref, self.secrets)}"

    def read(self, code: str) -> codes.DocumentRef | None:
        return codes.read(code, self.secrets)


async def document(
    actor: Actor,
    application_id: str,
    served: frozenset[str],
    lang: Lang,
    uow: IntakeUnitOfWork,
    verifier: Verifier,
) -> PrintedDocument:
    """The document the application got, if it is one of the `served` kinds; the site scoping is the
    application's (404 for another site's: ids of other sites leak nothing)."""
    row = await get_application(actor, application_id, uow)
    kind = layout.kind_of(row.receipt, row.refusal_receipt)
    if kind is None or kind not in served:
        where = "registration-mark" if kind == layout.REGISTRATION_MARK else "receipt"
        raise NotFound(
            f"application {application_id} got a {kind or 'no document'}"
            + (f": GET /api/v1/applications/{application_id}/{where}" if kind else ""),
            code="other_document",
        )
    issued = verification.issued_document(row, kind)
    assert issued is not None
    # Russian and the state language of the site's country (a Kyrgyz centre: ru or ky, ADR 0039).
    layout.check_language(row.centre_id, lang)
    # The duty quoted at acceptance travels in the receipt (ADR 0034); a view may carry it beside.
    state_duty: dict[str, Any] | None = issued.get("state_duty") or getattr(row, "state_duty", None)
    return layout.build(
        kind=kind,
        issued=issued,
        site_id=row.centre_id,
        lang=lang,
        verify_url=verifier.url(codes.DocumentRef(kind, row.application_id)),
        state_duty=state_duty,
    )


async def verify(code: str, uow: IntakeUnitOfWork, verifier: Verifier) -> dict[str, Any]:
    """The public facts of the document a code names; one and the same 404 for whatever is not ours."""
    ref = verifier.read(code)
    if ref is None:
        raise NotFound(UNKNOWN, code="unknown_document")
    async with uow:
        row = await uow.applications.get(ref.application_id)
    found = verification.public_view(ref, row) if row is not None else None
    if found is None:
        raise NotFound(UNKNOWN, code="unknown_document")
    return found
