"""The gateway's word to the services: the key that signs the internal token of each relayed request
(btkernel.internal_token), and the check of such a token when a service shows it back (the staff directory)."""

from __future__ import annotations

import time
from collections.abc import Callable

from btkernel import internal_token
from btkernel import logging as btlog
from btkernel.context import Actor
from btkernel.lru import LRU
from gateway.settings import Settings
from gateway.tokens import Principal

log = btlog.get(__name__)

# The services that may ask the staff directory, on behalf of the request they are serving: the registry checks
# an executive before a head assigns one (S002 p.5(2)).
STAFF_CALLERS = ("registry",)


class InternalTokens:
    def __init__(self, settings: Settings) -> None:
        if settings.internal_token_key_file:
            key = internal_token.load_private_key(settings.internal_token_key_file)
        else:
            # Development and test only (Settings.check_start refuses it elsewhere): no service trusts this key
            # unless it is given its public half, so such a gateway's requests authenticate nobody.
            key = internal_token.generate_private_key()
            log.warning("internal_token_key_ephemeral", reason="BT_INTERNAL_TOKEN_KEY_FILE is not set")
        self.signer = internal_token.Signer(key)
        self.signed = SignedTokens(self.signer)
        # Its own key, and any other the services were given (the previous key, during a rollover).
        keys = [self.signer.public_key]
        if settings.internal_token_public_key.strip():
            keys += internal_token.load_public_keys(settings.internal_token_public_key)
        self.staff_callers = internal_token.Verifier(keys, STAFF_CALLERS)

    def token_for(self, principal: Principal, service: str) -> str:
        """The token of a relayed request, addressed to the one service that gets it: a fresh one, or one signed
        for the same actor and service less than REUSE_S ago (`SignedTokens`)."""
        actor = Actor(
            id=principal.username, name=principal.full_name, role=principal.role, site=principal.site
        )
        return self.signed.token(actor, service)


# How long a signed internal token is reused for the next requests of the same actor to the same service. What a
# token binds is the actor, the one service and a life of TTL_S = 60 s, nothing of the request (ADR 0024: "not
# bound to one request"; no service reads its jti), so handing the same token to the actor's next request to that
# service weakens nothing a token guarantees: it still names the same person, opens only that service, and is
# dead 60 s after it was signed. 15 s leaves every reused token more than 44 s of life, more than the gateway's
# 15 s upstream timeout plus the service's 10 s budget (and the registry's staff look-up within it) plus skew.
REUSE_S = 15.0


class SignedTokens:
    """Signing an Ed25519 token per relayed request was a tenth of the gateway's CPU per submission (issue 13):
    each (actor, service) is signed at most once per `reuse_s`. At most `max_tokens` kept, the least recently used
    dropped."""

    def __init__(
        self,
        signer: internal_token.Signer,
        *,
        reuse_s: float = REUSE_S,
        max_tokens: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= reuse_s <= signer.ttl_s / 2:
            # Half the life at least left on every reused token, whatever the TTL is set to.
            raise ValueError(f"reuse_s must be between 0 and half the token's life ({signer.ttl_s} s)")
        self._signer = signer
        self._reuse_s = reuse_s
        # Wall time, as the token's iat and exp are (btkernel.internal_token): a security bound, never a test's
        # clock.
        self._clock = clock
        self._signed: LRU[tuple[Actor, str], tuple[float, str]] = LRU(max_tokens)

    def token(self, actor: Actor, service: str) -> str:
        key = (actor, service)
        now = self._clock()
        kept = self._signed.get(key)
        # A clock that went back also re-signs: the token's age is then unknown.
        if kept is not None and 0 <= now - kept[0] < self._reuse_s:
            return kept[1]
        token = self._signer.sign(actor, service)
        self._signed.put(key, (now, token))
        return token
