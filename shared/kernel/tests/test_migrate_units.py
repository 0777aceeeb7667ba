"""The migration runner's pure parts (ADR 0015): what a checksum covers, the order of files, which target names
which packages, and when a service migrates at start."""

from __future__ import annotations

import pytest

from btkernel import migrate
from btkernel.settings import ServiceSettings


def test_a_checksum_is_the_sha256_of_the_text_whatever_its_line_endings() -> None:
    assert migrate.checksum("SELECT 1;\n") == migrate.checksum("SELECT 1;\r\n")
    assert migrate.checksum("SELECT 1;\n") != migrate.checksum("SELECT 2;\n")
    assert len(migrate.checksum("")) == 64


def test_the_kernel_files_come_first_then_each_package_in_name_order() -> None:
    scripts = migrate.scripts(["gateway.migrations", migrate.KERNEL_PACKAGE])
    packages = [s.package for s in scripts]
    assert packages[0] == migrate.KERNEL_PACKAGE
    assert packages.count(migrate.KERNEL_PACKAGE) == len(migrate.scripts([]))  # named twice, read once
    gateway = [s.name for s in scripts if s.package == "gateway.migrations"]
    assert gateway == sorted(gateway)
    assert gateway
    assert all(s.key == f"{s.package}:{s.name}" for s in scripts)


def test_a_target_names_packages_directly_or_through_its_app() -> None:
    assert migrate.packages_of("a.migrations,b.migrations") == ["a.migrations", "b.migrations"]
    # The gateway's app, as built by create_app, names its own package.
    assert migrate.packages_of("gateway.main:app") == ["gateway.migrations"]


@pytest.mark.parametrize(
    ("env", "explicit", "migrates"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", True, True),
        ("test", False, False),
    ],
)
def test_only_development_and_test_migrate_at_start_unless_told(
    env: str, explicit: bool | None, migrates: bool
) -> None:
    settings = ServiceSettings(env=env, migrate_on_start=explicit)
    assert settings.migrates_on_start is migrates
