"""How long a published outbox row is kept: the relay deletes it once it is older than the retention (ADR 0044).

A row is the outbox's only until the broker has it. After that nothing reads it: the relay reads pending rows, the
takeover pending rows (btkernel.outbox_takeover), an operator parked ones, and the event store keeps every event
for good (btkernel.eventstore, hash-chained). Kept, published rows grew each service's outbox by every event it
ever published: millions of rows a year at a national rate, each a copy of an envelope the event store and the
topic both have (docs/adr/0043 left their retention to be decided).

A pending or parked row is never deleted, however old: it is not published. The retention is counted from
`published_at`, the database's clock, on which the relay marked it.

Deleting goes page by page in id order, each page its own short statement, and stops at the first page holding a
row created after the retention's start: ids grow with creation, so the rows after it are newer still (a row
whose transaction took longer than its neighbours' is at most seconds out of order, and goes in the next pass).
So a pass reads the rows it deletes and one page more, not the whole retained window, and needs no index beyond
the primary key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from btkernel import logging as btlog
from btkernel import metrics

log = btlog.get(__name__)

# How many rows one statement reads: a page's delete holds a commit notified during it back for a few milliseconds.
PAGE_ROWS = 500
# How many pages one pass deletes at most; a long outbox is emptied over several passes. A pass also stops between
# two pages when the relay has rows to publish.
PAGES_PER_PASS = 20
# How often the relay looks for rows past the retention, once a pass has found none left.
INTERVAL_S = 600.0

# One page: the next rows by id after `$1`, those published before the retention's start deleted. Returns the
# page's last id (where the next page starts), how many were deleted, and whether every row of the page was
# created before the retention's start (if not, the rows after it are all newer: the pass is over).
_PAGE = """
WITH page AS (
    SELECT id, published_at, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $3
), gone AS (
    DELETE FROM outbox o USING page
    WHERE o.id = page.id AND page.published_at < now() - $2::interval
    RETURNING o.id
)
SELECT (SELECT max(id) FROM page) AS last_id,
       (SELECT count(*) FROM gone) AS deleted,
       coalesce((SELECT bool_and(created_at < now() - $2::interval) FROM page), false) AS all_before
"""


@dataclass
class Pruning:
    """The relay's deletion of published rows older than `retention`, a pass at most every `interval_s`
    (monotonic seconds). `retention` None keeps every row for good."""

    service: str
    retention: dt.timedelta | None
    interval_s: float = INTERVAL_S
    page_rows: int = PAGE_ROWS
    pages_per_pass: int = PAGES_PER_PASS
    # Where an unfinished pass goes on (the last id it read); None: the next pass starts at the oldest row.
    _after: int | None = field(default=None, init=False)
    _due_at: float = field(default=float("-inf"), init=False)

    def due(self, now: float) -> bool:
        return self.retention is not None and now >= self._due_at

    async def run(
        self, conn: asyncpg.Connection, now: float, *, wanted: Callable[[], bool] = lambda: False
    ) -> int:
        """One pass of at most `pages_per_pass` pages, stopping between two pages once `wanted()` (the relay has
        rows to publish); returns how many rows it deleted. An unfinished pass is due again at once (the relay runs
        it when it has nothing to publish), a finished one after `interval_s`.
        A failure is logged and the pass tried again after `interval_s`: old rows are never a reason not to
        publish (raised, it would restart the relay)."""
        if self.retention is None:
            return 0
        after = self._after if self._after is not None else 0
        deleted, finished = 0, False
        try:
            for _ in range(self.pages_per_pass):
                page = await conn.fetchrow(_PAGE, after, self.retention, self.page_rows)
                deleted += page["deleted"]
                if page["last_id"] is None or not page["all_before"]:
                    finished = True
                    break
                after = page["last_id"]
                if wanted():
                    break
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.warning("outbox_prune_failed", error=repr(exc), deleted=deleted)
            finished = True
        self._after = None if finished else after
        self._due_at = now + self.interval_s if finished else now
        if deleted:
            metrics.OUTBOX_PRUNED.labels(self.service).inc(deleted)
            log.info("outbox_pruned", count=deleted, retention_days=self.retention / dt.timedelta(days=1))
        return deleted


def retention_of(days: int) -> dt.timedelta | None:
    """`BT_OUTBOX_RETENTION_DAYS` as a retention: 0 keeps published rows for good."""
    return dt.timedelta(days=days) if days > 0 else None
