"""The gateway's internal-token key (gateway.internal_tokens): read from BT_INTERNAL_TOKEN_KEY_FILE, required
outside development, and the staff directory's check accepts the previous key during a rollover."""

from __future__ import annotations

import pytest
from gateway_fakes import KEY_FILE, make_settings

from btkernel import internal_token
from btkernel.context import Actor
from gateway.internal_tokens import REUSE_S, InternalTokens, SignedTokens

HEAD = Actor(id="head1", name="head1", role="registry_head", site="almaty-almaly")


def test_the_key_file_signs() -> None:
    tokens = InternalTokens(make_settings())
    expected = internal_token.load_private_key(KEY_FILE).public_key()
    assert tokens.signer.kid == internal_token.key_id(expected)


def test_a_production_gateway_without_a_key_file_does_not_start() -> None:
    settings = make_settings(env="production", internal_token_key_file="")
    with pytest.raises(ValueError, match="BT_INTERNAL_TOKEN_KEY_FILE"):
        settings.check_start()
    make_settings(env="production").check_start()  # with one it does


def test_the_previous_key_is_still_accepted_by_the_staff_directory_during_a_rollover() -> None:
    previous = internal_token.Signer(internal_token.generate_private_key())
    stranger = internal_token.Signer(internal_token.generate_private_key())
    tokens = InternalTokens(
        make_settings(internal_token_public_key=internal_token.public_key_pem(previous.public_key))
    )
    assert tokens.staff_callers.verify(previous.sign(HEAD, "registry")).actor == HEAD
    assert tokens.staff_callers.verify(tokens.signer.sign(HEAD, "registry")).actor == HEAD
    with pytest.raises(internal_token.InvalidToken, match="unknown key"):
        tokens.staff_callers.verify(stranger.sign(HEAD, "registry"))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


OPERATOR = Actor(id="op1", name="op1", role="centre_operator", site="almaty-con-1")


def test_a_signed_token_is_reused_for_the_same_actor_and_service_within_reuse_s() -> None:
    """Issue 13: at most one signature per (actor, service) per REUSE_S; another actor or service gets its own."""
    signer = internal_token.Signer(internal_token.generate_private_key())
    clock = Clock()
    signed = SignedTokens(signer, reuse_s=REUSE_S, clock=clock)
    first = signed.token(OPERATOR, "intake")

    clock.now += REUSE_S - 0.5
    assert signed.token(OPERATOR, "intake") == first
    assert signed.token(OPERATOR, "registry") != first
    assert signed.token(HEAD, "intake") != first
    moved = Actor(id="op1", name="op1", role="centre_operator", site="almaty-con-2")
    assert signed.token(moved, "intake") != first

    clock.now += 1.0
    renewed = signed.token(OPERATOR, "intake")
    assert renewed != first
    # Still the one actor, for the one service, with its full life from now.
    verified = internal_token.Verifier([signer.public_key], "intake").verify(renewed)
    assert verified.actor == OPERATOR
    with pytest.raises(internal_token.InvalidToken, match="another service"):
        internal_token.Verifier([signer.public_key], "registry").verify(renewed)


def test_a_reused_token_keeps_most_of_its_life_and_a_clock_going_back_signs_anew() -> None:
    signer = internal_token.Signer(internal_token.generate_private_key())
    assert signer.ttl_s / 2 >= REUSE_S
    with pytest.raises(ValueError, match="half the token's life"):
        SignedTokens(signer, reuse_s=signer.ttl_s)
    clock = Clock()
    signed = SignedTokens(signer, clock=clock)
    first = signed.token(OPERATOR, "intake")
    clock.now -= 1.0
    assert signed.token(OPERATOR, "intake") != first


def test_the_kept_tokens_are_bounded() -> None:
    signed = SignedTokens(internal_token.Signer(internal_token.generate_private_key()), max_tokens=2)
    first = signed.token(OPERATOR, "intake")
    signed.token(OPERATOR, "registry")
    signed.token(OPERATOR, "fee")
    # The oldest was dropped: the next request for it gets a new signature.
    assert signed.token(OPERATOR, "intake") != first
