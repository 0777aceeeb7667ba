"""Names the messages print, from the service catalogue (`civreg.catalogue`): the edition of the accepting site's
country in force on the site's date (ADR 0039), the service's and the documents' names in Russian and the state
language — Kazakh, or Kyrgyz for a Kyrgyz centre's applicant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from civreg import catalogue, sites
from civreg.events.values import PresentedDocument
from notification.domain.messages import DocumentName, StateLang


@dataclass(frozen=True)
class ServiceNames:
    ru: str
    kk: str
    ky: str
    # The state language the applicant's messages print beside Russian.
    lang: StateLang


def language_of(site_id: str | None) -> StateLang:
    """Kyrgyz for a site in Kyrgyzstan, Kazakh otherwise (an unknown site is Kazakh, as everywhere)."""
    return "ky" if sites.load().country_of(site_id) == "KG" else "kk"


def service_names(service_id: str, at: dt.datetime, site_id: str, fallback: str) -> ServiceNames:
    """The names of the service edition the site applied at `at`; the receipt's name when unknown."""
    lang = language_of(site_id)
    service = catalogue.load().at_site(service_id, at, site_id)
    if service is None:
        return ServiceNames(ru=fallback, kk=fallback, ky=fallback, lang=lang)
    names = service.names
    return ServiceNames(ru=names.ru, kk=names.kk, ky=names.ky or "", lang=lang)


def document_names(
    service_id: str, at: dt.datetime, site_id: str, documents: list[PresentedDocument]
) -> list[DocumentName]:
    """Names of the documents in each language: the catalogue's checklist has them; the event only in one."""
    service = catalogue.load().at_site(service_id, at, site_id)
    known = {d.code: d.name for d in service.documents} if service else {}
    out = []
    for doc in documents:
        names = known.get(doc.code)
        out.append(
            DocumentName(ru=names.ru, kk=names.kk, ky=names.ky or "")
            if names
            else DocumentName(ru=doc.name, kk=doc.name, ky=doc.name)
        )
    return out
