"""Sign-in (OAuth2 password flow), the current caller from the bearer token, and the role check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from btkernel import problems
from btkernel.bounded import ID_MAX, SHORT_MAX
from gateway import seed, tokens, users
from gateway.state import Gateway, GatewayDep
from gateway.tokens import Principal

TOKEN_PATH = "/api/v1/auth/token"
# scheme_name "bearer" is the security scheme every proxied operation names in the merged OpenAPI document.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_PATH, scheme_name="bearer", auto_error=False)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field("bearer", description="always `bearer`")
    expires_in: int = Field(description="seconds the token stays valid")
    role: str
    site: str | None = Field(description="centre or registry office id; null for a supervisor")
    full_name: str


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    site: str | None
    expires_at: dt.datetime


async def current_principal(gateway: GatewayDep, token: Annotated[str | None, Depends(bearer)]) -> Principal:
    return await principal_of(gateway, token)


async def request_principal(request: Request, gateway: Gateway) -> Principal:
    """`current_principal` without FastAPI's dependency solving, for the proxy's relay: the same bearer scheme,
    the same checks; solving the two dependencies cost more than checking the token (issue 13)."""
    return await principal_of(gateway, await bearer(request))


async def principal_of(gateway: Gateway, token: str | None) -> Principal:
    """The caller a bearer token names, if the token is good and its account may still use it; else a 401."""
    if not token:
        raise problems.Unauthorized(f"this needs a bearer token: sign in at {TOKEN_PATH}")
    try:
        principal = gateway.verified_tokens.verify(token)
    except tokens.InvalidToken as exc:
        raise problems.Unauthorized(str(exc)) from exc
    # A signature proves who signed in, not that they still may: the account is read again (cached for at most
    # BT_ACCOUNT_CACHE_S), so a deactivated account, or one moved to another role or site, stops working.
    user = await gateway.accounts.get(gateway.users, principal.username)
    if user is None or not user.active:
        raise problems.Unauthorized("the account of this access token is switched off")
    if (user.role, user.site) != (principal.role, principal.site):
        raise problems.Unauthorized("the account's role or site changed after sign-in; sign in again")
    if principal.session_epoch < user.session_epoch:
        raise problems.Unauthorized("this access token was signed out; sign in again")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]

# Far longer than any passphrase a person types, and short enough that hashing it (scrypt) costs no more than
# hashing a normal one: an unbounded password would make every failed sign-in a CPU-bound denial of service.
PASSWORD_MAX = 256


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form (RFC 6749 §4.3.2) with every field bounded."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(min_length=1, max_length=ID_MAX)],
        password: Annotated[
            str, Form(min_length=1, max_length=PASSWORD_MAX, json_schema_extra={"format": "password"})
        ],
        scope: Annotated[str, Form(max_length=SHORT_MAX)] = "",
        client_id: Annotated[str | None, Form(max_length=ID_MAX)] = None,
        client_secret: Annotated[
            str | None, Form(max_length=PASSWORD_MAX, json_schema_extra={"format": "password"})
        ] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


def authorize(principal: Principal, allowed: frozenset[str]) -> None:
    if principal.role not in allowed:
        names = sorted(allowed)
        raise problems.Forbidden(
            f"role {principal.role} may not do this; allowed roles: {', '.join(names)}", allowed_roles=names
        )


router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Sign in: exchange user name and password for a bearer token (OAuth2 password flow)",
    responses={
        401: {"description": "wrong user name or password"},
        429: {
            "description": "too many failed attempts from this address, or for this user name from this "
            "address; see Retry-After"
        },
    },
)
async def issue_token(
    request: Request, form: Annotated[SignInForm, Depends()], gateway: GatewayDep
) -> Response:
    key = users.normalise(form.username)
    # The peer, or the client a trusted front proxy names (uvicorn's proxy headers; ADR 0021).
    address = request.client.host if request.client else "unknown"
    blocked = gateway.login_guard.blocked(address, key)
    if blocked is not None:
        wait = blocked.retry_after_s
        response = problems.problem_response(
            429, "Too many requests", f"{blocked.reason}; try again in {wait} s", request.url.path
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = await users.authenticate(gateway.users, form.username, form.password)
    # The development accounts' passwords are published: outside development they open nothing (ADR 0021).
    if not gateway.settings.development_shortcuts and seed.is_dev_credential(key, form.password):
        user = None
    if user is None:
        gateway.login_guard.fail(address, key)
        raise problems.Unauthorized("wrong user name or password")
    gateway.login_guard.succeed(address, key)
    token, ttl = tokens.issue(user, secret=gateway.settings.jwt_secret, ttl_s=gateway.settings.jwt_ttl_s)
    body = TokenResponse(
        access_token=token, expires_in=ttl, role=user.role, site=user.site, full_name=user.full_name
    )
    # RFC 6749 §5.1: a response carrying a token must not be cached.
    return Response(
        body.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: end the sessions of the bearer token's account",
    description="Every access token of the account issued before this call is refused afterwards: at once by "
    "the gateway instance that answered, by the others within BT_ACCOUNT_CACHE_S (ADR 0032). Signing in "
    "again gives a new token.",
    responses={401: {"description": "no valid bearer token (already signed out, expired, forged)"}},
)
async def logout(principal: PrincipalDep, gateway: GatewayDep) -> Response:
    await gateway.users.end_sessions(principal.username)
    gateway.accounts.forget(principal.username)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get("/me", response_model=Me, summary="Who the bearer token says the caller is")
async def me(principal: PrincipalDep) -> Me:
    return Me(
        username=principal.username,
        full_name=principal.full_name,
        role=principal.role,
        site=principal.site,
        expires_at=dt.datetime.fromtimestamp(principal.expires_at, dt.UTC),
    )
