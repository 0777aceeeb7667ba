"""The internal token (btkernel.internal_token) and the services' trust in it (btkernel.service): only a token the
gateway's key signed for this very service, unexpired and of the one accepted algorithm, names an actor; bare
X-Actor-* headers name nobody."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from btkernel import internal_token
from btkernel.context import Actor
from btkernel.internal_token import InvalidToken, Signer, Verifier
from btkernel.permissions import Permission, Policy
from btkernel.service import ActorDep, create_app
from btkernel.settings import ServiceSettings

ACTOR = Actor(id="op-1", name="Сейткали Айгерим", role="centre_operator", site="almaty-con-1")
GATEWAY = Signer(internal_token.generate_private_key())
STRANGER = Signer(internal_token.generate_private_key())


def _verifier(*signers: Signer, audience: str = "intake") -> Verifier:
    return Verifier([s.public_key for s in signers or (GATEWAY,)], audience)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def _claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def test_a_good_token_names_the_actor_with_every_claim() -> None:
    token = GATEWAY.sign(ACTOR, "intake")
    verified = _verifier().verify(token)
    assert verified.actor == ACTOR
    assert verified.audience == ("intake",)
    claims = _claims(token)
    assert claims["iss"] == "gateway"
    assert claims["exp"] - claims["iat"] == internal_token.TTL_S
    assert claims["jti"] == verified.token_id
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": GATEWAY.kid, "typ": "JWT"}


def test_a_token_without_site_stays_without_site() -> None:
    supervisor = Actor(id="sup", name="sup", role="supervisor")
    assert _verifier().verify(GATEWAY.sign(supervisor, "intake")).actor.site is None


def test_expired() -> None:
    token = GATEWAY.sign(ACTOR, "intake", ttl_s=-(internal_token.LEEWAY_S + 1))
    with pytest.raises(InvalidToken, match="expired"):
        _verifier().verify(token)


def test_signed_by_another_key_is_unknown() -> None:
    with pytest.raises(InvalidToken, match="unknown key"):
        _verifier().verify(STRANGER.sign(ACTOR, "intake"))


def test_another_key_claiming_the_gateways_kid_has_a_bad_signature() -> None:
    token = STRANGER.sign(ACTOR, "intake")
    _, claims, signature = token.split(".")
    forged_header = _b64(json.dumps({"alg": "EdDSA", "kid": GATEWAY.kid, "typ": "JWT"}).encode())
    with pytest.raises(InvalidToken, match="bad signature"):
        _verifier().verify(f"{forged_header}.{claims}.{signature}")


def test_addressed_to_another_service() -> None:
    with pytest.raises(InvalidToken, match="another service") as refused:
        _verifier(audience="intake").verify(GATEWAY.sign(ACTOR, "notification"))
    assert refused.value.kind == "audience"


def test_alg_none_is_refused() -> None:
    claims = _claims(GATEWAY.sign(ACTOR, "intake")) | {"role": "supervisor"}
    with pytest.raises(InvalidToken, match="'none' is not accepted"):
        _verifier().verify(_forge({"alg": "none", "kid": GATEWAY.kid}, claims))


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    claims = _claims(GATEWAY.sign(ACTOR, "intake")) | {"role": "supervisor"}
    secret = internal_token.public_key_pem(GATEWAY.public_key).encode()
    unsigned = _forge({"alg": "HS256", "kid": GATEWAY.kid, "typ": "JWT"}, claims).rsplit(".", 1)[0]
    token = unsigned + "." + _b64(hmac.digest(secret, unsigned.encode(), hashlib.sha256))
    with pytest.raises(InvalidToken, match="'HS256' is not accepted"):
        _verifier().verify(token)


def test_tampered_claims_break_the_signature() -> None:
    header, _, signature = GATEWAY.sign(ACTOR, "intake").split(".")
    claims = _claims(GATEWAY.sign(ACTOR, "intake")) | {"role": "supervisor", "site": None}
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(InvalidToken, match="bad signature"):
        _verifier().verify(tampered)


def test_another_issuer_and_missing_claims_are_refused() -> None:
    other = Signer(internal_token.generate_private_key(), issuer="mallory")
    with pytest.raises(InvalidToken, match="issuer"):
        _verifier(other).verify(other.sign(ACTOR, "intake"))
    now = int(time.time())
    no_jti = {"iss": "gateway", "aud": "intake", "sub": "x", "role": "r", "iat": now, "exp": now + 60}
    key = internal_token.generate_private_key()
    token = jwt.encode(
        no_jti, key, algorithm="EdDSA", headers={"kid": internal_token.key_id(key.public_key())}
    )
    with pytest.raises(InvalidToken, match="jti"):
        Verifier([key.public_key()], "intake").verify(token)


def test_garbage_is_malformed() -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        _verifier().verify("not-a-token")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + ".extra",  # four segments
        lambda t: _b64(b"[1, 2]") + t[t.index(".") :],  # a header that is no object
        lambda t: "%%%%" + t[t.index(".") :],  # a header that is no base64
        lambda t: t.split(".")[0] + ".%%%%." + t.split(".")[2],  # a payload that is no base64
    ],
)
def test_a_token_broken_anywhere_is_malformed(mangle: Any) -> None:
    """The key is picked from the header alone (issue 13); whatever else is broken is still found by PyJWT."""
    with pytest.raises(InvalidToken, match="malformed"):
        _verifier().verify(mangle(GATEWAY.sign(ACTOR, "intake")))


def test_junk_the_header_reader_skips_is_refused_by_the_full_check() -> None:
    """Python's base64 ignores characters outside the alphabet; PyJWT's check of the whole token does not."""
    token = GATEWAY.sign(ACTOR, "intake")
    with pytest.raises(InvalidToken):
        _verifier().verify("!" + token)


def test_rollover_accepts_old_and_new_keys_from_several_pem_blocks() -> None:
    new = Signer(internal_token.generate_private_key())
    both = internal_token.public_key_pem(GATEWAY.public_key) + internal_token.public_key_pem(new.public_key)
    verifier = Verifier(internal_token.load_public_keys(both), "intake")
    assert verifier.verify(GATEWAY.sign(ACTOR, "intake")).actor == ACTOR
    assert verifier.verify(new.sign(ACTOR, "intake")).actor == ACTOR


def test_key_id_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of its example Ed25519 key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    x = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    assert internal_token.key_id(Ed25519PublicKey.from_public_bytes(x)) == (
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    )


# -- the services' side -------------------------------------------------------------------------------------------

ROUTE = "/api/v1/things"


def _app(public_key: str, env: str = "test") -> FastAPI:
    router = APIRouter()

    @router.get(ROUTE)
    async def things(actor: ActorDep) -> dict[str, Any]:
        return {"id": actor.id, "role": actor.role, "site": actor.site, "name": actor.name}

    policy = Policy((Permission("GET", ROUTE, frozenset({"centre_operator", "supervisor"})),))
    settings = ServiceSettings(env=env, service_name="intake", internal_token_public_key=public_key)
    return create_app(
        settings=settings, title="t", description="d", migrations=None, routers=[router], policy=policy
    )


GATEWAY_PEM = internal_token.public_key_pem(GATEWAY.public_key)
FORGED = {"X-Actor-Id": "sup", "X-Actor-Role": "supervisor", "X-Actor-Name": "sup"}


def test_a_service_takes_the_actor_from_the_token_only() -> None:
    client = TestClient(_app(GATEWAY_PEM))
    r = client.get(ROUTE, headers={internal_token.HEADER: GATEWAY.sign(ACTOR, "intake"), **FORGED})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": ACTOR.id, "role": ACTOR.role, "site": ACTOR.site, "name": ACTOR.name}


def test_forged_actor_headers_alone_are_nobody() -> None:
    r = TestClient(_app(GATEWAY_PEM)).get(ROUTE, headers=FORGED)
    assert r.status_code == 401
    assert "through the gateway" in r.json()["detail"]


@pytest.mark.parametrize(
    ("case", "why"),
    [("stranger", "unknown key"), ("fee", "another service"), ("expired", "expired")],
)
def test_an_invalid_token_is_a_401_naming_why_before_any_handler(case: str, why: str) -> None:
    # Signed here, not at collection: a 60-second token made then may have expired by the time this runs.
    token = {
        "stranger": lambda: STRANGER.sign(ACTOR, "intake"),
        "fee": lambda: GATEWAY.sign(ACTOR, "fee"),
        "expired": lambda: GATEWAY.sign(ACTOR, "intake", ttl_s=-60),
    }[case]()
    r = TestClient(_app(GATEWAY_PEM)).get(ROUTE, headers={internal_token.HEADER: token})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert why in r.json()["detail"]
    assert r.headers["x-request-id"]


def test_a_service_without_a_key_authenticates_nobody() -> None:
    r = TestClient(_app("")).get(ROUTE, headers={internal_token.HEADER: GATEWAY.sign(ACTOR, "intake")})
    assert r.status_code == 401
    assert "BT_INTERNAL_TOKEN_PUBLIC_KEY" in r.json()["detail"]


def test_a_production_service_without_a_key_does_not_start() -> None:
    app = _app("", env="production")
    with pytest.raises(RuntimeError, match="BT_INTERNAL_TOKEN_PUBLIC_KEY"), TestClient(app):
        pass


class _Decodes:
    """Counts the full checks (`jwt.decode`) a verifier makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = jwt.decode

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counting)


