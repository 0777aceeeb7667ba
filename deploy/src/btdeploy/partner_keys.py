"""The platform's partner signing key for one run folder (docs/adr/0026-partner-publisher.md).

* `keys/partner-signing.pem`: the Ed25519 private key the registry signs every partner event with
  (BT_PARTNER_SIGNING_KEY_FILE), made once and kept (0600, btkernel.signing.new_key_file);
* `keys/partner-public-keys.pem`: its public half, no secret, for the gateway to serve as the JWKS agencies verify
  with (BT_PARTNER_PUBLIC_KEYS_FILE; several PEM blocks once keys are rotated).

The topics `partner.<agency>` are the administrator's (btdeploy.kafka_access.contracted_partner_topics).
"""

from __future__ import annotations

from pathlib import Path

from btkernel import signing

KEY_DIR = "keys"
PRIVATE_KEY_FILE = "partner-signing.pem"
PUBLIC_KEYS_FILE = "partner-public-keys.pem"


def signing_key_file(run_dir: Path) -> Path:
    """The private key's path, written when it is not there yet (never overwritten)."""
    path = run_dir / KEY_DIR / PRIVATE_KEY_FILE
    signing.new_key_file(path)
    return path


def public_keys_file(run_dir: Path) -> Path:
    """The public key(s) the gateway publishes, written next to the private key from it (rewritten only when
    its content would change)."""
    path = run_dir / KEY_DIR / PUBLIC_KEYS_FILE
    pem = signing.public_pem(signing.load_private_key(signing_key_file(run_dir)))
    if not path.exists() or path.read_text() != pem:
        path.write_text(pem)
    return path
