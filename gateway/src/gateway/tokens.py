"""Access tokens: HS256 JWTs carrying who the caller is, issued at sign-in and checked on every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from btkernel.lru import LRU
from gateway import roles
from gateway.users import User

ISSUER = "bir-tereze"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller as a verified token describes them."""

    username: str
    full_name: str
    role: str
    site: str | None
    expires_at: int
    # The account's session epoch at sign-in (claim "sess"); sign-out raises the account's, ending this token.
    session_epoch: int = 0
    # Claim "iat": the moment from which the token is valid (PyJWT refuses one issued in the future).
    issued_at: int = 0


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, for the 401 the caller gets."""


def issue(user: User, *, secret: str, ttl_s: int, now: float | None = None) -> tuple[str, int]:
    """A signed token for `user` and its lifetime in seconds."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": user.username,
        "name": user.full_name,
        "role": user.role,
        "site": user.site,
        "iat": issued,
        "exp": issued + ttl_s,
        "iss": ISSUER,
        "sess": user.session_epoch,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_s


def verify(token: str, *, secret: str) -> Principal:
    """The principal a token names; InvalidToken when it is forged, expired, from another issuer or names a
    role the platform does not have."""
    try:
        # The algorithm list is pinned: accepting the token's own "alg" would let "none" through.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "role", "exp", "iat", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the access token has expired; sign in again") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"the access token is not valid: {exc}") from exc
    role = claims["role"]
    if role not in roles.ALL_ROLES:
        raise InvalidToken(f"the access token names an unknown role {role!r}")
    site = claims.get("site")
    # Tokens issued before sign-out existed carry no epoch: they belong to the first one.
    epoch = claims.get("sess", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise InvalidToken("the access token's session is not a non-negative integer")
    return Principal(
        username=str(claims["sub"]),
        full_name=str(claims.get("name") or claims["sub"]),
        role=role,
        site=str(site) if site else None,
        expires_at=int(claims["exp"]),
        session_epoch=epoch,
        issued_at=int(claims["iat"]),
    )


class VerifiedTokens:
    """`verify` once per token string (issue 13: the signature check and PyJWT's claim handling were a tenth of
    the gateway's work per relayed request, for the same token over and over). A token that verified is a pure
    function of its bytes and the secret; only time can change the answer, so a remembered one is used only while
    `iat <= now < exp` holds, exactly PyJWT's rule without leeway. Keyed by the exact string: any other spelling
    of the same claims is verified in full. Only tokens that verified are kept (a flood of forged ones adds
    nothing), at most `max_tokens`, the least recently used dropped first. Whether the account may still use the
    token (switched off, moved, signed out) is not a property of the token: gateway.auth checks it on every
    request."""

    def __init__(
        self, secret: str, *, max_tokens: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        # Wall time, as PyJWT judges exp and iat: a token's life is a security bound, never a test's clock.
        self._clock = clock
        self._known: LRU[str, Principal] = LRU(max_tokens)

    def __len__(self) -> int:
        return len(self._known)

    def verify(self, token: str) -> Principal:
        """`verify(token, secret=...)`'s answer; InvalidToken with the same reasons."""
        known = self._known.get(token)
        if known is not None:
            now = self._clock()
            if known.issued_at <= now < known.expires_at:
                return known
            # Expired (or the clock went back): forget it, and let PyJWT say why in its own words.
            self._known.pop(token)
        principal = verify(token, secret=self._secret)
        self._known.put(token, principal)
        return principal
