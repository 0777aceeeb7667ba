"""python -m btkernel.history verify [--dsn DSN] [--public-keys PEM | --jwks FILE_OR_URL]
python -m btkernel.history seal [--dsn DSN]
python -m btkernel.history bench --dsn OWNER_DSN [--appends N]   (what the journal costs an append)

Checks every stream's chain, the ledger and every seal of one service's database; prints the findings, the first
altered, missing or re-ordered event first, and exits 1 when there is any (0 when the history is whole). Without
keys, the seals' signatures are checked with BT_PARTNER_SIGNING_KEY_FILE's public half when that is set."""

from __future__ import annotations

import argparse
import asyncio
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from btkernel import db
from btkernel.history import bench
from btkernel.history import keys as history_keys
from btkernel.history.ledger import seal
from btkernel.history.verify import verify
from btkernel.settings import ServiceSettings


def _keys(args: argparse.Namespace, settings: ServiceSettings) -> dict[str, Ed25519PublicKey] | None:
    if args.public_keys:
        return history_keys.from_pem_file(args.public_keys)
    if args.jwks:
        return history_keys.from_jwks(args.jwks)
    key = history_keys.private_key(settings.partner_signing_key_file)
    return history_keys.by_id([key.public_key()]) if key is not None else None


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m btkernel.history")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check every chain and seal; exit 1 naming what is broken")
    check.add_argument("--public-keys", help="PEM file of the platform's public key(s)")
    check.add_argument("--jwks", help="the published key set: a file or the gateway's well-known URL")
    sealing = sub.add_parser("seal", help="link and seal now (BT_PARTNER_SIGNING_KEY_FILE)")
    cost = sub.add_parser(
        "bench", help="what the journal costs an append (owner's DSN, a database of its own)"
    )
    cost.add_argument("--appends", type=int, default=2000)
    for command in (check, sealing, cost):
        command.add_argument("--dsn", help="the service's database; default BT_DATABASE_URL")
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    conn = await db.connect(args.dsn or settings.database_url)
    try:
        if args.command == "bench":
            print(await bench.measure(conn, max(2, min(args.appends, 1_000_000))))
            return 0
        if args.command == "seal":
            key = history_keys.private_key(settings.partner_signing_key_file)
            if key is None:
                parser.error("BT_PARTNER_SIGNING_KEY_FILE is not set: nothing to sign with")
            document = await seal(conn, key, settings.service_name)
            print(f"sealed at position {document['position']}" if document else "nothing new to seal")
            return 0
        report = await verify(conn, _keys(args, settings))
    finally:
        await conn.close()
    for finding in report.findings:
        print(finding)
    print(("history intact: " if report.ok else "HISTORY BROKEN: ") + report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_cli(sys.argv[1:])))
