"""Which fields each printed document carries, labelled in Russian or Kazakh, filled from the application as
issued (the receipt or refusal receipt stored when it was accepted or refused).

* Receipt (расписка), S004 p.9(2), services.md §3.1: number and date of acceptance; the service; number and names
  of the documents; date and place the result is issued; the worker who accepted; the applicant; the
  representative; their telephones. The portal's registration of an e-application prints the same fields.
* Refusal receipt (расписка об отказе), services.md §3.3: the sources do not give the form's content (App.3 to the
  Standard was not captured), so [assumption] the §3.1 fields that apply plus the missing documents and the ground.
* Registration mark (отметка о регистрации) at the registry desk, S004 p.9(1), S002/App.1 p.10: the date and time
  of acceptance, with the number, the service, the office and who accepted.

Kazakh texts of the service, the documents and the place come from the catalogue and the sites (the stored
receipt has the Russian ones, as issued). A Kyrgyz site's documents (ADR 0039) print in Russian or Kyrgyz (`ky`),
with the Kyrgyz edition's names, the site's local time (Bishkek) and the duty in som.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from btkernel.errors import InvalidInput
from civreg import catalogue, sites
from civreg.calendar import ALMATY
from workcal import zone

Lang = Literal["ru", "kk", "ky"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "ky")
# The languages a site's documents print in: Russian and the state language of the site's country.
LANGS_OF_COUNTRY: dict[str, tuple[Lang, ...]] = {"KZ": ("ru", "kk"), "KG": ("ru", "ky")}
RECEIPT, REFUSAL_RECEIPT, REGISTRATION_MARK = "receipt", "refusal_receipt", "registration_mark"

TITLES: dict[str, dict[Lang, str]] = {
    RECEIPT: {
        "ru": "Расписка о приёме документов",
        "kk": "Құжаттарды қабылдау туралы қолхат",
        "ky": "Документтерди кабыл алуу тууралуу тил кат",
    },
    REFUSAL_RECEIPT: {
        "ru": "Расписка об отказе в приёме документов",
        "kk": "Құжаттарды қабылдаудан бас тарту туралы қолхат",
        "ky": "Документтерди кабыл алуудан баш тартуу тууралуу тил кат",
    },
    REGISTRATION_MARK: {
        "ru": "Отметка о регистрации заявления",
        "kk": "Өтінішті тіркеу туралы белгі",
        "ky": "Арызды каттоо тууралуу белги",
    },
    # The portal's registration of a signed e-application (receipt form `e_registration`).
    "e_registration": {
        "ru": "Уведомление о регистрации электронного заявления",
        "kk": "Электрондық өтінішті тіркеу туралы хабарлама",
        "ky": "Электрондук арызды каттоо тууралуу билдирүү",
    },
}

LABELS: dict[str, dict[Lang, str]] = {
    "number": {"ru": "Номер", "kk": "Нөмірі", "ky": "Номери"},
    "accepted_at": {
        "ru": "Дата и время приёма",
        "kk": "Қабылданған күні мен уақыты",
        "ky": "Кабыл алынган күнү жана убактысы",
    },
    "refused_at": {
        "ru": "Дата и время отказа",
        "kk": "Бас тартылған күні мен уақыты",
        "ky": "Баш тартылган күнү жана убактысы",
    },
    "service": {
        "ru": "Вид государственной услуги",
        "kk": "Мемлекеттік көрсетілетін қызмет түрі",
        "ky": "Мамлекеттик кызматтын түрү",
    },
    "documents_count": {"ru": "Количество документов", "kk": "Құжаттар саны", "ky": "Документтердин саны"},
    "documents": {
        "ru": "Наименования документов",
        "kk": "Құжаттардың атаулары",
        "ky": "Документтердин аталыштары",
    },
    "missing_documents": {
        "ru": "Недостающие документы",
        "kk": "Жетіспейтін құжаттар",
        "ky": "Жетишпеген документтер",
    },
    "reason": {"ru": "Основание отказа", "kk": "Бас тарту негізі", "ky": "Баш тартуунун негизи"},
    "result_issue_date": {
        "ru": "Дата выдачи результата",
        "kk": "Нәтижені беру күні",
        "ky": "Жыйынтыкты берүү күнү",
    },
    "result_issue_place": {
        "ru": "Место выдачи результата",
        "kk": "Нәтижені беру орны",
        "ky": "Жыйынтыкты берүү орду",
    },
    "site": {"ru": "Место приёма", "kk": "Қабылдау орны", "ky": "Кабыл алуу орду"},
    "operator": {
        "ru": "Ф.И.О. работника, принявшего документы",
        "kk": "Құжаттарды қабылдаған қызметкердің Т.А.Ә.",
        "ky": "Документтерди кабыл алган кызматкердин аты-жөнү",
    },
    "applicant": {"ru": "Ф.И.О. заявителя", "kk": "Өтініш берушінің Т.А.Ә.", "ky": "Арыздануучунун аты-жөнү"},
    "representative": {"ru": "Ф.И.О. представителя", "kk": "Өкілдің Т.А.Ә.", "ky": "Өкүлдүн аты-жөнү"},
    "phones": {"ru": "Контактные телефоны", "kk": "Байланыс телефондары", "ky": "Байланыш телефондору"},
    "state_duty": {
        "ru": "Государственная пошлина к оплате",
        "kk": "Төленетін мемлекеттік баж",
        "ky": "Төлөнүүчү мамлекеттик алым",
    },
    "verify": {
        "ru": "Проверить подлинность документа",
        "kk": "Құжаттың түпнұсқалығын тексеру",
        "ky": "Документтин аныктыгын текшерүү",
    },
}
NONE: dict[Lang, str] = {"ru": "нет", "kk": "жоқ", "ky": "жок"}
# The unit the duty prints in, by the receipt's `state_duty.currency` (ADR 0039); absent: tenge.
CURRENCY: dict[str, dict[Lang, str]] = {
    "KZT": {"ru": "тг", "kk": "теңге", "ky": "теңге"},
    "KGS": {"ru": "сом", "kk": "сом", "ky": "сом"},
}
# The stored reason is the system's (English, with the rule); the paper says it in the applicant's language.
INCOMPLETE: dict[Lang, str] = {
    "ru": "неполный пакет документов (пункт 9 Стандарта государственной услуги)",
    "kk": "құжаттар топтамасы толық емес (мемлекеттік көрсетілетін қызмет стандартының 9-тармағы)",
}
# A Kyrgyz site's refusal cites no Kazakh standard: the Kyrgyz checklists are configuration to check (ADR 0039).
INCOMPLETE_KG: dict[Lang, str] = {
    "ru": "неполный пакет документов (перечень документов государственной услуги)",
    "ky": "документтердин топтому толук эмес (мамлекеттик кызматтын документтеринин тизмеси)",
}


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    value: str | list[str]


@dataclass(frozen=True)
class PrintedDocument:
    """A document as printed: its kind, title, number and the labelled lines in the order of the form."""

    kind: str
    lang: Lang
    title: str
    number: str
    issued_at: dt.datetime
    site_id: str
    lines: list[Line]
    verify_url: str
    verify_label: str = field(default="")

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lang": self.lang,
            "title": self.title,
            "number": self.number,
            "issued_at": self.issued_at.isoformat(),
            "site_id": self.site_id,
            "fields": [{"key": ln.key, "label": ln.label, "value": ln.value} for ln in self.lines],
            "verify_url": self.verify_url,
        }


def kind_of(receipt: dict[str, Any] | None, refusal_receipt: dict[str, Any] | None) -> str | None:
    """Which document the application got: a refusal receipt, a desk's registration mark, or a receipt."""
    if refusal_receipt is not None:
        return REFUSAL_RECEIPT
    if receipt is None:
        return None
    return REGISTRATION_MARK if receipt.get("form") == REGISTRATION_MARK else RECEIPT


