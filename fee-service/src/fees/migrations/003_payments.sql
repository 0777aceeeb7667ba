-- Payments of the state duty (ADR 0034): through the e-government payment gateway or a bank; money in tiyn.
CREATE TABLE IF NOT EXISTS duty_payments (
    payment_id         uuid        PRIMARY KEY,
    method             text        NOT NULL CHECK (method IN ('payment_gateway', 'bank')),
    status             text        NOT NULL CHECK (status IN ('created', 'paid', 'failed', 'recorded')),
    service_id         text        NOT NULL,
    -- The site that created or recorded the payment (centre or registry office): whose day it is reconciled in.
    site_id            text        NOT NULL,
    registry_office_id text,
    -- NULL until an application names the payment (a gateway payment is made before acceptance).
    application_id     text        UNIQUE,
    amount_tiyn        bigint      NOT NULL CHECK (amount_tiyn > 0),
    -- The payment gateway's payment id, or the bank's payment document number.
    reference          text        NOT NULL,
    bank               text,
    paid_on            date,
    paid_at            timestamptz,
    payment_url        text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    reconciled         text        CHECK (reconciled IN ('matched', 'mismatched')),
    UNIQUE NULLS NOT DISTINCT (method, bank, reference)
);

-- Every verified notice of the payment gateway, once per notice id, with what it did.
CREATE TABLE IF NOT EXISTS payment_notices (
    notice_id   text        PRIMARY KEY,
    payment_id  uuid        NOT NULL,
    status      text        NOT NULL,
    amount_tiyn bigint      NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'late', 'amount_mismatch', 'unknown_payment')),
    received_at timestamptz NOT NULL
);

-- Imported bank statements (ISO 20022 camt.053) and each credit entry's reconciliation.
CREATE TABLE IF NOT EXISTS bank_statements (
    statement_id text        PRIMARY KEY,
    account      text        NOT NULL,
    created_at   timestamptz NOT NULL,
    imported_at  timestamptz NOT NULL,
    imported_by  text
);

CREATE TABLE IF NOT EXISTS statement_entries (
    statement_id text        NOT NULL REFERENCES bank_statements (statement_id),
    entry_ref    text        NOT NULL,
    booked_on    date        NOT NULL,
    amount_tiyn  bigint      NOT NULL CHECK (amount_tiyn > 0),
    bank         text,
    reference    text,
    payment_id   uuid,
    site_id      text,
    outcome      text        NOT NULL CHECK (outcome IN ('matched', 'mismatched', 'unmatched')),
    detail       text        NOT NULL,
    PRIMARY KEY (statement_id, entry_ref)
);
