"""The internal token: the entry point's signed word for who is acting, on one request to one service.

The gateway authenticates people (its own bearer tokens) and, for each request it relays, signs a short-lived
JWT (RFC 7519) with its Ed25519 key (JWS "EdDSA", RFC 8037) addressed to the one service it calls. Every service
builds the request's actor from this token only, verified with the gateway's public key(s); a header a process
on the same machine made up proves nothing (issue 9, ADR 0024). Signing and verifying live here together so the
two sides cannot drift apart.

Keys are told apart by `kid`, the key's RFC 7638 thumbprint, so a verifier holding several public keys (a key
rollover) picks the right one without any configured names.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from btkernel.context import Actor
from btkernel.lru import LRU

# The request header that carries it. Not Authorization: that is the person's own token, which never leaves the
# gateway.
HEADER = "X-Internal-Token"
ALGORITHM = "EdDSA"
# The platform's entry point, the only signer.
ISSUER = "gateway"
# Long enough for a service's 10 s budget, the gateway's 15 s upstream timeout and some clock skew; short enough
# that a token read from a log or a proxy is useless soon after.
TTL_S = 60
LEEWAY_S = 5
_REQUIRED = ("iss", "aud", "sub", "role", "iat", "exp", "jti")
# Tokens a verifier remembers as verified (ADR 0043): the gateway reuses a person's token for one service for up to
# 15 s, so a service sees a few per person a minute; past this many the least recently used is verified again.
VERIFIED_CACHE_SIZE = 4096
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class InvalidToken(Exception):
    """Why a presented token vouches for nobody. `kind`: "audience" (a good token for another service), or
    "invalid" (anything else: signature, key, algorithm, expiry, shape)."""

    def __init__(self, reason: str, kind: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class Verified:
    actor: Actor
    audience: tuple[str, ...]
    token_id: str


# -- keys -------------------------------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public_keys(value: str) -> list[Ed25519PublicKey]:
    """One or more PEM public keys, given as the PEM text itself or as the path of a file holding it (several
    keys during a rollover: the blocks one after another)."""
    text = value if "-----BEGIN" in value else Path(value).read_text()
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise ValueError("no PEM public key (-----BEGIN PUBLIC KEY-----) found")
    keys = []
    for block in blocks:
        key = serialization.load_pem_public_key(block.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("an internal-token public key must be Ed25519")
        keys.append(key)
    return keys


def key_id(key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key (RFC 8037 §2)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# -- signing ----------------------------------------------------------------------------------------------------


class Signer:
    """The gateway's side: one token per relayed request."""

    def __init__(self, private_key: Ed25519PrivateKey, *, issuer: str = ISSUER, ttl_s: int = TTL_S) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.kid = key_id(self.public_key)
        self.issuer = issuer
        self.ttl_s = ttl_s

    def sign(self, actor: Actor, audience: str | Sequence[str], *, ttl_s: int | None = None) -> str:
        # Real time, not btkernel.clock: a token's life is a security bound, never moved by a test's clock.
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience if isinstance(audience, str) else list(audience),
            "sub": actor.id,
            "name": actor.name,
            "role": actor.role,
            "site": actor.site,
            "iat": now,
            "exp": now + (ttl_s if ttl_s is not None else self.ttl_s),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})


# -- verifying --------------------------------------------------------------------------------------------------