def when(value: str | dt.datetime, where: ZoneInfo = ALMATY) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(where)


def local_time(value: str | dt.datetime, where: ZoneInfo = ALMATY) -> str:
    return when(value, where).strftime("%d.%m.%Y %H:%M")


def local_date(value: str) -> str:
    return dt.date.fromisoformat(value).strftime("%d.%m.%Y")


def money(amount_minor: int, lang: Lang, currency: str = "KZT") -> str:
    """Hundredths as whole units and hundredths ("1 500,00 сом"), in the receipt's currency."""
    whole, minor = divmod(amount_minor, 100)
    return f"{whole:,}".replace(",", " ") + f",{minor:02d} {CURRENCY[currency][lang]}"


def tenge(amount_tiyn: int, lang: Lang) -> str:
    return money(amount_tiyn, lang)


def _site(site_id: str) -> sites.Site | None:
    known = sites.load()
    return known.centre(site_id) or known.office(site_id)


def languages_of(site_id: str) -> tuple[Lang, ...]:
    """The languages the site's documents print in: Russian and its country's state language."""
    site = _site(site_id)
    return LANGS_OF_COUNTRY.get(site.country if site else catalogue.HOME_COUNTRY, LANGS_OF_COUNTRY["KZ"])


def check_language(site_id: str, lang: Lang) -> None:
    """A Kazakh site's document is not printed in Kyrgyz, nor a Kyrgyz one in Kazakh: refused naming the field."""
    offered = languages_of(site_id)
    if lang not in offered:
        raise InvalidInput(
            f"this document prints in {' or '.join(offered)} (the languages of the site's country)",
            field="query.lang",
        )


