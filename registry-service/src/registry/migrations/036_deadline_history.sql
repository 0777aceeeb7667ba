-- The scheduler's marks become the fold of the warnings it keeps in each deadline's stream (stream type `deadline`,
-- stream id = deadline id; docs/adr/0027-rebuilds-and-upcasting.md). The table itself does not change.
--
-- Back-fill for a running platform: a mark set before this file has no kept warning, so a rebuild would lose it
-- and the scheduler would never warn again (the rebuilt row looks unwarned, and it would warn twice). Each mark
-- gets its event now, as the row says: the envelope published then is gone from the 7-day topic, so the event id is
-- new, the payload carries the row's present due moment (a decree since may have moved it) and the moment is the
-- mark itself. Never queued in the outbox: it was published when the mark was set. The hashes are given right
-- after this file by `btkernel.history.backfill` (btkernel.migrate), as for every event from before the chain.
-- Idempotent: a deadline whose stream has events already is left alone.
WITH marks AS (
    SELECT d.*, m.type, m.at,
           row_number() OVER (PARTITION BY d.deadline_id ORDER BY m.at, m.type) AS version
    FROM deadlines d
    CROSS JOIN LATERAL (VALUES ('kz.civreg.deadline.approaching.v1', d.approaching_emitted_at),
                               ('kz.civreg.deadline.missed.v1', d.missed_emitted_at)) AS m(type, at)
    WHERE m.at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = d.deadline_id)
)
INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id, causation_id,
                    actor, recorded_at)
SELECT k.deadline_id, k.version, 'deadline', gen_random_uuid(), k.type,
       jsonb_build_object(
           'deadline_id', k.deadline_id,
           'case_id', k.case_id,
           'application_id', k.application_id,
           'registry_office_id', k.registry_office_id,
           'service_id', k.service_id,
           'kind', k.kind,
           'description', k.description,
           'due_at', to_char(k.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'responsible_role', k.responsible_role,
           'responsible_id', k.responsible_id,
           'source', k.term->>'source'
       ) || CASE WHEN k.type = 'kz.civreg.deadline.approaching.v1'
                 THEN jsonb_build_object(
                          'approaching_at',
                          to_char(k.approaching_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                 ELSE jsonb_build_object('missed_at', to_char(k.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
            END,
       (SELECT c.correlation_id FROM events c WHERE c.stream_id = k.case_id ORDER BY c.version LIMIT 1),
       NULL, 'system:scheduler', k.at
FROM marks k
ORDER BY k.deadline_id, k.version;
