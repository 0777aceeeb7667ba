"""Sign-in and bearer tokens: issue, me, and every way a token can be refused."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest
from gateway_fakes import SECRET, MemoryUsers

from gateway import tokens

Login = Callable[[str, str], Awaitable[httpx.Response]]


async def test_token_is_issued_for_right_credentials(login: Login) -> None:
    response = await login("operator1", "operator1-pass")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "centre_operator"
    assert body["site"] == "almaty-con-1"
    assert body["full_name"] == "Сейткали Айгерим Нурлановна"
    assert body["expires_in"] == 8 * 3600
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], issuer="bir-tereze")
    assert claims["sub"] == "operator1"
    assert claims["role"] == "centre_operator"
    assert claims["site"] == "almaty-con-1"
    assert claims["name"] == "Сейткали Айгерим Нурлановна"
    assert claims["exp"] - claims["iat"] == 8 * 3600


async def test_user_name_is_case_insensitive(login: Login) -> None:
    assert (await login(" Operator1 ", "operator1-pass")).status_code == 200


async def test_grant_type_password_is_accepted_and_others_refused(client: httpx.AsyncClient) -> None:
    form = {"username": "supervisor", "password": "supervisor-pass"}
    ok = await client.post("/api/v1/auth/token", data={**form, "grant_type": "password"})
    other = await client.post("/api/v1/auth/token", data={**form, "grant_type": "client_credentials"})

    assert ok.status_code == 200
    assert ok.json()["site"] is None
    assert other.status_code == 422


async def test_wrong_password_unknown_user_and_inactive_user_are_the_same_401(login: Login) -> None:
    for username, password in [("operator1", "wrong"), ("nobody", "whatever"), ("retired", "retired-pass")]:
        response = await login(username, password)

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"] == "wrong user name or password"


async def test_me_describes_the_token(client: httpx.AsyncClient, login: Login) -> None:
    token = (await login("executive1b", "executive1b-pass")).json()["access_token"]

    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "executive1b"
    assert body["role"] == "registry_executive"
    assert body["site"] == "almaty-almaly"
    assert body["full_name"] == "Петров Алексей Викторович"


def _token(claims: dict[str, object], secret: str = SECRET) -> dict[str, str]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "operator1",
        "role": "centre_operator",
        "site": "almaty-con-1",
        "iat": now,
        "exp": now + 600,
        "iss": "bir-tereze",
        "name": "x",
    }
    return {"Authorization": "Bearer " + jwt.encode({**base, **claims}, secret, algorithm="HS256")}


async def test_missing_or_bad_tokens_get_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    now = int(time.time())
    cases = {
        "missing": {},
        "not a jwt": {"Authorization": "Bearer not-a-token"},
        "other scheme": {"Authorization": "Basic b3BlcmF0b3IxOnBhc3M="},
        "wrong secret": _token({}, secret="another-secret-0123456789abcdef-0123"),
        "expired": _token({"iat": now - 7200, "exp": now - 3600}),
        "other issuer": _token({"iss": "somebody-else"}),
        "unknown role": _token({"role": "registry_god"}),
        "no role": _token({"role": None}),
    }
    for case, headers in cases.items():
        for path in ("/api/v1/auth/me", "/api/v1/applications"):
            response = await client.get(path, headers=headers)

            assert response.status_code == 401, (case, path)
            assert response.headers["www-authenticate"] == "Bearer", case
            assert response.headers["content-type"] == "application/problem+json", case


async def test_expired_token_says_so(client: httpx.AsyncClient) -> None:
    now = int(time.time())
    response = await client.get("/api/v1/auth/me", headers=_token({"iat": now - 7200, "exp": now - 3600}))

    assert "expired" in response.json()["detail"]


async def test_none_algorithm_is_refused(users: MemoryUsers) -> None:
    forged = jwt.encode(
        {"sub": "supervisor", "role": "supervisor", "iss": "bir-tereze", "iat": 1, "exp": 2**40},
        key=None,
        algorithm="none",
    )
    try:
        tokens.verify(forged, secret=SECRET)
    except tokens.InvalidToken:
        pass
    else:
        raise AssertionError("an unsigned token was accepted")


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _raw(claims: dict[str, object]) -> str:
    return _token(claims)["Authorization"].removeprefix("Bearer ")


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens `tokens.verify` checks in full from now on, in order."""
    calls: list[str] = []
    real = tokens.verify

    def counted(token: str, *, secret: str) -> tokens.Principal:
        calls.append(token)
        return real(token, secret=secret)

    monkeypatch.setattr(tokens, "verify", counted)
    return calls


def test_a_verified_token_is_remembered_until_its_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: the signature is checked once per token string; the answer is reused only while PyJWT's own
    time rule (iat <= now < exp) holds, and then the token is refused in PyJWT's words."""
    now = int(time.time())
    calls = _count_verifications(monkeypatch)
    clock = _Clock(now)
    verified = tokens.VerifiedTokens(SECRET, clock=clock)
    token = _raw({"iat": now, "exp": now + 600})

    first = verified.verify(token)
    clock.now = now + 599.5
    assert verified.verify(token) == first
    assert len(calls) == 1

    clock.now = now + 600
    # The remembered answer is not used at exp; the full check runs (and, on the real clock, still passes).
    assert verified.verify(token) == first
    assert len(calls) == 2

    expired = _raw({"iat": now - 7200, "exp": now - 1})
    with pytest.raises(tokens.InvalidToken, match="expired"):
        verified.verify(expired)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        verified.verify(expired)
    assert calls[2:] == [expired, expired]


def test_only_good_tokens_are_kept_and_never_more_than_the_bound() -> None:
    now = int(time.time())
    verified = tokens.VerifiedTokens(SECRET, max_tokens=2)
    forged = _token({}, secret="another-secret-0123456789abcdef-0123")["Authorization"].removeprefix(
        "Bearer "
    )
    future = _raw({"iat": now + 3600, "exp": now + 7200})
    for bad in (forged, future, "not-a-token"):
        with pytest.raises(tokens.InvalidToken):
            verified.verify(bad)
    assert len(verified) == 0
    for sub in ("operator1", "operator2", "head1"):
        verified.verify(_raw({"sub": sub}))
    assert len(verified) == 2


def test_a_token_remembered_before_the_clock_went_back_is_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = int(time.time())
    calls = _count_verifications(monkeypatch)
    clock = _Clock(now)
    verified = tokens.VerifiedTokens(SECRET, clock=clock)
    token = _raw({"iat": now, "exp": now + 600})
    verified.verify(token)
    clock.now = now - 10
    verified.verify(token)
    # Before its iat the remembered answer is not used: PyJWT judges it again (on the real clock it passes).
    assert calls == [token, token]
