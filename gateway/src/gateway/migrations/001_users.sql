-- People who may sign in. The role set is fixed (gateway.roles); a site is a centre id for an operator, a
-- registry office id for registry roles and NULL for a supervisor — checked against reference data in Python,
-- because the sites live in btkernel's YAML, not in this database.
CREATE TABLE users (
    username      text PRIMARY KEY CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 64),
    full_name     text NOT NULL CHECK (length(full_name) > 0),
    role          text NOT NULL CHECK (role IN ('centre_operator', 'registry_chancellery', 'registry_head',
                                                'registry_executive', 'supervisor')),
    site          text,
    -- scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>: the parameters travel with the hash so they can be raised later.
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'supervisor') = (site IS NULL))
);
