-- Portal payments and lost callbacks (ADR 0034, second part).

-- The channel the application came through (ApplicationSubmitted.channel): the portal reads and pays only its own.
ALTER TABLE fee_decisions ADD COLUMN IF NOT EXISTS channel text;
-- 'portal' for a payment the portal made for one of its applications; NULL for those made at a site.
ALTER TABLE duty_payments ADD COLUMN IF NOT EXISTS channel text;

-- One live payment per application: a failed one no longer blocks the next attempt.
ALTER TABLE duty_payments DROP CONSTRAINT IF EXISTS duty_payments_application_id_key;
CREATE UNIQUE INDEX IF NOT EXISTS duty_payments_one_live_per_application
    ON duty_payments (application_id) WHERE status <> 'failed';

-- The lost-callback sweep: how often the gateway was asked about a payment still `created`, and when next
-- (NULL: at its creation plus BT_PAYMENT_STATUS_AFTER_S).
ALTER TABLE duty_payments ADD COLUMN IF NOT EXISTS status_checks integer NOT NULL DEFAULT 0;
ALTER TABLE duty_payments ADD COLUMN IF NOT EXISTS next_status_check_at timestamptz;
CREATE INDEX IF NOT EXISTS duty_payments_pending ON duty_payments (created_at)
    WHERE method = 'payment_gateway' AND status = 'created';
