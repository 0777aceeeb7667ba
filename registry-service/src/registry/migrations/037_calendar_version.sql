-- The working calendar's version (issue 13): a new random value whenever a decree or a site's schedule exception
-- changes, in the changing transaction itself. A process keeps the calendar it built and reads only this value
-- while it stands (registry.adapters.calendar): a case opened no longer reads both tables and builds the schedule
-- again. Random, not a counter, so that two databases never share a value.
CREATE TABLE calendar_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version uuid    NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO calendar_version DEFAULT VALUES;

CREATE FUNCTION calendar_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calendar_version SET version = gen_random_uuid();
    RETURN NULL;
END;
$$;

CREATE TRIGGER calendar_overrides_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed();
CREATE TRIGGER site_schedule_exceptions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON site_schedule_exceptions
    FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed();
