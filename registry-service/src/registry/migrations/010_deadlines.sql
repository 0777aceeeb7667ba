-- Running legal terms of cases (review, each step, extension notice, pilot total), projected from case events.
CREATE TABLE deadlines (
    deadline_id            text        PRIMARY KEY,          -- <case id>:<kind>
    case_id                text        NOT NULL,
    application_id         text        NOT NULL,
    registry_office_id     text        NOT NULL,
    service_id             text        NOT NULL,
    kind                   text        NOT NULL,             -- review | review:extended | step:<order> |
                                                             -- extension_notice | third_party_notice | pilot_total
    description            text        NOT NULL,
    term                   jsonb       NOT NULL,             -- {value, unit, acceptance_day_counted, source}
    site_id                text        NOT NULL,             -- whose working time the term is counted in
    started_at             timestamptz NOT NULL,
    extension_days         integer     NOT NULL DEFAULT 0,
    due_at                 timestamptz NOT NULL,
    approaching_at         timestamptz NOT NULL,
    responsible_role       text        NOT NULL,
    responsible_id         text,
    status                 text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'met', 'met_late', 'superseded', 'not_required')),
    completed_at           timestamptz,
    approaching_emitted_at timestamptz,
    missed_emitted_at      timestamptz,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX deadlines_missed_queue ON deadlines (due_at) WHERE status = 'running' AND missed_emitted_at IS NULL;
CREATE INDEX deadlines_approaching_queue ON deadlines (approaching_at)
    WHERE status = 'running' AND approaching_emitted_at IS NULL;
CREATE INDEX deadlines_case ON deadlines (case_id);
CREATE INDEX deadlines_office_running ON deadlines (registry_office_id, due_at) WHERE status = 'running';

-- Government transfer decrees: a Saturday made a working day, a weekday made a day off; `ordinary` undoes a
-- wrongly estimated holiday of the holidays package. Effective at once.
CREATE TABLE calendar_overrides (
    country    text        NOT NULL,
    day        date        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('working', 'day_off', 'ordinary')),
    reason     text        NOT NULL,
    source     text        NOT NULL,  -- the decree: a day changed without one cannot be checked
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country, day)
);

-- Per-site exceptions to a site's weekly schedule (closed for a day, or other hours).
CREATE TABLE site_schedule_exceptions (
    site_id    text        NOT NULL,
    day        date        NOT NULL,
    hours      jsonb       NOT NULL,  -- [] = closed; [["09:00","13:00"], ...]
    reason     text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, day)
);
