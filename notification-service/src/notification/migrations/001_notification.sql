-- What the notification service knows of an application (from intake's events) and its delivery log.

-- Projection of civreg.application: who to tell, in which words, and which centre the application belongs to
-- (an operator may only read the notifications of its own centre's applications).
CREATE TABLE IF NOT EXISTS applications (
    application_id  text        PRIMARY KEY,
    service_id      text        NOT NULL,
    service_name_ru text        NOT NULL,
    service_name_kk text        NOT NULL,
    centre_id       text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('submitted', 'acceptance_refused')),
    receipt_number  text,
    applicant_name  text        NOT NULL,
    -- The person the messages address: the applicant, or the representative whose contact was given.
    recipient_name  text        NOT NULL,
    email           text,
    phone           text,
    timezone        text        NOT NULL,
    source_event_id text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per message to send. Written as `pending` in the consumer's transaction; the delivery worker claims
-- rows (attempts + 1, committed before sending, so every send has a record) and records the final outcome with
-- its NotificationDelivered/NotificationFailed outbox row in one transaction.
CREATE TABLE IF NOT EXISTS notifications (
    notification_id uuid        PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES applications (application_id),
    source_event_id text        NOT NULL,
    channel         text        NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       text        NOT NULL,
    template        text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped_no_address')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    -- When the row is next due; while a worker sends, this is the end of its claim (lease).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    correlation_id  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- One message per causing event, channel and template, even if the event were applied again.
    UNIQUE (source_event_id, channel, template)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notifications_by_application ON notifications (application_id, created_at);
