"""The ACL table (btdeploy.kafka_access) against what the services really do: the topics and groups of their
ConsumerSpecs (read from each service's composition root) and the topics of the events they construct (read from
their sources). A service that starts consuming or publishing something new fails here until the table says so."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest

from btdeploy import paths
from btdeploy.kafka_access import (
    SERVICE_ACCESS,
    Grant,
    access_of,
    partner_grants,
    service_principal,
)
from btdeploy.stack import SERVICE_NAMES
from btkernel.service import ConsumerSpec
from btkernel.topics import dead_letter_topic
from civreg.events import CATALOGUE

# service -> (its composition root, the function that builds its app, the settings class it takes)
_ROOTS = {
    "intake": ("intake.main", "build_app", "IntakeSettings"),
    "registry": ("registry.main", "build_app", "RegistrySettings"),
    "notification": ("notification.main", "build", "NotificationSettings"),
    "fee": ("fees.main", "build", "FeeSettings"),
}
_SOURCES = {
    "intake": "intake-service/src",
    "registry": "registry-service/src",
    "notification": "notification-service/src",
    "fee": "fee-service/src",
    "gateway": "gateway/src",
}


def _consumer_specs(service: str, monkeypatch: pytest.MonkeyPatch) -> list[ConsumerSpec]:
    """The ConsumerSpecs the service's builder hands to create_app (captured; nothing is started)."""
    if service not in _ROOTS:
        return []
    module_name, builder, settings_class = _ROOTS[service]
    module = importlib.import_module(module_name)
    captured: list[ConsumerSpec] = []

    def capture(**kwargs: Any) -> Any:
        captured.extend(kwargs.get("consumers", ()))
        from fastapi import FastAPI

        return FastAPI()

    monkeypatch.setattr(module, "create_app", capture)
    getattr(module, builder)(getattr(module, settings_class)())
    return captured


def _published_topics(service: str) -> set[str]:
    """Topics of the catalogue's events whose class the service's code calls (constructs): what it publishes."""
    by_name = {cls.__name__: cls for cls in CATALOGUE.values()}
    out = set()
    for path in (paths.repo_root() / _SOURCES[service]).rglob("*.py"):
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in by_name:
                    out.add(by_name[name].TOPIC)
    return out


def test_every_service_has_exactly_one_entry() -> None:
    assert sorted(a.service for a in SERVICE_ACCESS) == sorted(SERVICE_NAMES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_table_reads_what_the_service_consumes_under_its_own_groups(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = _consumer_specs(service, monkeypatch)
    access = access_of(service)
    assert set(access.consumes) == {t for s in specs for t in s.topics}
    for spec in specs:
        assert spec.group.startswith(access.group_prefix), f"{spec.group} is not under {access.group_prefix}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_table_writes_what_the_service_publishes(service: str) -> None:
    assert set(access_of(service).publishes) == _published_topics(service)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_writes_are_own_topics_and_the_dead_letters_of_what_it_reads(service: str) -> None:
    access = access_of(service)
    writes = {g.name for g in access.grants() if g.kind == "topic" and g.operation == "WRITE"}
    expected = set(access.publishes) | {dead_letter_topic(t) for t in access.consumes}
    extra = {g.name for g in access.extra if g.kind == "topic" and g.operation == "WRITE"}
    assert writes == expected | extra
    reads = {g.name for g in access.grants() if g.kind == "topic" and g.operation == "READ"}
    extra_reads = {g.name for g in access.extra if g.kind == "topic" and g.operation == "READ"}
    # Its own topics too: a relay taking over reads back what was sent (btkernel.outbox_takeover).
    assert reads == set(access.consumes) | set(access.publishes) | extra_reads


def test_only_the_registry_has_extra_grants_and_they_are_the_partner_publishers() -> None:
    assert {a.service for a in SERVICE_ACCESS if a.extra} == {"registry"}
    extra = set(access_of("registry").extra)
    assert Grant("topic", "partner.", "prefixed", "WRITE") in extra
    assert Grant("transactional_id", "registry.partners", "prefixed", "WRITE") in extra
    # Never a grant on every topic, never on another service's groups.
    for access in SERVICE_ACCESS:
        for grant in access.grants():
            assert grant.name not in ("", "*")
            if grant.kind == "group" and grant.operation == "READ":
                assert grant.name.startswith(access.group_prefix)


def test_a_partner_gets_its_topic_and_group_prefix_only() -> None:
    assert partner_grants("kz-statistics") == {
        Grant("topic", "partner.kz-statistics", "literal", "READ"),
        Grant("topic", "partner.kz-statistics", "literal", "DESCRIBE"),
        Grant("group", "partner.kz-statistics.", "prefixed", "READ"),
    }
    assert service_principal("fee") == "bt-fee"
