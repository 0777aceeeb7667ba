"""The brute-force guard on the token endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from gateway.ratelimit import FailureGuard

Login = Callable[[str, str], Awaitable[httpx.Response]]


async def test_ten_failures_then_429_with_retry_after_even_for_the_right_password(login: Login) -> None:
    for _ in range(10):
        assert (await login("head2", "guess")).status_code == 401

    blocked = await login("head2", "head2-pass")

    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    # other users are not affected, however the blocked name is spelled
    assert (await login("head1", "head1-pass")).status_code == 200
    assert (await login("HEAD2", "head2-pass")).status_code == 429


async def test_success_forgets_earlier_failures(login: Login) -> None:
    for _ in range(9):
        await login("operator2", "typo")
    assert (await login("operator2", "operator2-pass")).status_code == 200
    for _ in range(9):
        await login("operator2", "typo")

    assert (await login("operator2", "operator2-pass")).status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides() -> None:
    clock = Clock()
    guard = FailureGuard(3, 60, clock=clock)
    for step in range(3):
        clock.now = 1000.0 + step * 10
        guard.fail("u")

    assert guard.retry_after("u") == 40
    clock.now = 1060.5  # the first failure has left the window
    assert guard.retry_after("u") is None
    guard.fail("u")
    assert guard.retry_after("u") == 10


def test_keys_are_bounded() -> None:
    guard = FailureGuard(1, 60, clock=Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        guard.fail(key)

    assert guard.retry_after("a") is None
    assert guard.retry_after("c") == 60
