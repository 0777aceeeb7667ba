-- Fee decisions: the state duty due per application, as decided when the application was submitted.
CREATE TABLE IF NOT EXISTS fee_decisions (
    decision_id        uuid          PRIMARY KEY,
    application_id     text          NOT NULL,
    -- Only the initial assessment today; exemptions and re-assessments would be further kinds.
    kind               text          NOT NULL CHECK (kind IN ('assessed')),
    service_id         text          NOT NULL,
    service_valid_from date          NOT NULL,
    centre_id          text          NOT NULL,
    registry_office_id text          NOT NULL,
    -- The date whose rules and MRP value apply: the local date the application was submitted.
    assessed_on        date          NOT NULL,
    assessed_at        timestamptz   NOT NULL,
    payable            boolean       NOT NULL,
    -- Money as exact numbers only: MRP multiples as numeric, tenge amounts in integer tiyn.
    amount_mrp         numeric(12,4) NOT NULL CHECK (amount_mrp >= 0),
    mrp_value_tiyn     bigint        CHECK (mrp_value_tiyn > 0),
    mrp_valid_from     date,
    amount_tiyn        bigint        NOT NULL CHECK (amount_tiyn >= 0),
    basis              text          NOT NULL,
    source_event_id    text          NOT NULL UNIQUE,
    event_id           uuid          NOT NULL UNIQUE,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (application_id, kind)
);
