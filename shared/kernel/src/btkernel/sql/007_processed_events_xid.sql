-- The transaction that kept each envelope, as the history journal has it for events (005): a rebuild's catch-up
-- rounds and its swap's locked round look only at the envelopes kept since the first pass's horizon
-- (btkernel.rebuild.Horizon), and found them by `age(xmin)` over every kept envelope of the group, a read that grew
-- with the history, under the swap's lock (which it held 49 ms at 95,000 envelopes; issue 13 P3, docs/adr/0043). By
-- this column and its index they are found among the newest (the lock 9 ms). Added without a default and given one
-- after: the table is not rewritten. The rows from before have none; every one of them was committed before this
-- file, so before any horizon a rebuild takes with it.
ALTER TABLE processed_events ADD COLUMN IF NOT EXISTS xid xid8;
ALTER TABLE processed_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS processed_events_xid ON processed_events (consumer_group, xid);
