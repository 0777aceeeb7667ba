-- Worklist read model of cases, updated in the transaction that appends the case's events.
CREATE TABLE cases (
    case_id            text        PRIMARY KEY,
    application_id     text        NOT NULL UNIQUE,
    registry_office_id text        NOT NULL,
    centre_id          text        NOT NULL,
    service_id         text        NOT NULL,
    channel            text        NOT NULL,
    status             text        NOT NULL,
    receipt_number     text        NOT NULL,
    applicant_iin      text,
    applicant_name     text        NOT NULL,
    review_term        jsonb       NOT NULL,
    opened_at          timestamptz NOT NULL,
    review_due_at      timestamptz NOT NULL,
    executive_id       text,
    record_id          text,
    record_number      text,
    completed_at       timestamptz,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX cases_worklist ON cases (registry_office_id, status, review_due_at);

-- Civil-status records as registered; the number is unique per office, kind and year.
CREATE TABLE records (
    record_id          text        PRIMARY KEY,
    kind               text        NOT NULL,
    registry_office_id text        NOT NULL,
    year               integer     NOT NULL,
    seq                integer     NOT NULL,
    record_number      text        NOT NULL UNIQUE,
    case_id            text        NOT NULL UNIQUE,
    subject_iin        text,
    subject_name       text        NOT NULL,
    registered_at      timestamptz NOT NULL,
    content            jsonb       NOT NULL,
    UNIQUE (registry_office_id, kind, year, seq)
);
CREATE INDEX records_subject_iin ON records (subject_iin);
CREATE INDEX records_parent_iins ON records USING gin ((content -> 'parent_iins'));

CREATE TABLE record_counters (
    registry_office_id text    NOT NULL,
    kind               text    NOT NULL,
    year               integer NOT NULL,
    last               integer NOT NULL,
    PRIMARY KEY (registry_office_id, kind, year)
);
