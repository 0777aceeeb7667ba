"""Onboarding of partner agencies on the broker: `python -m btdeploy partners onboard|revoke <agency>`.

Onboarding creates the SCRAM user `partner-<agency>` with a random password (printed once, stored nowhere in
clear: the broker keeps only its salted SCRAM hash), the topic `partner.<agency>` and exactly the ACLs of
`btdeploy.kafka_access.partner_grants`; it prints what the agency's engineers need to connect. Run again, it
gives a new password (the old one stops working). Revocation deletes the credential and the ACLs; the topic
stays unless `--delete-topic` (docs/adr/0023-kafka-principals-and-acls.md).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from btdeploy import paths
from btdeploy.kafka import KafkaServer, read_secret
from btdeploy.kafka_access import (
    ADMIN,
    AGENCY_ID,
    known_agencies,
    partner_grants,
    partner_group_prefix,
    partner_principal,
    partner_topic,
    partner_topic_spec,
)
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.stack import PortPlan
from btkernel.kafka_client import SASL_MECHANISM, SECURITY_PROTOCOL, sasl_options

# Where the gateway publishes the keys that verify partner events' signatures.
SIGNING_KEYS_PATH = "/.well-known/bt-partner-keys.json"


@dataclass(frozen=True)
class PartnerConnection:
    """What an agency's engineers need: everything but the password is also in the AsyncAPI document."""

    agency: str
    bootstrap: str
    security_protocol: str
    sasl_mechanism: str
    username: str
    password: str
    topic: str
    group_prefix: str
    signing_keys_url: str

    def as_text(self) -> str:
        return "\n".join(
            [
                f"Kafka connection for partner agency {self.agency}",
                f"  bootstrap servers   {self.bootstrap}",
                f"  security protocol   {self.security_protocol}",
                f"  SASL mechanism      {self.sasl_mechanism}",
                f"  username            {self.username}",
                f"  password            {self.password}",
                f"  topic (read only)   {self.topic}",
                f"  consumer groups     {self.group_prefix}<name>",
                f"  signing keys        {self.signing_keys_url}",
                "Clients based on librdkafka need version 2.6.1 or later (older ones fail SCRAM with Kafka 4).",
                "The password is shown this once and kept nowhere: hand it over now.",
            ]
        )


class UnknownAgency(ValueError):
    pass


def check_agency(agency: str) -> None:
    if not AGENCY_ID.match(agency):
        raise UnknownAgency(
            f"{agency!r} is not an agency id (lower-case letters, digits, '-'; 2–31 characters)"
        )
    known = known_agencies()
    if known is None:
        return
    if agency not in known:
        raise UnknownAgency(
            f"no partner contract for {agency!r}; contracts exist for: {', '.join(sorted(known))}"
        )
    if known[agency] != partner_topic(agency):
        raise UnknownAgency(
            f"the contract of {agency} names topic {known[agency]!r}, the broker's ACLs {partner_topic(agency)!r}"
        )


def onboard(admin: KafkaAdmin, agency: str, *, bootstrap: str, gateway_url: str) -> PartnerConnection:
    check_agency(agency)
    user = partner_principal(agency)
    password = secrets.token_urlsafe(24)
    admin.ensure_topics([partner_topic_spec(agency)])
    admin.upsert_user(user, password)
    admin.set_grants(user, partner_grants(agency))
    return PartnerConnection(
        agency=agency,
        bootstrap=bootstrap,
        security_protocol=SECURITY_PROTOCOL,
        sasl_mechanism=SASL_MECHANISM,
        username=user,
        password=password,
        topic=partner_topic(agency),
        group_prefix=partner_group_prefix(agency),
        signing_keys_url=gateway_url.rstrip("/") + SIGNING_KEYS_PATH,
    )


def revoke(admin: KafkaAdmin, agency: str, *, delete_topic: bool = False) -> list[str]:
    """Remove the agency's ACLs and credential (and its topic if asked); returns what was done, in words. Any
    well-formed id is accepted, so an agency whose contract was withdrawn can still be revoked."""
    if not AGENCY_ID.match(agency):
        raise UnknownAgency(f"{agency!r} is not an agency id")
    user = partner_principal(agency)
    done = []
    # ACLs first: from this moment even a connection still open is refused every request.
    admin.set_grants(user, ())
    done.append(f"ACLs of User:{user} removed")
    done.append(f"credential of {user} deleted" if admin.delete_user(user) else f"{user} had no credential")
    if delete_topic:
        admin.delete_topic(partner_topic(agency))
        done.append(f"topic {partner_topic(agency)} deleted")
    return done


# -- command line ---------------------------------------------------------------------------------------------


def _admin_from(args: argparse.Namespace) -> tuple[KafkaAdmin, str]:
    """The administrator of `make run`'s broker (its secret beside its data in the run dir), or of the broker the
    options name."""
    fixed = PortPlan.fixed()
    run_dir = Path(args.run_dir) if args.run_dir else paths.repo_root() / ".run"
    server = KafkaServer(run_dir / "kafka", fixed.kafka, fixed.kafka_controller)
    bootstrap = args.bootstrap or server.bootstrap
    secret_file = Path(args.secret_file) if args.secret_file else server.secret_path
    return KafkaAdmin(sasl_options(bootstrap, ADMIN, read_secret(secret_file))), bootstrap


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m btdeploy partners", description=__doc__)
    parser.add_argument("--run-dir", help="the run dir of `make run` (default: .run of this checkout)")
    parser.add_argument("--bootstrap", help="the broker (default: `make run`'s, 127.0.0.1:19092)")
    parser.add_argument(
        "--secret-file", help="the administrator's secret (default: <run dir>/kafka/admin.secret)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    on = commands.add_parser("onboard", help="credentials, topic and ACLs for an agency; prints its settings")
    on.add_argument("agency")
    on.add_argument("--gateway", default="http://127.0.0.1:8000", help="the gateway's public URL")
    on.add_argument("--json", action="store_true", help="print the settings as JSON")
    off = commands.add_parser("revoke", help="delete an agency's credential and ACLs")
    off.add_argument("agency")
    off.add_argument("--delete-topic", action="store_true", help="delete its topic too")
    args = parser.parse_args(argv)
    try:
        if args.command == "onboard":
            check_agency(args.agency)  # before anything touches the broker
        admin, bootstrap = _admin_from(args)
        if args.command == "onboard":
            conn = onboard(admin, args.agency, bootstrap=bootstrap, gateway_url=args.gateway)
            print(json.dumps(asdict(conn), indent=2) if args.json else conn.as_text())
        else:
            for line in revoke(admin, args.agency, delete_topic=args.delete_topic):
                print(line)
    except (UnknownAgency, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
