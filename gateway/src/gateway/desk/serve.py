"""Serving the desk: `/` and `/desk` lead to `/desk/`, the app's own files under `/desk/static/`, and an allow-list
of third-party browser assets under `/desk/vendor/` (ADR 0032).

No build step: the files are served as they are in the package, so every response is revalidated (ETag) rather
than cached for long; the vendor files are pinned by `gateway/assets/package-lock.json` and may be kept a day.
Every answer carries a Content-Security-Policy that allows scripts, styles and connections to this origin only:
an injected `<script>` or a link to a CDN does not run.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from btkernel import problems

STATIC_DIR = Path(__file__).parent / "static"

# The asset folder of this checkout: gateway/assets/node_modules, filled by `make desk-assets`.
DEFAULT_VENDOR_DIR = Path(__file__).resolve().parents[3] / "assets" / "node_modules"

# The only third-party files served, each by its path under node_modules: Chart.js's UMD build (window.Chart) for
# the supervisor's charts, axe-core for the accessibility tests, Swagger UI for /docs.
VENDOR_ALLOW_LIST = frozenset(
    {
        "chart.js/dist/chart.umd.js",
        "axe-core/axe.min.js",
        "swagger-ui-dist/swagger-ui.css",
        "swagger-ui-dist/swagger-ui-bundle.js",
        "swagger-ui-dist/swagger-ui-standalone-preset.js",
        "swagger-ui-dist/favicon-16x16.png",
        "swagger-ui-dist/favicon-32x32.png",
    }
)
# What the desk's own folder may hold; anything else there (an editor's backup, a .map) is not served.
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# Bounded: no path of the app is longer, and a longer one is not looked up on disk at all.
PATH_MAX = 200

# default-src 'self' with nothing inline: scripts and styles come from files of this origin only. img-src also
# allows data: and blob: (Chart.js renders to a canvas it may export; PDFs open as blob: URLs).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
APP_CACHE = "no-cache"  # revalidate each time: a deployment changes these files under the same names
VENDOR_CACHE = "public, max-age=86400"


def _etag(path: Path) -> str:
    stat = path.stat()
    digest = hashlib.sha256(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _file(request: Request, path: Path, media_type: str, cache: str) -> Response:
    etag = _etag(path)
    headers = {**SECURITY_HEADERS, "Cache-Control": cache, "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)


def _inside(root: Path, relative: str) -> Path | None:
    """The file `relative` names under `root`, or None when it is not a plain file there (a `..`, a link out)."""
    if len(relative) > PATH_MAX or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(p in {"", ".", ".."} or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def router(*, static_dir: Path = STATIC_DIR, vendor_dir: Path = DEFAULT_VENDOR_DIR) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/desk/", status_code=302)

    @routes.get("/desk")
    async def desk_without_slash() -> RedirectResponse:
        return RedirectResponse("/desk/", status_code=301)

    @routes.get("/desk/")
    async def index(request: Request) -> Response:
        return _file(request, static_dir / "index.html", STATIC_TYPES[".html"], APP_CACHE)

    @routes.get("/desk/static/{path:path}")
    async def static(request: Request, path: str) -> Response:
        found = _inside(static_dir, path)
        media_type = STATIC_TYPES.get(Path(path).suffix)
        if found is None or media_type is None:
            raise problems.NotFound(f"no file {path[:PATH_MAX]!r} in the desk")
        return _file(request, found, media_type, APP_CACHE)

    @routes.get("/desk/vendor/{path:path}")
    async def vendor(request: Request, path: str) -> Response:
        if path not in VENDOR_ALLOW_LIST:
            raise problems.NotFound(f"{path[:PATH_MAX]!r} is not one of the browser assets the desk serves")
        found = _inside(vendor_dir, path)
        if found is None:
            raise problems.NotFound(f"{path} is missing from {vendor_dir}: run `make desk-assets`")
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        return _file(request, found, media_type, VENDOR_CACHE)

    return routes


def vendor_dir_from(setting: str) -> Path:
    """The asset folder a setting names, or this checkout's."""
    return Path(setting) if setting else DEFAULT_VENDOR_DIR
