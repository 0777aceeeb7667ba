"""Settings of the printable documents (BT_* environment variables), read by intake's composition root.

Their own class rather than fields of `IntakeSettings`: the documents are one concern with one set of switches,
and a deployment that never prints still gets a checked public URL and code secret."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Published in this repository: a code made with it proves nothing, so production refuses it (like BT_JWT_SECRET).
DEV_CODE_SECRET = "dev-only-document-code-secret-0123456789"
# HMAC-SHA256 wants a key at least as long as its output to be as strong as it (RFC 2104 §3).
MIN_SECRET_BYTES = 32
DEVELOPMENT_ENVS = frozenset({"development", "test"})
DEJAVU = "/usr/share/fonts/truetype/dejavu"


class DocumentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BT_", extra="ignore")

    env: str = "development"
    # Where people reach the platform: the QR on every document leads to `{public_url}/verify/{code}`, served by
    # the gateway. The default is the gateway's address in `make run`; btdeploy sets the stack's gateway.
    public_url: str = "http://127.0.0.1:8000"
    # The key that makes verification codes unforgeable (intake.documents.codes). Several, comma-separated,
    # during a rotation: the first makes new codes, each verifies (a receipt printed last year stays valid).
    document_code_secret: str = DEV_CODE_SECRET
    # TrueType fonts with Cyrillic and the Kazakh letters, embedded in every PDF (Debian `fonts-dejavu-core`).
    document_font: str = f"{DEJAVU}/DejaVuSans.ttf"
    document_font_bold: str = f"{DEJAVU}/DejaVuSans-Bold.ttf"

    @property
    def code_secrets(self) -> list[bytes]:
        return [s.strip().encode() for s in self.document_code_secret.split(",") if s.strip()]

    @model_validator(mode="after")
    def _usable(self) -> DocumentSettings:
        if not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"BT_PUBLIC_URL must be an http(s) URL, not {self.public_url!r}")
        secrets = self.code_secrets
        if not secrets or any(len(s) < MIN_SECRET_BYTES for s in secrets):
            raise ValueError(f"each BT_DOCUMENT_CODE_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if self.env not in DEVELOPMENT_ENVS and DEV_CODE_SECRET.encode() in secrets:
            raise ValueError(f"BT_DOCUMENT_CODE_SECRET must be set to a real secret when BT_ENV={self.env}")
        return self
