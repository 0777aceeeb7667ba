"""Where the repository is, so Kafka's pom, its logging config and the caches are found from any cwd."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package is installed from (editable), or BT_REPO_ROOT when set."""
    if override := os.environ.get("BT_REPO_ROOT"):
        return Path(override).resolve()
    for candidate in Path(__file__).resolve().parents:
        if (candidate / "deploy" / "kafka" / "pom.xml").is_file():
            return candidate
    # Installed non-editable: the caller's checkout is the best remaining guess.
    return Path.cwd().resolve()


def kafka_dir() -> Path:
    return repo_root() / "deploy" / "kafka"


def cache_dir() -> Path:
    return repo_root() / ".cache"
