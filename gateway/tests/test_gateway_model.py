"""Roles, the route table, passwords and the development accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from gateway_fakes import MemoryUsers, make_settings
from pydantic import ValidationError
from starlette.routing import compile_path

from civreg import sites
from civreg.policy import POLICY
from gateway import passwords, roles, routes, seed, users
from gateway import settings as gateway_settings
from gateway.main import build_app


def test_dev_users_cover_every_role_and_site() -> None:
    reference = sites.load()
    by_role: dict[str, set[str | None]] = {}
    for account in seed.DEV_USERS:
        roles.check(account.role, account.site)
        by_role.setdefault(account.role, set()).add(account.site)

    assert by_role["centre_operator"] == {c.id for c in reference.service_centres}
    offices = {o.id for o in reference.registry_offices}
    for role in roles.REGISTRY_ROLES:
        assert by_role[role] == offices
    assert by_role["supervisor"] == {None}
    for office in offices:
        executives = [u for u in seed.DEV_USERS if u.role == "registry_executive" and u.site == office]
        assert len(executives) == 2
    assert len({u.username for u in seed.DEV_USERS}) == len(seed.DEV_USERS)


@pytest.mark.parametrize(
    ("role", "site"),
    [
        ("registry_god", None),
        ("centre_operator", None),
        ("centre_operator", "almaty-almaly"),
        ("registry_head", "almaty-con-1"),
        ("registry_executive", "astana-nowhere"),
        ("supervisor", "almaty-almaly"),
    ],
)
def test_role_and_site_must_fit(role: str, site: str | None) -> None:
    with pytest.raises(ValueError, match=r"unknown role|must be bound to|is not bound to a site"):
        roles.check(role, site)


def test_new_user_validates_and_hashes() -> None:
    user = users.new_user(" Operator9 ", "long-enough", "Ахметов Ерлан", "centre_operator", "almaty-con-2")

    assert user.username == "operator9"
    assert passwords.verify_password("long-enough", user.password_hash)
    with pytest.raises(ValueError, match="without spaces"):
        users.new_user("two words", "long-enough", "X", "supervisor", None)
    with pytest.raises(ValueError, match="at least 8 characters"):
        users.new_user("short", "short", "X", "supervisor", None)


def test_password_hashes_are_salted_and_verify() -> None:
    a = passwords.hash_password("секрет-пароль", n=16, r=1, p=1)
    b = passwords.hash_password("секрет-пароль", n=16, r=1, p=1)

    assert a != b
    assert passwords.verify_password("секрет-пароль", a)
    assert not passwords.verify_password("секрет-пароль!", a)
    assert not passwords.verify_password("x", "not-a-hash")
    assert not passwords.verify_password("x", "bcrypt$1$1$1$AAAA$AAAA")


async def test_seeding_is_idempotent_and_keeps_existing_accounts() -> None:
    store = MemoryUsers()
    first = await seed.seed(store, seed.DEV_USERS[:2])
    changed = users.new_user(
        "operator1", "changed-by-hand", "Сейткали Айгерим Нурлановна", "centre_operator", "almaty-con-1"
    )
    store.users["operator1"] = changed

    second = await seed.seed(store, seed.DEV_USERS[:2])

    assert first == ["operator1", "operator2"]
    assert second == []
    assert store.users["operator1"] is changed


async def test_seeding_refuses_a_bad_account_before_writing_any() -> None:
    store = MemoryUsers()
    bad = seed.DevUser("ghost", "ghost-pass", "Призрак", "centre_operator", "almaty-con-9")

    with pytest.raises(ValueError, match="must be bound to a service centre"):
        await seed.seed(store, [seed.DEV_USERS[0], bad])
    assert store.users == {}


def test_route_table_is_consistent() -> None:
    table = routes.RouteTable()

    assert table.services() == ["fee", "intake", "notification", "registry"]
    route = table.find("get", "/api/v1/applications/{id}")
    assert route is not None
    assert route.service == "intake"
    assert table.find("DELETE", "/api/v1/applications") is None
    with pytest.raises(ValueError, match="is in the route table twice"):
        routes.RouteTable([*routes.TABLE, routes.TABLE[0]])
    with pytest.raises(ValueError, match="name the same parameters apart"):
        routes.RouteTable(
            [
                routes.Route("GET", "/a/{x}", "fee", roles.ALL_ROLES),
                routes.Route("POST", "/a/{y}", "fee", roles.ALL_ROLES),
            ]
        )


def test_the_route_table_takes_its_roles_from_the_policy_table() -> None:
    """Every operation of civreg.policy is routed, with its roles; a path nobody owns, an owner of a path the
    table has no operation on, or a second spelling of a path stops the gateway's build (ADR 0014)."""
    table = routes.RouteTable()
    assert len(table.routes) == len(POLICY.permissions)
    for permission in POLICY.permissions:
        route = table.find(permission.method, permission.path)
        assert route is not None
        assert route.roles == {r.value for r in permission.roles}
    owners = dict(routes.OWNERS)
    with pytest.raises(ValueError, match="no service owns it"):
        routes.from_policy([(p, s) for p, s in routes.OWNERS if p != "/api/v1/fees"])
    with pytest.raises(ValueError, match="no operation on"):
        routes.from_policy([*routes.OWNERS, ("/api/v1/payments", "fee")])
    with pytest.raises(ValueError, match="apart"):
        routes.from_policy(
            [(p, s) for p, s in routes.OWNERS if p != "/api/v1/cases/{case_id}"]
            + [("/api/v1/cases/{id}", owners["/api/v1/cases/{case_id}"])]
        )


