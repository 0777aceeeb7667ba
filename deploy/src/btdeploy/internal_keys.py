"""The gateway's internal-token key pair for one run folder (btkernel.internal_token, ADR 0002 as updated).

Made once and kept, like the PostgreSQL superuser's password (btdeploy.postgres): the private key readable only
by its owner (0600), given to the gateway as a file; the public half, no secret, given to every service as text.
"""

from __future__ import annotations

import os
from pathlib import Path

from btkernel import internal_token

PRIVATE_KEY_FILE = "internal-token-key.pem"


def ensure_key_file(run_dir: Path) -> Path:
    """The private key's path under `run_dir`, written (0600, never overwritten) when it is not there yet."""
    path = run_dir / PRIVATE_KEY_FILE
    if path.exists():
        return path
    run_dir.mkdir(parents=True, exist_ok=True)
    pem = internal_token.private_key_pem(internal_token.generate_private_key())
    try:
        # O_EXCL: two starts racing on one folder keep one key; 0600 from the start, never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return path


def public_key_pem(key_file: Path) -> str:
    return internal_token.public_key_pem(internal_token.load_private_key(key_file).public_key())
