"""Detached signatures of CloudEvents: the platform signs every partner event so an agency can prove where a fact
came from, years later, without asking us (the X-Road property).

The signature is over the event itself, not over the bytes on the wire: the RFC 8785 (JCS) canonical JSON of the
structured-mode event with every attribute but `btsignature` (so `btkeyid` and `data` are signed too). It travels
in two CloudEvents extension attributes:
* `btkeyid`: which platform key signed (the `kid` in the published key set), so keys can be rotated;
* `btsignature`: Ed25519 over the canonical bytes, base64url without padding.
The public keys are published as a JSON Web Key Set (RFC 7517/8037: kty OKP, crv Ed25519) at the gateway's
`/.well-known/bt-partner-keys.json`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_ATTR = "btsignature"
KEY_ID_ATTR = "btkeyid"


class SignatureInvalid(Exception):
    """The event was not signed by a key of the set, or was changed after signing; the message says which."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A key's id: the start of the SHA-256 of its raw public bytes (stable, needs no registry of names)."""
    return _b64url(hashlib.sha256(_raw_public(key)).digest())[:16]


def signed_bytes(event: Mapping[str, Any]) -> bytes:
    """What is signed: the canonical JSON of the event without its signature attribute."""
    return rfc8785.dumps({k: v for k, v in event.items() if k != SIGNATURE_ATTR})


def sign(event: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The event with `btkeyid` and `btsignature` added."""
    out = {k: v for k, v in event.items() if k != SIGNATURE_ATTR}
    out[KEY_ID_ATTR] = key_id(key.public_key())
    out[SIGNATURE_ATTR] = _b64url(key.sign(signed_bytes(out)))
    return out


def verify(event: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Raises SignatureInvalid unless a key of `keys` (by kid) signed exactly this event."""
    kid, signature = event.get(KEY_ID_ATTR), event.get(SIGNATURE_ATTR)
    if not isinstance(kid, str) or not isinstance(signature, str):
        raise SignatureInvalid(f"the event carries no {KEY_ID_ATTR}/{SIGNATURE_ATTR}")
    key = keys.get(kid)
    if key is None:
        raise SignatureInvalid(f"no published key {kid!r}")
    try:
        key.verify(_unb64url(signature), signed_bytes(event))
    except (InvalidSignature, ValueError) as exc:
        raise SignatureInvalid(
            "the signature does not match the event: it was altered or not signed by us"
        ) from exc


# -- key files and the published key set --------------------------------------------------------------------------


def new_key_file(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 private key written to `path` (PEM, PKCS#8, 0600), unless one is there: then that one."""
    if path.exists():
        return load_private_key(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_pem(text: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(text.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def jwks(keys: Iterable[Ed25519PublicKey]) -> dict[str, Any]:
    """The JSON Web Key Set partners fetch to verify (RFC 8037 §2)."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url(_raw_public(k)),
                "kid": key_id(k),
                "alg": "EdDSA",
                "use": "sig",
            }
            for k in keys
        ]
    }


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """kid → key, from a published key set (what a partner does with the well-known document)."""
    out: dict[str, Ed25519PublicKey] = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            key = Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))
            out[str(jwk.get("kid") or key_id(key))] = key
    return out