def test_literal_paths_are_registered_before_parameters() -> None:
    table = routes.RouteTable(
        [
            routes.Route("GET", "/api/v1/cases/{case_id}", "registry", roles.ALL_ROLES),
            routes.Route("GET", "/api/v1/cases/overdue", "registry", roles.ALL_ROLES),
        ]
    )

    assert [path for path, _ in table.by_path()] == ["/api/v1/cases/overdue", "/api/v1/cases/{case_id}"]


def test_settings_refuse_the_placeholder_secret_in_production() -> None:
    with pytest.raises(ValueError, match="BT_JWT_SECRET must be set"):
        make_settings(env="production", jwt_secret="dev-only-secret-change-me-0123456789abcdef")


def test_the_development_jwt_secret_is_refused_in_production() -> None:
    # Moved from shared/kernel/tests/test_settings_clock.py with GatewaySettings (the kernel knows no service).
    with pytest.raises(ValidationError, match="BT_JWT_SECRET"):
        gateway_settings.Settings(env="production", jwt_secret=gateway_settings.DEV_JWT_SECRET)


def test_relay_and_consumers_are_always_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BT_RELAY_ENABLED", "true")
    monkeypatch.setenv("BT_CONSUMERS_ENABLED", "true")
    monkeypatch.setenv("BT_INTAKE_URL", "http://127.0.0.1:9999")

    loaded = gateway_settings.load()

    assert (loaded.relay_enabled, loaded.consumers_enabled) == (False, False)
    assert loaded.intake_url == "http://127.0.0.1:9999"


def test_the_channels_and_the_new_roles_in_the_route_table() -> None:
    table = routes.RouteTable()
    submit = table.find("POST", "/api/v1/applications")
    assert submit is not None
    # Service centre, registry desk (chancellery; the worker for annulment) and the portal client submit.
    assert submit.roles == {"centre_operator", "registry_chancellery", "registry_worker", "portal"}
    cabinet = table.find("GET", "/api/v1/portal/notifications")
    assert cabinet is not None
    assert "portal" in cabinet.roles
    assert "centre_operator" not in cabinet.roles
    worklist = table.find("GET", "/api/v1/worklist")
    assert worklist is not None
    assert "portal" not in worklist.roles
    registering = table.find("POST", "/api/v1/cases/{case_id}/chancellery-registration")
    assert registering is not None
    assert "registry_worker" in registering.roles
    portal = [u for u in seed.DEV_USERS if u.role == roles.PORTAL]
    assert len(portal) == 1
    assert portal[0].site is None
    with pytest.raises(ValueError, match="is not bound to a site"):
        roles.check(roles.PORTAL, "almaty-almaly")


def _paths(routes_: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """(route name, path template) of every route, through the routers FastAPI keeps as included routers."""
    for route in routes_:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _paths(inner.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route.name, route.path


def test_no_other_route_is_one_of_the_proxy_templates() -> None:
    """The proxy router is included first (gateway.main, issue 13); that changes no answer only while no path of
    the gateway's own routes matches one of its templates."""
    app = build_app(make_settings())
    templates = [compile_path(path)[0] for path, _ in routes.RouteTable().by_path()]
    own = [(name, path) for name, path in _paths(app.router.routes) if not name.startswith("proxy:")]
    assert any(path == "/api/v1/auth/me" for _, path in own)
    for _, path in own:
        # A parameter's sample value: any single segment, as a caller could send it.
        sample = re.sub(r"\{[^}]+\}", "x", path)
        assert not [t.pattern for t in templates if t.match(sample)], path
