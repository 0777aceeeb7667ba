"""Names the messages print, from the service catalogue (`civreg.catalogue`, the edition in force on the date):
the service's and the documents' names in Russian and Kazakh."""

from __future__ import annotations

import datetime as dt

from civreg import catalogue
from civreg.events.values import PresentedDocument
from notification.domain.messages import DocumentName


def service_names(service_id: str, on: dt.date, fallback: str) -> tuple[str, str]:
    """Russian and Kazakh names of the service edition in force on `on`; the receipt's name when unknown."""
    service = catalogue.load().get(service_id, on=on)
    if service is None:
        return fallback, fallback
    return service.names.ru, service.names.kk


def document_names(service_id: str, on: dt.date, documents: list[PresentedDocument]) -> list[DocumentName]:
    """Names of the documents in both languages: the catalogue's checklist has them; the event only in one."""
    service = catalogue.load().get(service_id, on=on)
    known = {d.code: d.name for d in service.documents} if service else {}
    out = []
    for doc in documents:
        names = known.get(doc.code)
        out.append(
            DocumentName(ru=names.ru, kk=names.kk) if names else DocumentName(ru=doc.name, kk=doc.name)
        )
    return out
