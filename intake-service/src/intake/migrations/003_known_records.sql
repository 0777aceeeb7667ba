-- What intake knows of the civil-status register: one row per record, from the registry's `civreg.record` topic
-- (group intake.records), so no receipt is issued for a record that does not exist (ADR 0012).
CREATE TABLE known_records (
    record_id     text        PRIMARY KEY,
    kind          text        NOT NULL,
    record_number text        NOT NULL,
    subject_iin   text,
    status        text        NOT NULL,
    registered_at timestamptz NOT NULL
);
-- "Is this person already registered dead?"
CREATE INDEX known_records_deaths ON known_records (subject_iin) WHERE kind = 'death' AND status = 'active';
