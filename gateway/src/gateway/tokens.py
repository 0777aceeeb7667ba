"""Access tokens: HS256 JWTs carrying who the caller is, issued at sign-in and checked on every request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

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
    )
