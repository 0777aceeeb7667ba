-- The Kyrgyz name of a Kyrgyz edition's service (ADR 0039): its applicant's letters are in Russian and Kyrgyz.
-- Applications projected before it was kept are Kazakh.
ALTER TABLE applications ADD COLUMN IF NOT EXISTS service_name_ky text NOT NULL DEFAULT '';
