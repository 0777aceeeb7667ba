-- The partner publisher's state per agency feed (registry.app.partner_feed, docs/adr): the contract digest the
-- topic was last published with, an operator's (or a changed contract's) pending request to re-publish the topic
-- from the beginning, and when the feed last published. Offsets are not here: they are committed in the Kafka
-- transaction that publishes (the group `registry.partners.<agency>`).
CREATE TABLE partner_feeds (
    agency text PRIMARY KEY,
    -- NULL until a first (re-)publication from the beginning has been committed.
    published_digest text,
    -- Set by `python -m registry.partners republish` or by the feed itself on a changed contract; cleared once the
    -- topic is truncated and the group's offsets are back at the beginning of civreg.record.
    republish_requested_at timestamptz,
    republish_requested_by text,
    republished_at timestamptz,
    last_published_at timestamptz,
    last_batch_events integer NOT NULL DEFAULT 0,
    skipped_events bigint NOT NULL DEFAULT 0
);
