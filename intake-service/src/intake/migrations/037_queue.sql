-- The queue at the counter and home visits (S004 p.4, p.8, p.13; docs/adr/0037-the-queue.md): plain state, not
-- event streams. A ticket's moments are the measurement of the standards; `application_id` is written in the
-- transaction of the application the call produced.
CREATE TABLE queue_tickets (
    ticket_id     text        PRIMARY KEY,
    site_id       text        NOT NULL,
    site_kind     text        NOT NULL CHECK (site_kind IN ('service_centre', 'registry_office')),
    day           date        NOT NULL,             -- the site's local day
    number        text        NOT NULL,             -- B-001 booked, W-002 walk-in
    kind          text        NOT NULL CHECK (kind IN ('booked', 'walk_in')),
    due_at        timestamptz NOT NULL,             -- issue (walk-in) or the slot's start (booking)
    issued_at     timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('waiting', 'called', 'served', 'closed', 'cancelled')),
    counter       text,
    called_at     timestamptz,
    finished_at   timestamptz,
    application_id text,
    close_reason  text,
    applicant_iin text,                             -- bookings only: one a day per centre and applicant
    service_id    text,
    UNIQUE (site_id, day, number),
    CHECK (kind = 'walk_in' OR applicant_iin IS NOT NULL)
);
CREATE INDEX queue_tickets_day ON queue_tickets (site_id, day, status);
CREATE INDEX queue_tickets_slot ON queue_tickets (site_id, due_at) WHERE kind = 'booked';
-- A counter serves one ticket at a time.
CREATE UNIQUE INDEX queue_tickets_counter ON queue_tickets (site_id, counter) WHERE status = 'called';
CREATE UNIQUE INDEX queue_tickets_application ON queue_tickets (application_id) WHERE application_id IS NOT NULL;

CREATE TABLE home_visits (
    visit_id           text        PRIMARY KEY,
    site_id            text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('requested', 'assigned', 'accepted', 'cancelled')),
    contact_centre_ref text        NOT NULL,        -- the 1414 request's number
    applicant_name     text        NOT NULL,
    applicant_iin      text,
    phone              text        NOT NULL,
    address            text        NOT NULL,
    reason             text        NOT NULL,
    service_id         text        NOT NULL,
    requested_at       timestamptz NOT NULL,
    requested_by       text        NOT NULL,
    worker_id          text,
    assigned_at        timestamptz,
    assigned_by        text,
    accepted_at        timestamptz,
    application_id     text UNIQUE,
    cancelled_at       timestamptz,
    cancel_reason      text
);
CREATE INDEX home_visits_site ON home_visits (site_id, status, requested_at);
