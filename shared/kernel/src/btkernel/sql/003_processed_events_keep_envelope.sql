-- A consumer keeps the envelope of each event it applies, in the transaction that applies it (ADR 0027): the
-- topics other than civreg.record keep seven days, so this record is the history a consumer's projection is
-- rebuilt from (`python -m btkernel.rebuild`). Nullable, no default: no rewrite of the table; rows from before
-- have none, and a rebuild that meets them says so instead of building a projection with holes.
ALTER TABLE processed_events ADD COLUMN IF NOT EXISTS envelope jsonb;
-- The order a rebuild replays in: per partition, as Kafka delivered (a subject's events share a partition).
CREATE INDEX IF NOT EXISTS processed_events_replay
    ON processed_events (consumer_group, topic, kafka_partition, kafka_offset);
