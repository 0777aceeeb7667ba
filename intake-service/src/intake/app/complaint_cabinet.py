"""What the portal applicant sees of a complaint in the personal cabinet (S004 p.11, services.md §6): "information
updated during processing: delivery, registration, execution marks, the answer on review or the refusal to
review". Only complaints sent through the portal, and the quality-control complaint escalated from one."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from btkernel.envelope import Envelope
from civreg.calendar import ALMATY
from civreg.events import Event, parse
from civreg.events.complaint import (
    ComplaintAnswered,
    ComplaintEscalated,
    ComplaintExecutionMarked,
    ComplaintFiled,
    ComplaintRegistered,
    ComplaintReviewRefused,
)

HANDLED_TYPES = [
    ComplaintFiled.TYPE,
    ComplaintRegistered.TYPE,
    ComplaintExecutionMarked.TYPE,
    ComplaintAnswered.TYPE,
    ComplaintReviewRefused.TYPE,
    ComplaintEscalated.TYPE,
]
MARK_TEXT = {
    "passed_to_executive": "передана исполнителю",
    "under_review": "на рассмотрении",
    "information_requested": "запрошены сведения",
}
ADDRESSEE_TEXT = {
    "provider": "руководителю услугодателя",
    "centre": "руководителю Центра",
    "quality_control": "в уполномоченный орган по оценке и контролю за качеством оказания государственных услуг",
}
DELIVERY_TEXT = {"post": "направлен по почте", "chancellery": "выдаётся в канцелярии"}


class ComplaintCabinet(Protocol):
    async def follows(self, complaint_id: str) -> bool: ...

    async def add(self, event_id: str, complaint_id: str, kind: str, text: str, at: dt.datetime) -> None: ...


def _on(at: dt.datetime) -> str:
    return f"{at.astimezone(ALMATY):%d.%m.%Y}"


def notice(event: Event) -> tuple[str, str, dt.datetime] | None:
    """(kind, text, moment) of the cabinet's notification of `event`."""
    if isinstance(event, ComplaintFiled):
        return "complaint_delivered", f"Жалоба доставлена {ADDRESSEE_TEXT[event.addressee]}", event.filed_at
    if isinstance(event, ComplaintRegistered):
        text = (
            f"Жалоба зарегистрирована: вх. № {event.incoming_number} от {_on(event.registered_at)}, "
            f"принял(а) {event.receiver_name}. Ответ до {_on(event.answer_due_at)}: по почте или {event.answer_place}"
        )
        return "complaint_registered", text, event.registered_at
    if isinstance(event, ComplaintExecutionMarked):
        mark = MARK_TEXT.get(event.mark) or event.note or event.mark
        return "complaint_execution_mark", f"Отметка об исполнении: {mark}", event.marked_at
    if isinstance(event, ComplaintAnswered):
        text = f"Ответ на жалобу ({DELIVERY_TEXT[event.delivery]}): {event.answer}"
        return "complaint_answered", text, event.answered_at
    if isinstance(event, ComplaintReviewRefused):
        return "complaint_review_refused", f"Отказ в рассмотрении жалобы: {event.reason}", event.refused_at
    if isinstance(event, ComplaintEscalated):
        text = f"Жалоба направлена {ADDRESSEE_TEXT['quality_control']}"
        return "complaint_escalated", text, event.escalated_at
    return None


async def record(cabinet: ComplaintCabinet, envelope: Envelope) -> None:
    """A notification for the complaint's event, if the cabinet follows the complaint."""
    event = parse(envelope.type, envelope.data)
    told = notice(event)
    if told is None:
        return
    if isinstance(event, ComplaintFiled):
        shown = event.channel == "portal" or (
            event.escalated_from is not None and await cabinet.follows(event.escalated_from)
        )
    else:
        shown = await cabinet.follows(envelope.subject)
    if shown:
        kind, text, at = told
        # Subject = complaint id (conventions.md, Kafka).
        await cabinet.add(envelope.id, envelope.subject, kind, text, at)
