-- Complaints on a state service (S004 p.11-12, docs/adr/0035-complaints.md): the read model of the complaint
-- streams, written in each command's transaction (ADR 3), and the incoming-number log of each site and year.
CREATE TABLE complaints (
    complaint_id       text        PRIMARY KEY,
    site_id            text        NOT NULL,             -- who received it: a registry office, a centre,
                                                         -- or 'quality-control'
    registry_office_id text        NOT NULL,
    channel            text        NOT NULL,             -- chancellery | centre | portal
    addressee          text        NOT NULL,             -- provider | centre | quality_control
    status             text        NOT NULL,             -- filed | registered | answered | review_refused
    applicant_name     text        NOT NULL,
    application_id     text,
    escalated_from     text,
    escalated_to       text,
    incoming_number    text,
    filed_at           timestamptz NOT NULL,
    registered_at      timestamptz,
    answer_due_at      timestamptz,
    completed_at       timestamptz,
    confirmation       jsonb,                            -- services.md §3.4, as given to the applicant
    updated_at         timestamptz NOT NULL
);
CREATE INDEX complaints_site ON complaints (site_id, status);
CREATE INDEX complaints_office ON complaints (registry_office_id, status);

-- The incoming numbers: one series per receiving site and year, no gaps, none twice (the row lock of the upsert
-- serialises registrations; a rolled-back one gives its number back).
CREATE TABLE complaint_counters (
    site_id text    NOT NULL,
    year    integer NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (site_id, year)
);
