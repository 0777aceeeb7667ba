"""Password hashing with stdlib scrypt: a per-user random salt, parameters stored with the hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

_SCHEME = "scrypt"
# n=2**14, r=8, p=1 (16 MiB, tens of milliseconds): the interactive-login figures from the scrypt paper.
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem must cover 128*n*r bytes plus slack, or OpenSSL refuses the parameters.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=256 * n * r + 1024 * 1024
    )


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """`scrypt$n$r$p$salt$hash` with a fresh salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, n, r, p)
    return f"{_SCHEME}${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` hashes to `stored`; a malformed stored hash never verifies."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _derive(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    # Constant time, so the comparison leaks nothing about how much of the hash matched.
    return hmac.compare_digest(actual, expected)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the user name is unknown, so "no such user" costs as much as "wrong
    password" and the response time does not tell which user names exist."""
    return hash_password(secrets.token_urlsafe(16))
