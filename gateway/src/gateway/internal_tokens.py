"""The gateway's word to the services: the key that signs the internal token of each relayed request
(btkernel.internal_token), and the check of such a token when a service shows it back (the staff directory)."""

from __future__ import annotations

from btkernel import internal_token
from btkernel import logging as btlog
from btkernel.context import Actor
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
        # Its own key, and any other the services were given (the previous key, during a rollover).
        keys = [self.signer.public_key]
        if settings.internal_token_public_key.strip():
            keys += internal_token.load_public_keys(settings.internal_token_public_key)
        self.staff_callers = internal_token.Verifier(keys, STAFF_CALLERS)

    def token_for(self, principal: Principal, service: str) -> str:
        """The token of one relayed request, addressed to the one service that gets it."""
        actor = Actor(
            id=principal.username, name=principal.full_name, role=principal.role, site=principal.site
        )
        return self.signer.sign(actor, service)
