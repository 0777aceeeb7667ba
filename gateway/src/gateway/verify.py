"""`GET /verify/{code}`: the page a printed document's QR code opens, public and without sign-in (issue 11,
docs/adr/0033-printable-documents.md). It says, in Russian and Kazakh (Kyrgyz for a Kyrgyz centre's), whether the platform issued the document,
its kind, number and date, the site that issued it and where the application stands now — never a name, an IIN
or a telephone. `GET /verify/{code}.json` is the same for a program.

The gateway keeps nothing: it asks intake (`GET /api/v1/verify/{code}`, which every role and no role may call)
for each request. A code intake does not know — forged, mistyped, of an application gone — is one and the same
404 "not known", with no reason.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from btkernel import logging as btlog
from btkernel import problems
from btkernel.service import get_context
from gateway.routes import INTAKE
from gateway.state import Gateway, GatewayDep

log = btlog.get(__name__)

router = APIRouter(tags=["verification"])

# A code is base64url (intake.documents.codes); anything else is not known without asking intake.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
RETRY_AFTER_S = 5
# The status may change (ready, issued): never cached; the code in the address is not sent on to other sites.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
# A document unknown or the check away: the site is not known, so every language the platform prints in.
NOT_KNOWN = {
    "ru": "Документ не известен: платформа такого документа не выдавала.",
    "kk": "Құжат белгісіз: платформа мұндай құжат бермеген.",
    "ky": "Документ белгисиз: платформа мындай документ берген эмес.",
}
UNAVAILABLE = {
    "ru": "Проверка временно недоступна. Повторите позже.",
    "kk": "Тексеру уақытша қолжетімсіз. Кейінірек қайталаңыз.",
    "ky": "Текшерүү убактылуу жеткиликсиз. Кийинчерээк кайталаңыз.",
}
HEADING = {"ru": "Проверка документа", "kk": "Құжатты тексеру", "ky": "Документти текшерүү"}
LABELS = {
    "title": {"ru": "Документ", "kk": "Құжат", "ky": "Документ"},
    "number": {"ru": "Номер", "kk": "Нөмірі", "ky": "Номери"},
    "issued_at": {"ru": "Дата и время", "kk": "Күні мен уақыты", "ky": "Күнү жана убактысы"},
    "site": {"ru": "Выдан", "kk": "Берген орын", "ky": "Берген жер"},
    "status": {"ru": "Состояние заявления", "kk": "Өтініштің күйі", "ky": "Арыздын абалы"},
}
GENUINE = {
    "ru": "Документ выдан платформой «Бір терезе».",
    "kk": "Құжатты «Бір терезе» платформасы берген.",
    "ky": "Документти «Бір терезе» платформасы берген.",
}
# Intake names the issuing site's languages (Russian and its country's: kk, or ky for a Kyrgyz centre, ADR 0039);
# an answer from before it did is Kazakh.
DEFAULT_LANGS = ("ru", "kk")


class Unknown(Exception):
    """Intake does not know the code."""


async def _ask_intake(request: Request, gateway: Gateway, code: str) -> dict[str, Any]:
    """Intake's answer; Unknown for a code it does not know, httpx errors for an intake that is away."""
    if not _CODE.fullmatch(code):
        raise Unknown
    ctx = get_context(request)
    url = f"{gateway.upstreams[INTAKE].rstrip('/')}/api/v1/verify/{code}"
    # No internal token: nobody is acting, and intake's route is open to no one in particular.
    headers = {"X-Request-Id": ctx.request_id or ctx.correlation_id, "X-Correlation-Id": ctx.correlation_id}
    response = await gateway.send(INTAKE, "GET", url, content=None, headers=headers)
    if response.status_code in (404, 422):
        raise Unknown
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("intake's verification answer is not an object")
    return body


def _when(value: str) -> str:
    return dt.datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M")


def _page(status: int, sections: dict[str, str]) -> HTMLResponse:
    parts = "".join(f'<section lang="{lang}">{body}</section>' for lang, body in sections.items())
    text = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{' / '.join(HEADING[lang] for lang in sections)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
        "section{border-top:1px solid #ccc;padding:1em 0}dt{font-weight:bold}dd{margin:0 0 .6em 0}</style>"
        f"</head><body><main>{parts}</main></body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def _facts(found: dict[str, Any], lang: str) -> str:
    def pick(value: Any) -> str:
        return str(value.get(lang, "")) if isinstance(value, dict) else str(value)

    rows = [
        ("title", pick(found.get("title"))),
        ("number", str(found.get("number", ""))),
        ("issued_at", _when(str(found.get("issued_at")))),
        ("site", pick((found.get("issuing_site") or {}).get("name"))),
        ("status", pick(found.get("status_name"))),
    ]
    items = "".join(
        f"<dt>{html.escape(LABELS[key][lang])}</dt><dd>{html.escape(value)}</dd>" for key, value in rows
    )
    return f"<h1>{HEADING[lang]}</h1><p>{GENUINE[lang]}</p><dl>{items}</dl>"


def _message(messages: dict[str, str]) -> dict[str, str]:
    return {lang: f"<h1>{HEADING[lang]}</h1><p>{html.escape(text)}</p>" for lang, text in messages.items()}


@router.get(
    "/verify/{code}.json",
    summary="A printed document's verification as JSON (kind, number, date, site, status; no personal data)",
    response_model=dict[str, Any],
    responses={404: {"description": "the document is not known"}},
)
async def verify_json(code: str, request: Request, gateway: GatewayDep) -> Response:
    try:
        found = await _ask_intake(request, gateway, code)
    except Unknown:
        return problems.problem_response(
            404, "Not found", "this document is not known", request.url.path, code="unknown_document"
        )
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("verification_unavailable", error=repr(exc))
        return problems.unavailable_response(
            "verification is unavailable for the moment", request.url.path, retry_after_s=RETRY_AFTER_S
        )
    return JSONResponse(found, headers=_HEADERS)


@router.get(
    "/verify/{code}",
    summary="The page a printed document's QR code opens (Russian and the site's state language; no personal data)",
    response_class=HTMLResponse,
    # A page for people: "not known" and "unavailable" are pages too, not problem documents.
    responses={
        404: {"description": "the document is not known", "content": {"text/html": {}}},
        503: {
            "description": "verification is unavailable for the moment (Retry-After)",
            "content": {"text/html": {}},
        },
    },
)
async def verify_page(code: str, request: Request, gateway: GatewayDep) -> HTMLResponse:
    try:
        found = await _ask_intake(request, gateway, code)
    except Unknown:
        return _page(404, _message(NOT_KNOWN))
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("verification_unavailable", error=repr(exc))
        page = _page(503, _message(UNAVAILABLE))
        page.headers["Retry-After"] = str(RETRY_AFTER_S)
        return page
    return _page(200, {lang: _facts(found, lang) for lang in _languages(found)})


def _languages(found: dict[str, Any]) -> tuple[str, ...]:
    """The page's languages, as intake names them, of those this page has texts for."""
    asked = found.get("languages")
    if not isinstance(asked, list):
        return DEFAULT_LANGS
    known = tuple(lang for lang in asked if lang in HEADING)
    return known or DEFAULT_LANGS
