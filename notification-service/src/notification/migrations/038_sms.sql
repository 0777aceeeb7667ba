-- SMS to applicants reachable by phone only (docs/adr/0038-sms-notifications.md): an SMS the provider accepted is
-- `sent` until its delivery report settles it; `send_round` counts the re-sends after a failed report, each under
-- a client reference of its own (the provider dedupes on it).
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'skipped_no_address'));
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS send_round integer NOT NULL DEFAULT 0 CHECK (send_round >= 0);
