-- Parking (ADR 0009): a row the broker can never accept is set aside with its error instead of being retried
-- for ever; the relay goes on with other aggregates while later rows of the same subject wait behind it.
-- Constant defaults and nullable columns: no table rewrite, however long the outbox already is.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at  timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error text;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS attempts   integer NOT NULL DEFAULT 0;

-- The relay asks "is an earlier row of this subject parked?" for every pending row; parked rows are few.
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox ((envelope->>'subject'), id)
    WHERE parked_at IS NOT NULL AND published_at IS NULL;

-- What an operator discarded (`python -m btkernel.outbox discard`), kept with who, when and why: the event was
-- never published, so this is the only trace of it outside the event store.
CREATE TABLE IF NOT EXISTS outbox_discarded (
    id           bigint      PRIMARY KEY,
    topic        text        NOT NULL,
    event_id     uuid        NOT NULL,
    envelope     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    parked_at    timestamptz,
    last_error   text,
    attempts     integer     NOT NULL,
    discarded_at timestamptz NOT NULL DEFAULT now(),
    discarded_by text        NOT NULL,
    reason       text        NOT NULL
);
