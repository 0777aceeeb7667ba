-- Kernel tables every service has in its own database: event store, outbox, processed events, idempotency keys.

-- Append-only event streams; the primary key gives optimistic concurrency on (stream id, version).
CREATE TABLE IF NOT EXISTS events (
    stream_id      text        NOT NULL,
    version        integer     NOT NULL CHECK (version > 0),
    stream_type    text        NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    data           jsonb       NOT NULL,
    correlation_id text,
    causation_id   text,
    actor          text,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, version)
);

-- Outgoing events, written in the same transaction as the state change they announce. Rows are marked
-- published instead of being tailed by id, so a transaction that commits after a later id is never skipped.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    event_id     uuid        NOT NULL UNIQUE,
    envelope     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE published_at IS NULL;

-- What each consumer group has applied; written in the transaction of the projection update it guards.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer_group text        NOT NULL,
    event_id       text        NOT NULL,
    topic          text        NOT NULL,
    kafka_partition integer    NOT NULL,
    kafka_offset   bigint      NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);

-- Responses to requests that carried an Idempotency-Key, kept with the hash of the request they answered.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
