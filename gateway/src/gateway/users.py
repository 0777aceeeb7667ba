"""User accounts: the record, validation of a new account, the PostgreSQL store and password sign-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from btkernel.lru import LRU
from gateway import passwords, roles


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    role: str
    site: str | None
    password_hash: str
    active: bool = True
    # Raised by sign-out: tokens issued in an earlier epoch are refused (gateway.auth, ADR 0032).
    session_epoch: int = 0


def new_user(username: str, password: str, full_name: str, role: str, site: str | None) -> User:
    """A validated account with a freshly hashed password; ValueError names what is wrong."""
    username = normalise(username)
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise ValueError(f"user name {username!r} must be 1-64 characters without spaces")
    if not full_name.strip():
        raise ValueError(f"user {username} needs a full name")
    if len(password) < 8:
        raise ValueError(f"user {username}: a password needs at least 8 characters")
    roles.check(role, site)
    return User(username, full_name.strip(), role, site, passwords.hash_password(password))


def normalise(username: str) -> str:
    # One account per name however it is typed at the login form.
    return username.strip().lower()


class UserStore(Protocol):
    """Where accounts live; the gateway's database is nothing else, so `ping` is its readiness check."""

    async def get(self, username: str) -> User | None: ...

    async def existing(self, usernames: Iterable[str]) -> set[str]: ...

    async def add(self, user: User) -> bool: ...

    async def end_sessions(self, username: str) -> bool: ...

    async def on_site(self, site: str, role: str | None, *, limit: int) -> list[User]: ...

    async def ping(self) -> None: ...


class PgUserStore:
    """UserStore on the `users` table of bt_gateway."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, username: str) -> User | None:
        row = await self._pool.fetchrow(
            "SELECT username, full_name, role, site, password_hash, active, session_epoch FROM users "
            "WHERE username = $1",
            normalise(username),
        )
        return User(**dict(row)) if row else None

    async def existing(self, usernames: Iterable[str]) -> set[str]:
        rows = await self._pool.fetch(
            "SELECT username FROM users WHERE username = ANY($1::text[])", [normalise(u) for u in usernames]
        )
        return {r["username"] for r in rows}

    async def add(self, user: User) -> bool:
        """Insert unless the name is taken (two gateways seeding at once both succeed); True when inserted."""
        status: str = await self._pool.execute(
            "INSERT INTO users (username, full_name, role, site, password_hash, active) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
            user.username,
            user.full_name,
            user.role,
            user.site,
            user.password_hash,
            user.active,
        )
        return status.endswith(" 1")

    async def end_sessions(self, username: str) -> bool:
        """Move the account to a new session epoch, so every token issued before is refused; True when the
        account exists."""
        status: str = await self._pool.execute(
            "UPDATE users SET session_epoch = session_epoch + 1, updated_at = now() WHERE username = $1",
            normalise(username),
        )
        return status.endswith(" 1")

    async def on_site(self, site: str, role: str | None, *, limit: int) -> list[User]:
        """The active accounts of a site (of one role, when given), by user name, at most `limit`."""
        rows = await self._pool.fetch(
            "SELECT username, full_name, role, site, password_hash, active, session_epoch FROM users "
            "WHERE site = $1 AND active AND ($2::text IS NULL OR role = $2) ORDER BY username LIMIT $3",
            site,
            role,
            limit,
        )
        return [User(**dict(r)) for r in rows]

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")


async def authenticate(store: UserStore, username: str, password: str) -> User | None:
    """The active user these credentials belong to, or None — the same None whatever was wrong, so a caller
    cannot learn which user names exist."""
    user = await store.get(username)
    stored = user.password_hash if user is not None else passwords.dummy_hash()
    # scrypt takes tens of milliseconds and releases the GIL: off the event loop, other requests keep flowing.
    matches = await asyncio.to_thread(passwords.verify_password, password, stored)
    if user is None or not matches or not user.active:
        return None
    return user


class AccountCache:
    """The account behind a bearer token, read from the store at most once per `ttl_s` per user name, so that a
    deactivated account's tokens are refused within `ttl_s` of the change (ADR 0021) without a database read on
    every proxied request. Per process, bounded to `max_keys` names, least recently read dropped first."""

    def __init__(
        self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._read: LRU[str, tuple[float, User | None]] = LRU(max_keys)

    async def get(self, store: UserStore, username: str) -> User | None:
        key = normalise(username)
        now = self._clock()
        cached = self._read.get(key)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        user = await store.get(key)
        self._read.put(key, (now, user))
        return user

    def forget(self, username: str) -> None:
        """Read the account from the store next time: after sign-out this instance refuses the old tokens at
        once (other instances within `ttl_s`)."""
        self._read.pop(normalise(username))
