"""Verification codes: what the QR on a printed document carries after `/verify/`.

A code is the document's kind and the application's id with an HMAC-SHA256 tag (truncated to 128 bits, RFC 2104
§5) under the deployment's secret, in base64url. It names no person: the application id is a random UUID. It
cannot be guessed or made up: without the secret a forger must guess a 128-bit tag. No table is needed to look a
code up, so a code printed before a restore or on another instance verifies the same (docs/adr/0033).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

# One byte says which document of the application the paper is; the same id never gets two kinds' codes mixed up.
KINDS = ("receipt", "refusal_receipt", "registration_mark")
TAG_BYTES = 16
_DOMAIN = b"bt-document-code-v1:"  # a tag made here is no valid MAC of anything else keyed the same
CODE_LENGTH = 44  # base64url of 1 + 16 + 16 bytes, no padding
MAX_CODE_LENGTH = 64  # what a path may carry at all; longer is refused before any work
# The base64 decoder skips characters outside its alphabet; a code is checked against the alphabet first.
_CODE = re.compile(rf"[A-Za-z0-9_-]{{{CODE_LENGTH}}}")


@dataclass(frozen=True)
class DocumentRef:
    kind: str
    application_id: str


def _tag(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()[:TAG_BYTES]


def issue(ref: DocumentRef, secrets: Sequence[bytes]) -> str:
    """The code of a document, under the first (current) secret."""
    payload = bytes([KINDS.index(ref.kind)]) + uuid.UUID(ref.application_id).bytes
    raw = payload + _tag(secrets[0], payload)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def read(code: str, secrets: Sequence[bytes]) -> DocumentRef | None:
    """The document a code names, or None for anything not made with one of `secrets` — forged, mistyped or
    truncated alike, so the caller cannot tell a near miss from nonsense."""
    if not _CODE.fullmatch(code):
        return None
    try:
        raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    except (binascii.Error, ValueError):
        return None
    payload, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    if len(payload) != 17 or payload[0] >= len(KINDS):
        return None
    if not any(hmac.compare_digest(tag, _tag(secret, payload)) for secret in secrets):
        return None
    return DocumentRef(KINDS[payload[0]], str(uuid.UUID(bytes=payload[1:])))
