-- No window for a deleted event (docs/adr/0030-tamper-evident-history.md): every event gets a journal entry in the
-- transaction that appends it, written by a trigger, so no path that inserts an event can forget it. The sealer
-- chains journal entries into the ledger later; an event deleted before that leaves its entry, and `verify` names it.

-- seq: the order the sealer takes entries in (a stream's versions get increasing numbers: each append of a stream
-- starts after the one before it committed). xid: the appending transaction, so the sealer takes only entries of
-- transactions finished before its snapshot (below pg_snapshot_xmin) and never skips one that commits late with a
-- smaller seq. event_hash: the event's hash as appended; NULL only for events from before the chain.
CREATE TABLE IF NOT EXISTS history_journal (
    seq        bigserial PRIMARY KEY,
    xid        xid8      NOT NULL DEFAULT pg_current_xact_id(),
    stream_id  text      NOT NULL,
    version    integer   NOT NULL,
    event_hash bytea
);
CREATE INDEX IF NOT EXISTS history_journal_xid ON history_journal (xid);
CREATE INDEX IF NOT EXISTS history_journal_event ON history_journal (stream_id, version);

-- The sealer's bookmark: each ledger entry keeps the horizon (a snapshot's xmin) of the round that linked it; the
-- next round reads the journal from the last entry's horizon on. NULL for entries from before this file.
ALTER TABLE history_ledger ADD COLUMN IF NOT EXISTS horizon xid8;

CREATE OR REPLACE FUNCTION history_journal_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_journal (stream_id, version, event_hash) VALUES (NEW.stream_id, NEW.version, NEW.hash);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS history_journal ON events;
CREATE TRIGGER history_journal AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION history_journal_append();

DROP TRIGGER IF EXISTS history_append_only ON history_journal;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history_journal
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_no_truncate ON history_journal;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history_journal
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();

-- Events already recorded and not yet in the ledger: journaled now, in their old order, so the first round takes
-- them (their hashes, when the back-fill gives them only after this file, are read from the event then).
INSERT INTO history_journal (stream_id, version, event_hash)
SELECT e.stream_id, e.version, e.hash FROM events e
WHERE NOT EXISTS (SELECT 1 FROM history_ledger l WHERE l.stream_id = e.stream_id AND l.version = e.version)
ORDER BY e.recorded_at, e.stream_id, e.version;

-- As 004: whatever another role holds here, it keeps only INSERT and SELECT.
DO $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT DISTINCT c.relname, a.grantee
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relname = 'history_journal'
          AND a.grantee <> c.relowner
          AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON %I FROM %s',
            grant_row.relname,
            CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grant_row.grantee)) END
        );
    END LOOP;
END
$$;
