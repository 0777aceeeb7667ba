-- Read model of applications, updated in the transaction that appends their events.
CREATE TABLE applications (
    application_id     text        PRIMARY KEY,
    centre_id          text        NOT NULL,
    service_id         text        NOT NULL,
    channel            text        NOT NULL,
    status             text        NOT NULL,
    receipt_number     text        NOT NULL UNIQUE,
    applicant_iin      text,
    applicant_name     text        NOT NULL,
    registry_office_id text,
    case_id            text,
    record_number      text,
    outcome            text,
    submitted_at       timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    receipt            jsonb,
    refusal_receipt    jsonb
);
CREATE INDEX applications_centre_status ON applications (centre_id, status, submitted_at DESC);
CREATE INDEX applications_applicant ON applications (applicant_iin);

-- Receipt numbers are consecutive per centre and year; the row lock of the upsert serialises concurrent issues.
CREATE TABLE receipt_counters (
    centre_id text    NOT NULL,
    year      integer NOT NULL,
    last      integer NOT NULL,
    PRIMARY KEY (centre_id, year)
);