def test_a_token_is_checked_once_and_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = GATEWAY.sign(ACTOR, "intake")
    exp = _claims(token)["exp"]
    decodes = _Decodes(monkeypatch)
    clock = [time.time()]
    verifier = Verifier([GATEWAY.public_key], "intake", now=lambda: clock[0])
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert decodes.calls == 1
    clock[0] = exp + internal_token.LEEWAY_S - 0.5  # still accepted by jwt.decode's rule
    assert verifier.verify(token) == first
    assert decodes.calls == 1
    clock[0] = exp + internal_token.LEEWAY_S  # jwt.decode would refuse it now: checked again
    verifier.verify(token)
    assert decodes.calls == 2


def test_a_refusal_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = _Decodes(monkeypatch)
    verifier = _verifier()
    token = GATEWAY.sign(ACTOR, "intake", ttl_s=-(internal_token.LEEWAY_S + 1))
    for _ in range(2):
        with pytest.raises(InvalidToken, match="expired"):
            verifier.verify(token)
    assert decodes.calls == 2
    header, claims, signature = GATEWAY.sign(ACTOR, "intake").split(".")
    good = f"{header}.{claims}.{signature}"
    verifier.verify(good)
    with pytest.raises(InvalidToken, match="bad signature"):
        verifier.verify(f"{header}.{_b64(b'{}')}.{signature}")


def test_the_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = _Decodes(monkeypatch)
    verifier = Verifier([GATEWAY.public_key], "intake", cache_size=2)
    tokens = [GATEWAY.sign(ACTOR, "intake") for _ in range(3)]
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[2])
    verifier.verify(tokens[1])
    assert decodes.calls == 3
    verifier.verify(tokens[0])  # the least recently used, forgotten
    assert decodes.calls == 4
