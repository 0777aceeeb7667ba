"""Account administration from the command line, for deployments where no development accounts are seeded.

    python -m gateway.admin add-user USERNAME --role ROLE [--site SITE] --full-name "Фамилия Имя Отчество"
    python -m gateway.admin deactivate USERNAME

The password of a new user is read from BT_NEW_USER_PASSWORD or asked for on the terminal. The database is
BT_DATABASE_URL, migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from btkernel import db
from gateway import settings as gateway_settings
from gateway import users


async def add_user(
    dsn: str, username: str, password: str, full_name: str, role: str, site: str | None
) -> bool:
    """Create the account; False when the user name is taken."""
    user = users.new_user(username, password, full_name, role, site)
    pool = await db.create_pool(dsn, max_size=1)
    try:
        await db.migrate(pool, "gateway.migrations")
        return await users.PgUserStore(pool).add(user)
    finally:
        await pool.close()


async def deactivate(dsn: str, username: str) -> bool:
    """Switch the account off (kept for the audit trail, never deleted); False when there is no such user.
    Its tokens already issued are refused within BT_ACCOUNT_CACHE_S (gateway.users.AccountCache)."""
    conn = await db.connect(dsn)
    try:
        status: str = await conn.execute(
            "UPDATE users SET active = false, updated_at = now() WHERE username = $1",
            users.normalise(username),
        )
    finally:
        await conn.close()
    return status.endswith(" 1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.admin", description="Gateway accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True)
    add.add_argument("--site", default=None)
    add.add_argument("--full-name", required=True)
    off = commands.add_parser("deactivate", help="switch an account off")
    off.add_argument("username")
    args = parser.parse_args(argv)
    dsn = gateway_settings.load().database_url
    try:
        if args.command == "add-user":
            password = os.environ.get("BT_NEW_USER_PASSWORD") or getpass.getpass("password: ")
            done = asyncio.run(add_user(dsn, args.username, password, args.full_name, args.role, args.site))
            what = "created" if done else "already exists"
        else:
            done = asyncio.run(deactivate(dsn, args.username))
            what = "deactivated" if done else "no such user"
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"{users.normalise(args.username)}: {what}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
