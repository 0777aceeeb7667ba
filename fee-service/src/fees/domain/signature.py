"""The payment gateway's message signature (ADR 0034): HMAC-SHA256 over the exact bytes of the body, with the key
of this deployment, in the header `X-Payment-Signature: sha256=<hex>`. Checked before a byte of the body is
parsed; compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Payment-Signature"
_SCHEME = "sha256="


def sign(key: bytes, body: bytes) -> str:
    return _SCHEME + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(key: bytes, body: bytes, header: str | None) -> bool:
    if not key or not header or not header.startswith(_SCHEME):
        return False
    return hmac.compare_digest(sign(key, body), header.strip())
