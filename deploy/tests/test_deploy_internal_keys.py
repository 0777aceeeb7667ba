"""The gateway's internal-token key pair of a run folder (btdeploy.internal_keys): made once, private key 0600,
the private key to the gateway alone and its public half to every service (Stack.env_for)."""

from __future__ import annotations

import stat
from pathlib import Path

from btdeploy import internal_keys
from btdeploy.kafka import write_secret
from btdeploy.postgres import ExternalPostgres
from btdeploy.stack import SERVICE_NAMES, PortPlan, Stack
from btkernel import internal_token
from btkernel.context import Actor


def test_the_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = internal_keys.ensure_key_file(tmp_path / "run")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    assert internal_keys.ensure_key_file(tmp_path / "run") == path
    assert path.read_bytes() == before


def test_the_gateway_signs_with_the_key_every_service_verifies(tmp_path: Path) -> None:
    stack = Stack(tmp_path, PortPlan.free(), postgres=ExternalPostgres("postgresql://postgres@127.0.0.1:1/x"))
    write_secret(stack.kafka.secret_path, "s3cret")  # env_for gives each service its Kafka login too
    gateway = stack.env_for("gateway")
    signer = internal_token.Signer(internal_token.load_private_key(gateway["BT_INTERNAL_TOKEN_KEY_FILE"]))
    actor = Actor(id="head1", name="head1", role="registry_head", site="almaty-almaly")
    for name in SERVICE_NAMES:
        env = stack.env_for(name)
        verifier = internal_token.verifier_from_settings(env["BT_INTERNAL_TOKEN_PUBLIC_KEY"], name)
        assert verifier is not None
        assert verifier.verify(signer.sign(actor, name)).actor == actor
        if name != "gateway":
            assert "BT_INTERNAL_TOKEN_KEY_FILE" not in env
            assert "PRIVATE" not in env["BT_INTERNAL_TOKEN_PUBLIC_KEY"]
