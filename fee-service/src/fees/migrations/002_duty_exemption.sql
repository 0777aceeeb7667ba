-- The state duty from the tariff (ADR 0034): the S004 p.7 exemption that made a decision's amount 0.
ALTER TABLE fee_decisions ADD COLUMN IF NOT EXISTS exemption text;