def _is_kg(site_id: str) -> bool:
    site = _site(site_id)
    return site is not None and site.country == "KG"


def zone_of(site_id: str) -> ZoneInfo:
    """The site's time zone: its documents print its local time (Bishkek for a Kyrgyz centre)."""
    site = _site(site_id)
    return zone(site.timezone) if site else ALMATY


def site_name(site_id: str, lang: Lang, *, with_address: bool = True) -> str:
    """The centre's or office's name in `lang` (the site that accepted and hands the result over)."""
    site = _site(site_id)
    if site is None:
        return site_id
    name = site.name.in_language(lang)
    return f"{name}, {site.address}" if with_address else name


def _service(service_id: str, at: dt.datetime, site_id: str) -> catalogue.StateService | None:
    # The edition of the site's country (ADR 0039): a Kyrgyz receipt names the Kyrgyz service and documents.
    return catalogue.load().at_site(service_id, at, site_id)


def _service_name(issued: dict[str, Any], service: catalogue.StateService | None, lang: Lang) -> str:
    if lang != "ru" and service is not None:
        return service.names.in_language(lang)
    return str(issued["service_name"])


def _document_names(
    listed: list[dict[str, Any]], service: catalogue.StateService | None, lang: Lang
) -> list[str]:
    names = {d.code: d.name.in_language(lang) for d in service.documents} if service and lang != "ru" else {}
    return [names.get(d["code"], d["name"]) for d in listed]


def build(
    *,
    kind: str,
    issued: dict[str, Any],
    site_id: str,
    lang: Lang,
    verify_url: str,
    state_duty: dict[str, Any] | None = None,
) -> PrintedDocument:
    """The document of `kind` from the receipt (or refusal receipt) as issued, in `lang`."""
    at = issued["refused_at"] if kind == REFUSAL_RECEIPT else issued["accepted_at"]
    where = zone_of(site_id)
    moment = when(at, where)
    service = _service(issued["service_id"], moment, site_id)
    title_key = issued.get("form") if issued.get("form") == "e_registration" else kind
    values: dict[str, str | list[str]] = {
        "number": str(issued["number"]),
        "service": _service_name(issued, service, lang),
        "operator": str(issued["operator_name"]),
        "applicant": str(issued["applicant_name"]),
        "representative": str(issued.get("representative_name") or NONE[lang]),
        "phones": ", ".join(issued.get("phones") or []) or NONE[lang],
        "documents_count": str(len(issued.get("documents") or [])),
        "documents": _document_names(issued.get("documents") or [], service, lang) or [NONE[lang]],
    }
    if kind == REFUSAL_RECEIPT:
        keys = [
            "number",
            "refused_at",
            "service",
            "documents_count",
            "documents",
            "missing_documents",
            "reason",
            "operator",
            "applicant",
            "representative",
            "phones",
        ]
        values["refused_at"] = local_time(at, where)
        values["missing_documents"] = _document_names(issued["missing_documents"], service, lang)
        reasons = INCOMPLETE_KG if _is_kg(site_id) else INCOMPLETE
        values["reason"] = reasons.get(lang, reasons["ru"])
    elif kind == REGISTRATION_MARK:
        keys = ["number", "accepted_at", "service", "site", "operator"]
        values["accepted_at"] = local_time(at, where)
        values["site"] = site_name(site_id, lang)
    else:
        keys = [
            "number",
            "accepted_at",
            "service",
            "documents_count",
            "documents",
            "result_issue_date",
            "result_issue_place",
            "operator",
            "applicant",
            "representative",
            "phones",
        ]
        values["accepted_at"] = local_time(at, where)
        values["result_issue_date"] = local_date(issued["result_issue_date"])
        # As issued in Russian; the Kazakh name of the same site from the reference data.
        values["result_issue_place"] = (
            str(issued["result_issue_place"]) if lang == "ru" else site_name(site_id, lang)
        )
        if state_duty and isinstance(state_duty.get("amount_tiyn"), int):
            # Printed only when the duty was quoted at acceptance (`Receipt.state_duty`, ADR 0034).
            keys.append("state_duty")
            values["state_duty"] = money(
                state_duty["amount_tiyn"], lang, str(state_duty.get("currency") or "KZT")
            )
    return PrintedDocument(
        kind=kind,
        lang=lang,
        title=TITLES[title_key or kind][lang],
        number=str(issued["number"]),
        issued_at=moment,
        site_id=site_id,
        lines=[Line(k, LABELS[k][lang], values[k]) for k in keys],
        verify_url=verify_url,
        verify_label=LABELS["verify"][lang],
    )
