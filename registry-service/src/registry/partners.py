"""Operator commands of the partner feeds (docs/adr/0026-partner-publisher.md), run with the registry's
environment (BT_DATABASE_URL, BT_KAFKA_*):

    python -m registry.partners status                     # each feed: digest, lag, last published, requests
    python -m registry.partners republish <agency> [--by NAME]

`republish` only records the request in the registry database; the running publisher sees it within
BT_PARTNER_REQUEST_POLL_S, truncates the agency's topic and publishes every record event again (same event ids).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from btkernel import db
from btkernel.health import KafkaOffsets
from btkernel.kafka_client import client_options
from civreg import partners, topics
from registry.adapters.partner_feeds import PgFeedStore
from registry.app.partner_feed import group_id
from registry.settings import RegistrySettings


async def republish(dsn: str, agency: str, by: str) -> None:
    pool = await db.create_pool(dsn, max_size=1)
    try:
        await PgFeedStore(pool).request_republish(agency, by)
    finally:
        await pool.close()


async def status(dsn: str, settings: RegistrySettings) -> list[dict[str, Any]]:
    """One row per contract: what the database knows of its feed, and its lag on civreg.record from Kafka."""
    pool = await db.create_pool(dsn, max_size=1)
    try:
        rows = {r["agency"]: r for r in await PgFeedStore(pool).all_states()}
    finally:
        await pool.close()
    offsets = KafkaOffsets(client_options(settings), settings.health_probe_timeout_s)
    out = []
    try:
        for contract in partners.all_contracts():
            row = rows.get(contract.agency, {})
            try:
                lag: int | str = sum(
                    (await offsets.backlog(group_id(contract.agency), [topics.RECORD])).values()
                )
            except Exception as exc:  # Kafka away: the rest of the status is still worth showing
                lag = f"? ({type(exc).__name__})"
                await offsets.reset()
            out.append(
                {
                    "agency": contract.agency,
                    "topic": contract.topic,
                    "digest": contract.digest(),
                    "published_digest": row.get("published_digest"),
                    "lag": lag,
                    "last_published_at": row.get("last_published_at"),
                    "skipped_events": row.get("skipped_events", 0),
                    "republished_at": row.get("republished_at"),
                    "republish_requested_at": row.get("republish_requested_at"),
                    "republish_requested_by": row.get("republish_requested_by"),
                }
            )
    finally:
        await offsets.close()
    return out


def _render(row: dict[str, Any]) -> str:
    digest = row["digest"]
    if row["published_digest"] != digest:
        digest += f" (published with {row['published_digest'] or 'nothing yet'}: re-publication due)"
    lines = [
        f"{row['agency']}  topic {row['topic']}",
        f"  digest          {digest}",
        f"  lag             {row['lag']}",
        f"  last published  {row['last_published_at'] or 'never'}",
        f"  republished     {row['republished_at'] or 'never'}",
    ]
    if row["skipped_events"]:
        lines.append(f"  skipped         {row['skipped_events']} unprojectable event(s) (see the ERROR log)")
    if row["republish_requested_at"]:
        lines.append(
            f"  requested       re-publication by {row['republish_requested_by']} at {row['republish_requested_at']}"
        )
    return "\n".join(lines)


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry.partners", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="the registry database; default BT_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="each feed: agency, digest, lag, last published")
    again = sub.add_parser("republish", help="truncate an agency's topic and publish everything again")
    again.add_argument("agency")
    again.add_argument("--by", default=None, help="who asks (default: the login name)")
    args = parser.parse_args(argv)
    settings = RegistrySettings()
    dsn = args.dsn or settings.database_url
    if args.command == "republish":
        if partners.by_agency(args.agency) is None:
            known = ", ".join(c.agency for c in partners.all_contracts())
            parser.error(f"no contract for agency {args.agency!r}; known: {known}")
        await republish(dsn, args.agency, args.by or getpass.getuser())
        print(
            f"re-publication of {args.agency} requested; the running publisher starts it within"
            f" {settings.partner_request_poll_s:g} s",
            file=sys.stderr,
        )
        return 0
    print("\n".join(_render(row) for row in await status(dsn, settings)))
    return 0


def main() -> None:
    sys.exit(asyncio.run(_cli(sys.argv[1:])))


if __name__ == "__main__":
    main()
