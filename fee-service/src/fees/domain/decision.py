"""A fee decision (решение о государственной пошлине) as recorded: one per application and kind, with the facts
it was decided on, so that a later change of the catalogue or the MRP table never rewrites it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

# Deterministic decision ids: one assessment per application, whatever delivers its submission again.
_DECISION_NS = uuid.UUID("b6d2a0f4-33c8-4e55-8d0e-6c1f5e9f2a71")

ASSESSED = "assessed"


def decision_id(application_id: str, kind: str) -> str:
    return str(uuid.uuid5(_DECISION_NS, f"{application_id}:{kind}"))


@dataclass(frozen=True)
class FeeDecision:
    decision_id: str
    application_id: str
    kind: str
    service_id: str
    service_valid_from: dt.date
    centre_id: str
    registry_office_id: str
    assessed_on: dt.date
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: Decimal
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    amount_tiyn: int
    basis: str
    # The S004 p.7 ground that made the duty 0 (ADR 0034); kept before the ids, which close the row.
    exemption: str | None
    source_event_id: str
    event_id: str
    # The channel the application came through (`portal` for the e-government portal), None before it was kept.
    channel: str | None = None
    # Whose hundredths `amount_tiyn` counts (ADR 0039): KZT, or KGS (tyiyn of som) for a Kyrgyz edition.
    currency: str = "KZT"
