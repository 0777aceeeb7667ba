-- Tamper-evident history (docs/adr/0030-tamper-evident-history.md): the hash chain of every stream, the ledger
-- that orders all events of this database for the seals, the signed seals, and append-only enforcement.

-- Hash of the previous event of the stream (NULL for version 1) and of this one; rows from before this file are
-- hashed by `btkernel.history.backfill`, which `btkernel.migrate` runs right after.
ALTER TABLE events ADD COLUMN IF NOT EXISTS prev_hash bytea;
ALTER TABLE events ADD COLUMN IF NOT EXISTS hash bytea;
-- The audit of personal-data reads is a stream type of its own in this table (btkernel.history.audit).
CREATE INDEX IF NOT EXISTS events_audit ON events (recorded_at) WHERE stream_type = 'audit';

-- Every event, once, in the order the sealer took it: a chain over the whole database, so a stream deleted whole
-- or cut at its end is missed. Written by one process at a time (the sealer), never by an append.
CREATE TABLE IF NOT EXISTS history_ledger (
    position   bigint      PRIMARY KEY CHECK (position > 0),
    stream_id  text        NOT NULL,
    version    integer     NOT NULL,
    event_hash bytea       NOT NULL,
    prev_hash  bytea,
    hash       bytea       NOT NULL,
    linked_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);

-- The ledger's head at a moment, signed with the platform's key (btkernel.signing): `document` is what was
-- signed, with its btkeyid and btsignature.
CREATE TABLE IF NOT EXISTS history_seals (
    id        bigserial   PRIMARY KEY,
    position  bigint      NOT NULL,
    document  jsonb       NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);

-- Second line behind the privileges (the service's role has only INSERT and SELECT here): a change is refused
-- even for the owner, who must drop or disable the trigger first, in the open. The one update allowed gives a
-- row from before the chain its hashes, and nothing else.
CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'events' THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL
           AND (to_jsonb(NEW) - 'hash' - 'prev_hash') = (to_jsonb(OLD) - 'hash' - 'prev_hash') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'docs/adr/0030-tamper-evident-history.md: nothing recorded is changed or deleted';
END
$$;

DROP TRIGGER IF EXISTS history_append_only ON events;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_no_truncate ON events;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_append_only ON history_ledger;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history_ledger
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_no_truncate ON history_ledger;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_append_only ON history_seals;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history_seals
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
DROP TRIGGER IF EXISTS history_no_truncate ON history_seals;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history_seals
    FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change();

-- Whatever another role was given here (default privileges of btdeploy, an older grant), it keeps only INSERT
-- and SELECT: the names of those roles are the deployment's, so they are read from the grants themselves.
DO $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT DISTINCT c.relname, a.grantee
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relname IN ('events', 'history_ledger', 'history_seals')
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
