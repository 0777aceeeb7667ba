-- The delivery log is the fold of its messages' streams in this database's event store (ADR 0027, issue 10;
-- notification.domain.delivery_history): every change of a row appends its event in the transaction that makes
-- it. Rows from before get their stream here: the row as it stands, as DeliveryRowCarriedOver (version 1), so the
-- log rebuilt equals the log, and a message's delivery state is never guessed. Unhashed here:
-- `btkernel.history.backfill` chains them right after the migrations.
INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id, causation_id,
                    recorded_at)
SELECT n.notification_id::text, 1, 'notification', md5(n.notification_id::text || ':carried-over')::uuid,
       'bt.notification.row-carried-over.v1', to_jsonb(n), n.correlation_id, n.source_event_id, now()
FROM notifications n
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = n.notification_id::text)
ORDER BY n.created_at, n.notification_id;
