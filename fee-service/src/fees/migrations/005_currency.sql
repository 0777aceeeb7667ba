-- The currency of a decision's amount (ADR 0039): a Kyrgyz edition's duty is decided in som (tyiyn), not tenge.
-- Decisions recorded before it was kept are all tenge.
ALTER TABLE fee_decisions ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'KZT';
