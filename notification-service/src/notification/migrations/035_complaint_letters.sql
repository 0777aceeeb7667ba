-- Complaints (S004 p.11, docs/adr/0035-complaints.md): the applicant who complained is an addressee of the
-- projection like an applicant, keyed by the complaint id, so the delivery log and its centre scoping serve the
-- answer's letter unchanged.
ALTER TABLE applications DROP CONSTRAINT IF EXISTS applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('submitted', 'acceptance_refused', 'complaint'));
