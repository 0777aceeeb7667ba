"""The gateway's internal-token key (gateway.internal_tokens): read from BT_INTERNAL_TOKEN_KEY_FILE, required
outside development, and the staff directory's check accepts the previous key during a rollover."""

from __future__ import annotations

import pytest
from gateway_fakes import KEY_FILE, make_settings

from btkernel import internal_token
from btkernel.context import Actor
from gateway.internal_tokens import InternalTokens

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
