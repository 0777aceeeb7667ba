"""Detached signatures of partner events: a partner's check passes on the published event, fails on any change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import signing

EVENT = {
    "specversion": "1.0",
    "id": "5b0e",
    "source": "/bir-tereze/registry",
    "type": "kz.civreg.partner.birth-registered.v1",
    "subject": "r-1",
    "time": "2026-03-02T09:30:00Z",
    "datacontenttype": "application/json",
    "data": {"record_id": "r-1", "child": {"surname": "Жұмабаев", "birth_year": 2026}},
}


def test_a_signed_event_verifies_with_the_published_key_set() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signing.sign(EVENT, key)
    published = json.loads(json.dumps(signing.jwks([key.public_key()])))  # as a partner fetches it
    # As a partner reads it off the wire: the JSON round trip must not matter (key order, escapes).
    wire = json.loads(json.dumps(signed, ensure_ascii=True, sort_keys=False))
    signing.verify(wire, signing.keys_from_jwks(published))


@pytest.mark.parametrize(
    "alter",
    [
        lambda e: e["data"]["child"].update(surname="Иванов"),
        lambda e: e.update(subject="r-2"),
        lambda e: e.update(time="2026-03-01T09:30:00Z"),
        lambda e: e["data"].update(extra=1),
        lambda e: e.update(btkeyid="someone-else"),
        lambda e: e.pop("btsignature"),
    ],
    ids=["data", "subject", "time", "added-field", "key-id", "no-signature"],
)
def test_any_change_after_signing_fails_the_check(alter: object) -> None:
    key = Ed25519PrivateKey.generate()
    signed = json.loads(json.dumps(signing.sign(EVENT, key)))
    alter(signed)  # type: ignore[operator]
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(signed, {signing.key_id(key.public_key()): key.public_key()})


def test_another_key_of_the_same_id_is_refused() -> None:
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = signing.sign(EVENT, theirs)
    forged["btkeyid"] = signing.key_id(ours.public_key())
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(forged, {signing.key_id(ours.public_key()): ours.public_key()})


def test_the_key_file_is_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "partner-signing.pem"
    first = signing.new_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = signing.new_key_file(path)
    assert signing.key_id(first.public_key()) == signing.key_id(again.public_key())
    assert signing.load_public_pem(signing.public_pem(first)) is not None