class Verifier:
    """A service's side: the actor a token vouches for, or InvalidToken saying why not.

    A token verified once is remembered, by its exact text, until it expires (issue 13: the gateway reuses a
    person's token for a service for a few seconds, and the Ed25519 check was most of a request's verification).
    The answer cannot differ: the keys, audience and issuer are this verifier's for its life, and of the time-bound
    claims only `exp` can turn a good token bad, which the cache honours as `jwt.decode` does (with the leeway).
    Refusals are not remembered. `now` (real time, as PyJWT's) is for tests."""

    def __init__(
        self,
        public_keys: Iterable[Ed25519PublicKey],
        audience: str | Iterable[str],
        *,
        issuer: str = ISSUER,
        leeway_s: int = LEEWAY_S,
        cache_size: int = VERIFIED_CACHE_SIZE,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = {key_id(k): k for k in public_keys}
        if not self._keys:
            raise ValueError("a verifier needs at least one public key")
        self._audience = [audience] if isinstance(audience, str) else list(audience)
        self._issuer = issuer
        self._leeway_s = leeway_s
        self._now = now
        # token → (what it vouches for, the moment it stops being accepted: exp + leeway).
        self._verified: LRU[str, tuple[Verified, float]] = LRU(cache_size)

    def verify(self, token: str) -> Verified:
        remembered = self._verified.get(token)
        if remembered is not None:
            verified, until = remembered
            if self._now() < until:
                return verified
            self._verified.pop(token)
        verified, exp = self._verify(token)
        self._verified.put(token, (verified, exp + self._leeway_s))
        return verified

    def _verify(self, token: str) -> tuple[Verified, float]:
        """The whole check (PyJWT); the verified token and its `exp`."""
        header = _header(token)
        alg = header.get("alg")
        # Only EdDSA: "none" and HS256 (a public key used as an HMAC secret) must never pass.
        if alg != ALGORITHM:
            raise InvalidToken(f"algorithm {alg!r} is not accepted (only {ALGORITHM})")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("signed by an unknown key (kid)")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": list(_REQUIRED)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(
                f"addressed to another service (this one is {', '.join(self._audience)})", kind="audience"
            ) from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.DecodeError as exc:
            raise InvalidToken(f"malformed token ({exc})") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        verified = Verified(
            actor=_actor(claims), audience=_audiences(claims["aud"]), token_id=str(claims["jti"])
        )
        # jwt.decode accepted `exp` as a number (it compares int(exp) with the time): the same reading here.
        return verified, int(claims["exp"])


def _header(token: str) -> dict[str, Any]:
    """The token's JOSE header (its first segment), read only to pick the key: `jwt.decode` then checks the whole
    token, this header too, as strictly as ever. PyJWT's own `get_unverified_header` decodes all three segments,
    character by character, before `decode` does it again: a sixth of every request's verification (issue 13)."""
    segment, dot, rest = token.partition(".")
    if not dot or rest.count(".") != 1:
        raise InvalidToken("malformed token (not three segments)")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidToken(f"malformed token (header: {exc})") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token (the header is not a JSON object)")
    return header


def _actor(claims: dict[str, Any]) -> Actor:
    sub, role, name, site = claims["sub"], claims["role"], claims.get("name"), claims.get("site")
    if not isinstance(sub, str) or not sub or not isinstance(role, str):
        raise InvalidToken("sub and role must be text")
    if name is not None and not isinstance(name, str):
        raise InvalidToken("name must be text")
    if site is not None and not isinstance(site, str):
        raise InvalidToken("site must be text or null")
    return Actor(id=sub, name=name or sub, role=role, site=site or None)


def _audiences(aud: Any) -> tuple[str, ...]:
    return (aud,) if isinstance(aud, str) else tuple(str(a) for a in aud)


def verifier_from_settings(public_key: str, audience: str) -> Verifier | None:
    """The service's verifier from BT_INTERNAL_TOKEN_PUBLIC_KEY; None when it is unset (then nobody is
    authenticated: there is no mode that trusts headers)."""
    if not public_key.strip():
        return None
    return Verifier(load_public_keys(public_key), audience)


# -- the token of the request being served ---------------------------------------------------------------------

_presented: contextvars.ContextVar[str | None] = contextvars.ContextVar("bt_internal_token", default=None)


def presented() -> str | None:
    """The verified token of the request being served: what a service shows the gateway when it asks on that
    request's behalf (the registry's staff directory look-up)."""
    return _presented.get()


def bind(token: str | None) -> contextvars.Token[str | None]:
    return _presented.set(token)


def unbind(token: contextvars.Token[str | None]) -> None:
    _presented.reset(token)
