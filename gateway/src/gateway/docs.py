"""GET /openapi.json: the merged public document; GET /docs: Swagger UI over it, from the gateway's own copy of
swagger-ui-dist (`/desk/vendor/...`, gateway.desk.serve) rather than FastAPI's default CDN, so it works offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway import openapi
from gateway.state import GatewayDep

router = APIRouter()

SWAGGER = "/desk/vendor/swagger-ui-dist"
OAUTH2_REDIRECT = (
    "/docs/oauth2-redirect"  # FastAPI's own page (no external asset), kept by the composition root
)


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request, gateway: GatewayDep) -> JSONResponse:
    services = {name: gateway.upstreams[name] for name in gateway.table.services()}
    docs, unavailable = await gateway.openapi.get(
        gateway.http, services, timeout_s=gateway.settings.upstream_probe_timeout_s
    )
    # The gateway's own part comes from FastAPI (auth and health); FastAPI caches it after the first call.
    own = request.app.openapi()
    return JSONResponse(openapi.merge(own, docs, gateway.table, unavailable=unavailable))


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Bir Tereze — API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT,
    )
