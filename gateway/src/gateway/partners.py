"""What a partner agency's engineer fetches from the gateway without signing in (issue 9, "Partner contracts"):
the AsyncAPI document of the partner topics (civreg.partners.asyncapi) and the platform's partner signing keys as
a JSON Web Key Set (btkernel.signing). Both are public facts with no personal data, so no token is asked and the
answers are cacheable.

The keys come from BT_PARTNER_PUBLIC_KEYS_FILE (one or more Ed25519 public key PEMs, concatenated: the current key
and, during a rotation, the previous and the next). The file is read again when it changes, so a rotation needs no
restart. Without the file the set is empty in development and test; a production gateway refuses to start
(Settings.check_start): partners could verify nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from btkernel import signing
from civreg.partners import asyncapi

KEYS_PATH = asyncapi.KEYS_PATH
# Keys change rarely and a partner fetches again on an unknown kid; the document changes only with a release.
KEYS_CACHE = "public, max-age=300"
DOCUMENT_CACHE = "public, max-age=3600"
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def load_public_keys(path: str | Path) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key PEM in the file, in order. Raises ValueError on a file with none or with a key
    that is not Ed25519, OSError when it cannot be read."""
    text = Path(path).read_text(encoding="ascii")
    blocks = _PEM.findall(text)
    if not blocks:
        raise ValueError(f"{path}: no public key PEM (-----BEGIN PUBLIC KEY-----)")
    return [signing.load_public_pem(block) for block in blocks]


@dataclass
class KeyFile:
    """The key file, read again whenever its modification time or size changes. `path` empty: no keys."""

    path: str
    _seen: tuple[int, int] | None = None
    _keys: list[Ed25519PublicKey] = field(default_factory=list)

    def keys(self) -> list[Ed25519PublicKey]:
        if not self.path:
            return []
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            # Development: the registry writes its key when it first starts, maybe after the gateway.
            self._seen, self._keys = None, []
            return []
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._keys = load_public_keys(self.path)
            self._seen = seen
        return self._keys


class JwkSetResponse(JSONResponse):
    media_type = "application/jwk-set+json"  # RFC 7517 §8.5.1


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")
    kty: str = Field(description="OKP (RFC 8037)")
    crv: str = Field(description="Ed25519")
    x: str = Field(description="the public key, base64url without padding")
    kid: str = Field(description="the key id partner events name in their `btkeyid` attribute")
    alg: str = "EdDSA"
    use: str = "sig"


class Jwks(BaseModel):
    """The platform's partner signing keys (RFC 7517 JSON Web Key Set)."""

    keys: list[Jwk]


@cache
def _document() -> dict[str, Any]:
    return asyncapi.generate()


@cache
def _document_yaml() -> str:
    return asyncapi.to_yaml(_document())


def router(key_file: KeyFile) -> APIRouter:
    """The public partner routes; `key_file` is the gateway's reader of BT_PARTNER_PUBLIC_KEYS_FILE."""
    api = APIRouter(tags=["partners"])

    @api.get(
        KEYS_PATH,
        summary="The platform's partner signing keys (JWKS)",
        description="Ed25519 public keys (RFC 8037) that verify the `btsignature` of every partner event; "
        "`kid` is the event's `btkeyid`. No sign-in needed.",
        response_model=Jwks,
        response_class=JwkSetResponse,
    )
    async def partner_keys() -> JwkSetResponse:
        return JwkSetResponse(signing.jwks(key_file.keys()), headers={"Cache-Control": KEYS_CACHE})

    @api.get(
        "/partners/asyncapi.json",
        summary="The AsyncAPI 3 document of the partner topics (JSON)",
        description="Channels (one Kafka topic per agency), messages (signed CloudEvents) and their schemas. "
        "No sign-in needed.",
        response_model=dict[str, Any],
    )
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(_document(), headers={"Cache-Control": DOCUMENT_CACHE})

    @api.get(
        "/partners/asyncapi.yaml",
        summary="The AsyncAPI 3 document of the partner topics (YAML, as committed)",
        description="The same document as `/partners/asyncapi.json`. No sign-in needed.",
        response_class=Response,
        responses={200: {"content": {"application/yaml": {"schema": {"type": "object"}}}}},
    )
    async def asyncapi_yaml() -> Response:
        return Response(
            _document_yaml(), media_type="application/yaml", headers={"Cache-Control": DOCUMENT_CACHE}
        )

    return api
