"""The keys seals are signed and checked with: the platform's partner signing key (BT_PARTNER_SIGNING_KEY_FILE,
made by btdeploy), whose public half the gateway publishes as `/.well-known/bt-partner-keys.json`."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from btkernel import signing

_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def private_key(path: str) -> Ed25519PrivateKey | None:
    return signing.load_private_key(Path(path)) if path else None


def by_id(keys: list[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {signing.key_id(k): k for k in keys}


def from_pem_file(path: str) -> dict[str, Ed25519PublicKey]:
    """Every public key PEM in the file (several during a rotation)."""
    return by_id([signing.load_public_pem(b) for b in _PEM.findall(Path(path).read_text(encoding="ascii"))])


def from_jwks(location: str) -> dict[str, Ed25519PublicKey]:
    """The published key set, from a file or an http(s) URL (the gateway's well-known document)."""
    if location.startswith(("http://", "https://")):
        with urllib.request.urlopen(location, timeout=10) as answer:
            document = json.load(answer)
    else:
        document = json.loads(Path(location).read_text(encoding="utf-8"))
    return signing.keys_from_jwks(document)
