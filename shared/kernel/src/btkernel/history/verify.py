"""`verify`: every stream's chain, the ledger and every seal, read in one snapshot; the findings name the first
altered, missing or re-ordered event by stream and version and say what no longer holds
(docs/adr/0030-tamper-evident-history.md).

A finding cannot say what the value was before (only its hash was kept): it says which event, and which link
broke — its own hash (its content or metadata changed), its link to the event before it (that one was replaced,
or the two swapped), a version or ledger position missing (deleted), or a seal that no longer matches.

`verify(conn, since=report.checked)` hashes again only the events (ledger entries, seals' signatures) written
since the verification that gave `report` (issue 13: hashing every event each round was most of the running check's cost, and blocked the service's
loop): an event inserted or changed since has a transaction id (`xmin`) at or above that round's snapshot horizon,
because every transaction below it had finished before that snapshot was taken. Every other check (versions,
links between events, journal, ledger, seals) still covers the whole history; a full verification (no `since`)
still hashes everything, for what goes around SQL (a data file edited in place keeps its `xmin`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from btkernel import signing
from btkernel.history import chain

Kind = Literal["altered", "missing", "reordered", "unhashed", "unjournaled", "seal"]
# Enough to act on; the first one is what matters.
MAX_FINDINGS = 50


@dataclass(frozen=True)
class Finding:
    kind: Kind
    stream_id: str | None
    version: int | None
    detail: str

    def __str__(self) -> str:
        where = f"stream {self.stream_id} version {self.version}" if self.stream_id is not None else "history"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass(frozen=True)
class Checked:
    """Where a verification's snapshot stood: every event whose `xmin` is below `horizon` was hashed by it (or by
    the one it continued) and has not been written since."""

    horizon: int


@dataclass
class Report:
    events: int = 0
    # Events whose hash was computed again (all of them in a full verification).
    hashed: int = 0
    # What the next verification may start from (`verify(..., since=report.checked)`).
    checked: Checked | None = None
    streams: int = 0
    ledger: int = 0
    journal: int = 0
    seals: int = 0
    # Seals whose signature could not be checked: no public key given.
    unsigned_checks: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)

    def summary(self) -> str:
        text = (
            f"{self.events} event(s) in {self.streams} stream(s), {self.journal} journal and {self.ledger} ledger"
            f" entries, {self.seals} seal(s)"
        )
        if self.unsigned_checks:
            text += f" ({self.unsigned_checks} seal signature(s) not checked: no public key)"
        return text


# `fresh`: written (inserted or changed) since the horizon $1, or every event when there is none; only those are
# hashed again, so only their content is read. An `xmin` frozen by VACUUM reads as the oldest (age is the most).
_EVENTS = (
    "SELECT stream_id, version, prev_hash, hash, journaled, fresh,"
    " CASE WHEN fresh THEN stream_type END AS stream_type, CASE WHEN fresh THEN event_id END AS event_id,"
    " CASE WHEN fresh THEN event_type END AS event_type, CASE WHEN fresh THEN data END AS data,"
    " CASE WHEN fresh THEN actor END AS actor, CASE WHEN fresh THEN correlation_id END AS correlation_id,"
    " CASE WHEN fresh THEN causation_id END AS causation_id, CASE WHEN fresh THEN recorded_at END AS recorded_at"
    " FROM (SELECT e.*,"
    " $1::xid8 IS NULL OR age(e.xmin) <= age($1::xid8::xid) AS fresh,"
    " EXISTS (SELECT 1 FROM history_journal j WHERE j.stream_id = e.stream_id AND j.version = e.version)"
    " OR EXISTS (SELECT 1 FROM history_ledger l WHERE l.stream_id = e.stream_id AND l.version = e.version)"
    " AS journaled FROM events e) e ORDER BY stream_id, version"
)
# Hashing is CPU alone: the loop is given back this often, so a service's consumers and requests are not held up
# behind a verification (issue 13, P2's tail).
_YIELD_EVERY = 200
# Each journal entry beside its event, and whether the ledger has it; `below` says the sealer's bookmark (the last
# entry's horizon) has passed it, so it should be linked by now.
_JOURNAL = (
    "SELECT j.seq, j.stream_id, j.version, j.event_hash, e.hash AS actual, e.stream_id IS NOT NULL AS present,"
    " EXISTS (SELECT 1 FROM history_ledger l WHERE l.stream_id = j.stream_id AND l.version = j.version) AS linked,"
    " j.xid < (SELECT horizon FROM history_ledger ORDER BY position DESC LIMIT 1) AS below"
    " FROM history_journal j LEFT JOIN events e ON e.stream_id = j.stream_id AND e.version = j.version"
    " ORDER BY j.seq"
)
_LEDGER = (
    "SELECT l.position, l.stream_id, l.version, l.event_hash, l.prev_hash, l.hash, e.hash AS actual,"
    " e.stream_id IS NOT NULL AS present, $1::xid8 IS NULL OR age(l.xmin) <= age($1::xid8::xid) AS fresh"
    " FROM history_ledger l LEFT JOIN events e ON e.stream_id = l.stream_id AND e.version = l.version"
    " ORDER BY l.position"
)
_SEALS = (
    "SELECT s.id, s.position, s.document, l.hash AS head,"
    " $1::xid8 IS NULL OR age(s.xmin) <= age($1::xid8::xid) AS fresh FROM history_seals s"
    " LEFT JOIN history_ledger l ON l.position = s.position ORDER BY s.id"
)


async def verify(
    conn: asyncpg.Connection,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    since: Checked | None = None,
) -> Report:
    """Check everything; `keys` (kid → public key) for the seals' signatures. With `since` (an earlier report's
    `checked`), only the events written after that verification are hashed again."""
    report = Report()
    # One snapshot for the three passes: an append between them is not a "missing" event.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # This snapshot's horizon, taken by its first statement: every transaction below it had finished.
        horizon = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())")
        report.checked = Checked(int(horizon))
        await _streams(conn, report, since)
        await _journal(conn, report)
        await _ledger(conn, report, since)
        await _seals(conn, report, keys, since)
    return report


async def _streams(conn: asyncpg.Connection, report: Report, since: Checked | None) -> None:
    prev: Any = None
    horizon = since.horizon if since is not None else None
    async for row in conn.cursor(_EVENTS, horizon, prefetch=2000):
        report.events += 1
        stream, version = row["stream_id"], row["version"]
        same = prev is not None and prev["stream_id"] == stream
        if not same:
            report.streams += 1
        if row["fresh"]:
            report.hashed += 1
            if report.hashed % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        if row["hash"] is None:
            report.add(Finding("unhashed", stream, version, "the event has no hash: it was never chained"))
        elif row["fresh"] and chain.row_hash(row) != row["hash"]:
            report.add(
                Finding(
                    "altered",
                    stream,
                    version,
                    "its content or metadata (data, actor, time, ids, type) no longer match the hash it was"
                    " recorded with",
                )
            )
        expected = prev["version"] + 1 if same else 1
        if version > expected:
            gap = f"version {expected}" if version == expected + 1 else f"versions {expected}–{version - 1}"
            report.add(
                Finding("missing", stream, version, f"{gap} of the stream before it is gone (deleted)")
            )
        elif same and row["prev_hash"] != prev["hash"]:
            report.add(
                Finding(
                    "reordered",
                    stream,
                    version,
                    f"its link to version {prev['version']} does not match that event's hash: the event before it"
                    " was replaced or the events were re-ordered",
                )
            )
        elif not same and version == 1 and row["prev_hash"] is not None:
            report.add(
                Finding("reordered", stream, version, "the first event of the stream links to another")
            )
        if not row["journaled"]:
            report.add(
                Finding(
                    "unjournaled",
                    stream,
                    version,
                    "the event has neither a journal nor a ledger entry: its entry was deleted, or it was inserted"
                    " with the journal's trigger switched off",
                )
            )
        prev = row


async def _journal(conn: asyncpg.Connection, report: Report) -> None:
    async for row in conn.cursor(_JOURNAL, prefetch=2000):
        report.journal += 1
        stream, version, seq = row["stream_id"], row["version"], row["seq"]
        if not row["present"]:
            report.add(
                Finding(
                    "missing",
                    stream,
                    version,
                    f"the event (journal entry {seq}) was deleted"
                    + ("" if row["linked"] else ", before the ledger took it"),
                )
            )
        elif row["event_hash"] is not None and row["actual"] != row["event_hash"]:
            report.add(
                Finding(
                    "altered",
                    stream,
                    version,
                    f"its hash is no longer the one it was appended with (journal entry {seq}): the event was"
                    " altered and hashed again",
                )
            )
        elif row["below"] and not row["linked"]:
            report.add(
                Finding(
                    "missing",
                    stream,
                    version,
                    f"journal entry {seq} is behind the sealer's bookmark but not in the ledger: its ledger entry"
                    " was deleted or the bookmark moved",
                )
            )


async def _ledger(conn: asyncpg.Connection, report: Report, since: Checked | None) -> None:
    prev: Any = None
    horizon = since.horizon if since is not None else None
    async for row in conn.cursor(_LEDGER, horizon, prefetch=2000):
        report.ledger += 1
        stream, version, position = row["stream_id"], row["version"], row["position"]
        expected = prev["position"] + 1 if prev is not None else 1
        prev_hash = prev["hash"] if prev is not None else None
        if position != expected:
            report.add(
                Finding("missing", stream, version, f"ledger positions {expected}–{position - 1} are gone")
            )
        elif row["prev_hash"] != prev_hash or (
            # Its own hash, recomputed when the entry was written since the last verification.
            row["fresh"]
            and row["hash"]
            != chain.ledger_hash(
                position=position,
                stream_id=stream,
                version=version,
                event_hash=row["event_hash"],
                prev_hash=row["prev_hash"],
            )
        ):
            report.add(Finding("reordered", stream, version, f"ledger entry {position} was altered or moved"))
        if not row["present"]:
            report.add(
                Finding("missing", stream, version, f"the event (ledger position {position}) was deleted")
            )
        elif row["actual"] != row["event_hash"]:
            report.add(
                Finding(
                    "altered",
                    stream,
                    version,
                    f"its hash is no longer the one the ledger took at position {position}: the event was"
                    " altered and hashed again",
                )
            )
        prev = row


async def _seals(
    conn: asyncpg.Connection,
    report: Report,
    keys: Mapping[str, Ed25519PublicKey] | None,
    since: Checked | None,
) -> None:
    horizon = since.horizon if since is not None else None
    async for row in conn.cursor(_SEALS, horizon, prefetch=500):
        report.seals += 1
        raw = row["document"]
        document = dict(json.loads(raw) if isinstance(raw, str) else raw)
        name = f"seal {row['id']} (ledger position {row['position']}, sealed {document.get('sealed_at')})"
        if keys is None:
            report.unsigned_checks += 1
        elif row["fresh"]:
            # A seal's signature is checked once after it is written (and in every full verification).
            try:
                signing.verify(document, keys)
            except signing.SignatureInvalid as exc:
                report.add(Finding("seal", None, None, f"{name}: {exc}"))
                continue
        if document.get("position") != row["position"]:
            report.add(Finding("seal", None, None, f"{name}: the row's position is not the signed one"))
        elif row["head"] is None:
            report.add(Finding("seal", None, None, f"{name}: the sealed ledger entry is gone"))
        elif row["head"].hex() != document.get("head"):
            report.add(
                Finding(
                    "seal", None, None, f"{name}: the ledger's entry there is not the one that was sealed"
                )
            )
