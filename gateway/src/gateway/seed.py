"""Development accounts, one or more per role and site, created at start only when BT_ENV says development or
test (`Settings.development_shortcuts`); their passwords are published here, so anywhere else they are refused at
sign-in (`is_dev_credential`, ADR 0021)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway import roles, users
from gateway.users import UserStore


@dataclass(frozen=True)
class DevUser:
    username: str
    password: str
    full_name: str
    role: str
    site: str | None


_ACCOUNTS: list[tuple[str, str, str, str | None]] = [
    # user name, full name, role, site
    ("operator1", "Сейткали Айгерим Нурлановна", roles.CENTRE_OPERATOR, "almaty-con-1"),
    ("operator2", "Иванова Мария Сергеевна", roles.CENTRE_OPERATOR, "almaty-con-2"),
    ("chancellery1", "Жумабекова Гульнара Ерлановна", roles.REGISTRY_CHANCELLERY, "almaty-almaly"),
    ("head1", "Абдрахманов Нурлан Болатович", roles.REGISTRY_HEAD, "almaty-almaly"),
    ("executive1a", "Касымова Динара Маратовна", roles.REGISTRY_EXECUTIVE, "almaty-almaly"),
    ("executive1b", "Петров Алексей Викторович", roles.REGISTRY_EXECUTIVE, "almaty-almaly"),
    ("chancellery2", "Нургалиева Асель Кайратовна", roles.REGISTRY_CHANCELLERY, "almaty-bostandyk"),
    ("head2", "Садыков Ерлан Муратович", roles.REGISTRY_HEAD, "almaty-bostandyk"),
    ("executive2a", "Оспанова Жанар Бекетовна", roles.REGISTRY_EXECUTIVE, "almaty-bostandyk"),
    ("executive2b", "Смирнова Ольга Николаевна", roles.REGISTRY_EXECUTIVE, "almaty-bostandyk"),
    ("worker1", "Ахметова Сауле Жанатовна", roles.REGISTRY_WORKER, "almaty-almaly"),
    ("worker2", "Ким Елена Викторовна", roles.REGISTRY_WORKER, "almaty-bostandyk"),
    # The Astana pilot site (S000): accelerated birth and death registration.
    ("operator3", "Тулегенова Камила Асхатовна", roles.CENTRE_OPERATOR, "astana-yesil-con-1"),
    ("chancellery3", "Бекмуханов Арман Серикович", roles.REGISTRY_CHANCELLERY, "astana-yesil"),
    ("head3", "Искакова Салтанат Ермековна", roles.REGISTRY_HEAD, "astana-yesil"),
    ("executive3a", "Жаксылыков Данияр Нурланович", roles.REGISTRY_EXECUTIVE, "astana-yesil"),
    ("worker3", "Омарова Айжан Талгатовна", roles.REGISTRY_WORKER, "astana-yesil"),
    ("executive3b", "Ким Елена Владимировна", roles.REGISTRY_EXECUTIVE, "astana-yesil"),
    # The Kyrgyz one-window pilot (S003, ADR 0039): a post-office centre of the Sokuluk branch and the Sokuluk
    # district registry office of the State Registration Service.
    ("kg-operator1", "Асанова Айгүл Бакытовна", roles.CENTRE_OPERATOR, "kg-sokuluk-belek"),
    ("kg-chancellery1", "Мамытова Жылдыз Асылбековна", roles.REGISTRY_CHANCELLERY, "kg-sokuluk"),
    ("kg-head1", "Токтогулов Эрлан Маратович", roles.REGISTRY_HEAD, "kg-sokuluk"),
    ("kg-executive1", "Жумабаева Нургүл Талантовна", roles.REGISTRY_EXECUTIVE, "kg-sokuluk"),
    # Every site and role has an account (gateway test_dev_users_cover_every_role_and_site).
    ("kg-executive2", "Исмаилов Азамат Русланович", roles.REGISTRY_EXECUTIVE, "kg-sokuluk"),
    ("kg-worker1", "Осмонова Бермет Кубанычбековна", roles.REGISTRY_WORKER, "kg-sokuluk"),
    ("kg-operator2", "Алиева Чолпон Сагынбековна", roles.CENTRE_OPERATOR, "kg-sokuluk-aral-dalniy"),
    ("kg-operator3", "Кадыров Бактыбек Муратович", roles.CENTRE_OPERATOR, "kg-sokuluk-natsionalnoye"),
    ("kg-operator4", "Орозбекова Гулзат Эмилбековна", roles.CENTRE_OPERATOR, "kg-sokuluk-malovodnoye"),
    ("supervisor", "Тулегенов Бауыржан Серикович", roles.SUPERVISOR, None),
    # The e-government portal as an API client (development credentials).
    ("egov-portal", "Портал электронного правительства egov.kz", roles.PORTAL, None),
]
# Development data only: every password is the user name followed by "-pass", so a tester can guess it.
DEV_USERS: list[DevUser] = [
    DevUser(name, f"{name}-pass", full, role, site) for name, full, role, site in _ACCOUNTS
]


_DEV_PASSWORDS = {u.username: u.password for u in DEV_USERS}


def is_dev_credential(username: str, password: str) -> bool:
    """Whether these are a development account's published credentials. Refused outside development whatever the
    database holds: accounts seeded by an earlier start (or by an older version that seeded in any environment)
    stay in the table, and no migration can tell them from real ones by name alone, but their password gives them
    away — and a same-named account an operator gave a real password keeps working."""
    return _DEV_PASSWORDS.get(users.normalise(username)) == password


async def seed(store: UserStore, accounts: list[DevUser] | None = None) -> list[str]:
    """Create the accounts that do not exist yet and return their names. Existing accounts are left alone, so
    a password changed by hand survives a restart."""
    accounts = DEV_USERS if accounts is None else accounts
    # Validate every account before writing any: a typo in a site id should stop the start, not half-seed.
    for account in accounts:
        roles.check(account.role, account.site)
    present = await store.existing(a.username for a in accounts)
    created = []
    for account in accounts:
        if users.normalise(account.username) in present:
            continue
        user = users.new_user(
            account.username, account.password, account.full_name, account.role, account.site
        )
        if await store.add(user):
            created.append(user.username)
    return created
