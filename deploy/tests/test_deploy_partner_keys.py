"""The run folder's partner signing key: made once, kept private, its public half next to it for the gateway."""

from __future__ import annotations

import stat
from pathlib import Path

from btdeploy import partner_keys
from btkernel import signing


def test_the_key_is_made_once_and_its_public_half_verifies_what_it_signs(tmp_path: Path) -> None:
    private = partner_keys.signing_key_file(tmp_path)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert partner_keys.signing_key_file(tmp_path).read_bytes() == private.read_bytes(), "kept, not replaced"

    public = signing.load_public_pem(partner_keys.public_keys_file(tmp_path).read_text())
    event = signing.sign({"id": "e-1", "data": {"record_id": "r-1"}}, signing.load_private_key(private))
    signing.verify(event, {signing.key_id(public): public})
