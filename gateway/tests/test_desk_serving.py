"""Serving the desk (issue 11, ADR 0032): `/` leads to it, its files come with a strict Content-Security-Policy
and revalidation, only the allow-listed vendor assets are served and nothing outside the folders, and /docs is
Swagger UI from local files only."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from gateway_fakes import FakeUpstreams, MemoryUsers, make_settings

from gateway.desk import serve
from gateway.main import build_app

VENDOR = serve.DEFAULT_VENDOR_DIR
needs_assets = pytest.mark.skipif(
    not (VENDOR / "swagger-ui-dist" / "swagger-ui-bundle.js").is_file(),
    reason="gateway/assets/node_modules is not installed: run `make desk-assets`",
)


async def test_the_root_and_the_bare_path_lead_to_the_desk(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    bare = await client.get("/desk")

    assert root.status_code == 302
    assert root.headers["location"] == "/desk/"
    assert bare.status_code == 301
    assert bare.headers["location"] == "/desk/"


async def test_the_desk_page_has_a_strict_policy_and_no_inline_script(client: httpx.AsyncClient) -> None:
    page = await client.get("/desk/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    # Every script is a file of this origin: no inline code for the policy to have to allow.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts
    assert all('src="/desk/' in attrs and not body.strip() for attrs, body in scripts)
    assert "http://" not in page.text
    assert "https://" not in page.text


async def test_app_files_are_served_with_their_type_and_revalidated(client: httpx.AsyncClient) -> None:
    script = await client.get("/desk/static/js/app.js")
    style = await client.get("/desk/static/css/desk.css")
    again = await client.get("/desk/static/js/app.js", headers={"If-None-Match": script.headers["etag"]})

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "export function route" in script.text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert "@media print" in style.text
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/desk/static/../serve.py",
        "/desk/static/%2e%2e/serve.py",
        "/desk/static/js/../../serve.py",
        "/desk/static/js/nothing-here.js",
        "/desk/static/js",
        "/desk/static/.hidden.js",
        "/desk/static/" + "a/" * 150 + "x.js",
    ],
)
async def test_nothing_outside_the_app_folder_or_missing_is_served(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert "import" not in response.text


async def test_only_the_app_file_types_are_served(
    tmp_path: Path, upstreams: FakeUpstreams, users: MemoryUsers
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("secret", encoding="utf-8")
    app = build_app(make_settings())
    # Put in front of the app's own desk routes, so these paths are answered from tmp_path.
    app.router.routes[:0] = serve.router(static_dir=tmp_path, vendor_dir=tmp_path).routes
    app.state.gateway.attach(users, upstreams.transport())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g.test") as client:
        assert (await client.get("/desk/static/notes.txt")).status_code == 404
        assert (await client.get("/desk/")).text == "<!doctype html>"
    await app.state.gateway.detach()


@pytest.mark.parametrize(
    "relative",
    [
        "../serve.py",
        "js/../../serve.py",
        "./index.html",
        "js//app.js",
        ".hidden",
        "js\\app.js",
        "js",
        "a\x00.js",
    ],
)
def test_a_path_that_leaves_the_folder_or_is_not_plain_finds_nothing(relative: str) -> None:
    # httpx and Starlette normalise `..` in a URL before routing; the guard must hold without them.
    assert serve._inside(serve.STATIC_DIR, relative) is None
    assert serve._inside(serve.STATIC_DIR, "js/app.js") == (serve.STATIC_DIR / "js" / "app.js").resolve()


def test_a_link_out_of_the_folder_finds_nothing(tmp_path: Path) -> None:
    (tmp_path / "outside.js").write_text("secret", encoding="utf-8")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link.js").symlink_to(tmp_path / "outside.js")

    assert serve._inside(tmp_path / "root", "link.js") is None


@needs_assets
async def test_allow_listed_vendor_assets_are_served(client: httpx.AsyncClient) -> None:
    for path in sorted(serve.VENDOR_ALLOW_LIST):
        response = await client.get(f"/desk/vendor/{path}")
        assert response.status_code == 200, path
        assert "max-age=86400" in response.headers["cache-control"]
    chart = await client.get("/desk/vendor/chart.js/dist/chart.umd.js")
    assert chart.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path",
    [
        "swagger-ui-dist/package.json",
        "swagger-ui-dist/swagger-ui.js.map",
        "chart.js/dist/chart.js",
        "axe-core/../../../src/gateway/settings.py",
        "../package-lock.json",
    ],
)
async def test_vendor_files_off_the_allow_list_are_refused(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/desk/vendor/{path}")

    assert response.status_code == 404


async def test_a_missing_asset_folder_says_how_to_install_it(
    tmp_path: Path, upstreams: FakeUpstreams, users: MemoryUsers
) -> None:
    app = build_app(make_settings(desk_assets_dir=str(tmp_path / "none")))
    app.state.gateway.attach(users, upstreams.transport())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g.test") as client:
        response = await client.get("/desk/vendor/axe-core/axe.min.js")
    await app.state.gateway.detach()

    assert response.status_code == 404
    assert "make desk-assets" in response.json()["detail"]


@needs_assets
async def test_docs_load_swagger_ui_from_local_files_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    for url in urls:
        if url.startswith("/") and url != "/openapi.json":
            assert (await client.get(url)).status_code == 200, url
    assert "cdn.jsdelivr.net" not in page.text
    assert (await client.get("/redoc")).status_code == 404
