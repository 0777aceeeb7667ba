"""What anyone holding a printed document may learn from its code, without signing in: that the platform issued
it, its kind, number and date, the site that issued it, and where the application stands now.

Nothing about people: no names, IINs, telephones, not even the service asked for (the secrecy of an adoption
is the law's; a paternity or a divorce is nobody else's business either). A code that is not ours gets the same "not known" as one of an application that is
gone, so a caller learns nothing from the difference.
"""

from __future__ import annotations

from typing import Any

from intake.app.unit_of_work import ApplicationRow
from intake.documents import layout
from intake.documents.codes import DocumentRef
from intake.domain import application as states

STATUS_NAMES: dict[str, dict[str, str]] = {
    states.ACCEPTED: {
        "ru": "Документы приняты",
        "kk": "Құжаттар қабылданды",
        "ky": "Документтер кабыл алынды",
    },
    states.ACCEPTANCE_REFUSED: {
        "ru": "Отказано в приёме документов",
        "kk": "Құжаттарды қабылдаудан бас тартылды",
        "ky": "Документтерди кабыл алуудан баш тартылды",
    },
    states.FORWARDED: {
        "ru": "На рассмотрении в отделе ЗАГС",
        "kk": "АХАТ бөлімінде қаралуда",
        "ky": "Каттоо органында каралууда",
    },
    states.READY_FOR_PICKUP: {
        "ru": "Результат готов к выдаче",
        "kk": "Нәтиже беруге дайын",
        "ky": "Жыйынтык берүүгө даяр",
    },
    states.ISSUED: {"ru": "Результат выдан", "kk": "Нәтиже берілді", "ky": "Жыйынтык берилди"},
    states.RETURNED_TO_REGISTRY: {
        "ru": "Результат передан на хранение в отдел ЗАГС",
        "kk": "Нәтиже АХАТ бөліміне сақтауға берілді",
        "ky": "Жыйынтык сактоого каттоо органына берилди",
    },
    states.RECALL_REQUESTED: {
        "ru": "Результат запрошен из отдела ЗАГС",
        "kk": "Нәтиже АХАТ бөлімінен сұратылды",
        "ky": "Жыйынтык каттоо органынан суралды",
    },
}


def issued_document(row: ApplicationRow, kind: str) -> dict[str, Any] | None:
    """The receipt or refusal receipt of `row` if `kind` is the document it got, else None."""
    if layout.kind_of(row.receipt, row.refusal_receipt) != kind:
        return None
    return row.refusal_receipt if kind == layout.REFUSAL_RECEIPT else row.receipt


def public_view(ref: DocumentRef, row: ApplicationRow) -> dict[str, Any] | None:
    """The verification answer, or None when the application did not get this kind of document."""
    issued = issued_document(row, ref.kind)
    if issued is None:
        return None
    at = issued["refused_at"] if ref.kind == layout.REFUSAL_RECEIPT else issued["accepted_at"]
    # Russian and the issuing site's state language: Kazakh, or Kyrgyz for a Kyrgyz centre (ADR 0039).
    langs = layout.languages_of(row.centre_id)
    status_names = STATUS_NAMES.get(row.status, {})
    return {
        "kind": ref.kind,
        "languages": list(langs),
        "title": {lang: layout.TITLES[ref.kind][lang] for lang in langs},
        "number": issued["number"],
        "issued_at": layout.when(at, layout.zone_of(row.centre_id)).isoformat(),
        "issuing_site": {
            "id": row.centre_id,
            "name": {lang: layout.site_name(row.centre_id, lang, with_address=False) for lang in langs},
        },
        "status": row.status,
        "status_name": {lang: status_names.get(lang, row.status) for lang in langs},
    }
