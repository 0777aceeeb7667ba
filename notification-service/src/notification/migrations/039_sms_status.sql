-- SMS whose delivery report has not come are asked about (docs/adr/0038-sms-notifications.md, "Lost reports"): for a
-- `sent` row, next_attempt_at is when to ask the provider next.
CREATE INDEX IF NOT EXISTS notifications_unreported ON notifications (next_attempt_at) WHERE status = 'sent';
