-- Each fee decision is the fold of its stream in this database's event store (docs/adr/0027-rebuilds-and-upcasting.md,
-- issue 10): FeeAssessed as published, then FeeDecisionFacts (fees.domain.decision). Decisions recorded before
-- get their stream here, from the row and, while the outbox still holds it, the FeeAssessed envelope published
-- (its payload, correlation, causation and actor as they went out); recorded at the row's `created_at`, so the
-- rebuilt row equals it. Unhashed here: `btkernel.history.backfill` chains them right after the migrations.
INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id, causation_id,
                    actor, recorded_at)
SELECT d.decision_id::text, 1, 'fee_decision', d.event_id, 'kz.civreg.fee.assessed.v1',
       coalesce(o.envelope -> 'data', jsonb_build_object(
           'application_id', d.application_id,
           'service_id', d.service_id,
           'assessed_at', d.assessed_at,
           'payable', d.payable,
           'amount_mrp', trim_scale(d.amount_mrp)::text,
           'amount_tiyn', d.amount_tiyn,
           'basis', d.basis,
           'currency', d.currency)),
       o.envelope ->> 'correlation_id', coalesce(o.envelope ->> 'causation_id', d.source_event_id),
       o.envelope ->> 'actor', d.created_at
FROM fee_decisions d LEFT JOIN outbox o ON o.event_id = d.event_id
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = d.decision_id::text)
ORDER BY d.created_at, d.decision_id;

INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data, correlation_id, causation_id,
                    actor, recorded_at)
SELECT d.decision_id::text, 2, 'fee_decision', md5(d.decision_id::text || ':facts')::uuid,
       'bt.fee.decision-facts.v1',
       jsonb_build_object(
           'kind', d.kind,
           'service_valid_from', d.service_valid_from,
           'centre_id', d.centre_id,
           'registry_office_id', d.registry_office_id,
           'assessed_on', d.assessed_on,
           'mrp_value_tiyn', d.mrp_value_tiyn,
           'mrp_valid_from', d.mrp_valid_from,
           'exemption', d.exemption,
           'source_event_id', d.source_event_id,
           'channel', d.channel),
       a.correlation_id, a.causation_id, a.actor, d.created_at
FROM fee_decisions d JOIN events a ON a.stream_id = d.decision_id::text AND a.version = 1
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = d.decision_id::text AND e.version = 2)
ORDER BY d.created_at, d.decision_id;
