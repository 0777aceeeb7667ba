-- Results at the centre (kept one month, then returned to the office and recalled: S004 p.9), reasoned refusals,
-- and the personal-cabinet notifications of portal applications (S002 portal process 9).
ALTER TABLE applications ADD COLUMN result_received_at timestamptz;
ALTER TABLE applications ADD COLUMN refusal_reason text;
ALTER TABLE applications ADD COLUMN recall_due_at timestamptz;
CREATE INDEX applications_waiting ON applications (channel, status, result_received_at);

CREATE TABLE cabinet_notifications (
    application_id  text        NOT NULL,
    version         integer     NOT NULL,
    kind            text        NOT NULL,
    text            text        NOT NULL,
    registration_on date,
    refusal_reason  text,
    notified_at     timestamptz NOT NULL,
    PRIMARY KEY (application_id, version)
);
