"""The public partner routes: the AsyncAPI document and the JWKS of the partner signing keys, without sign-in,
cacheable, following the key file through a rotation; a production gateway without the keys does not start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from gateway_fakes import FakeUpstreams, MemoryUsers, make_settings

from btkernel import signing
from civreg.partners import asyncapi
from gateway import partners
from gateway.main import build_app


def _pem_file(path: Path, *keys: Ed25519PrivateKey) -> Path:
    path.write_text("".join(signing.public_pem(k) for k in keys), encoding="ascii")
    return path


async def _client(app: FastAPI, upstreams: FakeUpstreams, users: MemoryUsers) -> httpx.AsyncClient:
    app.state.gateway.attach(users, upstreams.transport())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def test_the_asyncapi_document_without_sign_in(client: httpx.AsyncClient) -> None:
    as_yaml = await client.get("/partners/asyncapi.yaml")
    as_json = await client.get("/partners/asyncapi.json")

    assert as_yaml.status_code == as_json.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert "max-age" in as_yaml.headers["cache-control"]
    # Served is exactly what is committed.
    assert as_yaml.text == asyncapi.DOCUMENT.read_text(encoding="utf-8")
    assert as_json.json() == yaml.safe_load(as_yaml.text)
    assert as_json.json()["asyncapi"] == "3.0.0"


async def test_the_key_set_follows_the_key_file(
    tmp_path: Path, upstreams: FakeUpstreams, users: MemoryUsers
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    key_file = _pem_file(tmp_path / "partner-keys.pem", old)
    app = build_app(make_settings(partner_public_keys_file=str(key_file)))
    async with await _client(app, upstreams, users) as client:
        first = await client.get("/.well-known/bt-partner-keys.json")

        assert first.status_code == 200
        assert first.headers["content-type"].startswith("application/jwk-set+json")
        assert first.headers["cache-control"] == partners.KEYS_CACHE
        published = signing.keys_from_jwks(first.json())
        assert list(published) == [signing.key_id(old.public_key())]
        # A partner verifies an event we signed with the published key.
        event = signing.sign({"id": "e-1", "data": {"record_id": "r-1"}}, old)
        signing.verify(event, published)

        # Rotation: the new key joins the file; the gateway serves both without a restart.
        _pem_file(key_file, old, new)
        second = signing.keys_from_jwks((await client.get("/.well-known/bt-partner-keys.json")).json())
        assert set(second) == {signing.key_id(old.public_key()), signing.key_id(new.public_key())}
    await app.state.gateway.detach()


async def test_no_key_file_is_an_empty_set_in_test(
    tmp_path: Path, upstreams: FakeUpstreams, users: MemoryUsers
) -> None:
    for unset in ("", str(tmp_path / "not-yet-written.pem")):
        app = build_app(make_settings(partner_public_keys_file=unset))
        async with await _client(app, upstreams, users) as client:
            response = await client.get("/.well-known/bt-partner-keys.json")
        await app.state.gateway.detach()
        assert response.status_code == 200
        assert response.json() == {"keys": []}


def test_a_production_gateway_without_partner_keys_does_not_start(tmp_path: Path) -> None:
    # jwt_secret is a real one in make_settings; the internal token key file is set.
    base = {"env": "production"}
    with pytest.raises(ValueError, match="BT_PARTNER_PUBLIC_KEYS_FILE"):
        make_settings(**base, partner_public_keys_file="").check_start()
    with pytest.raises(FileNotFoundError):
        make_settings(**base, partner_public_keys_file=str(tmp_path / "absent.pem")).check_start()
    empty = tmp_path / "empty.pem"
    empty.write_text("not a key\n")
    with pytest.raises(ValueError, match="no public key"):
        make_settings(**base, partner_public_keys_file=str(empty)).check_start()
    good = _pem_file(tmp_path / "keys.pem", Ed25519PrivateKey.generate())
    make_settings(**base, partner_public_keys_file=str(good)).check_start()


async def test_the_partner_routes_are_public_operations_of_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get("/openapi.json")).json()
    for path in ("/.well-known/bt-partner-keys.json", "/partners/asyncapi.json", "/partners/asyncapi.yaml"):
        operation = doc["paths"][path]["get"]
        assert "security" not in operation, path
        assert operation["tags"] == ["partners"]
    keys = doc["paths"]["/.well-known/bt-partner-keys.json"]["get"]["responses"]["200"]["content"]
    assert list(keys) == ["application/jwk-set+json"]
