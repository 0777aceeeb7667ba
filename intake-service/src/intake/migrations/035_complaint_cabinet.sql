-- The personal cabinet's view of complaints sent through the portal (S004 p.11: delivery, registration, execution
-- marks, the answer or the refusal to review), from the registry's civreg.complaint events (docs/adr/0035).
CREATE TABLE cabinet_complaint_notifications (
    event_id     text        PRIMARY KEY,             -- the causing event: a redelivery adds nothing
    complaint_id text        NOT NULL,
    version      integer     NOT NULL,                -- 1, 2, ... per complaint, in the order they came
    kind         text        NOT NULL,
    text         text        NOT NULL,
    notified_at  timestamptz NOT NULL,
    UNIQUE (complaint_id, version)
);
CREATE INDEX cabinet_complaint_notifications_at ON cabinet_complaint_notifications (notified_at);
