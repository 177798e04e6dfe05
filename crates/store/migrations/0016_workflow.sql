-- The workflow of submitted cases (issue 7). The columns are projections of the case's events,
-- kept for the officers' queues: who handles the case (district), where it stands in review, the
-- statutory deadline of its current stage, the open correction request, and for a sub-case its
-- parent and title.
ALTER TABLE cases ADD COLUMN district_code TEXT;
ALTER TABLE cases ADD COLUMN level TEXT;
-- YYYY-MM-DD: the last working day of the stage's time limit; empty while the clock is stopped
-- (补正) or when no limit runs.
ALTER TABLE cases ADD COLUMN deadline TEXT;
-- JSON of the open 补正 request, absent when none is open.
ALTER TABLE cases ADD COLUMN correction TEXT;
ALTER TABLE cases ADD COLUMN parent_id TEXT;
ALTER TABLE cases ADD COLUMN title TEXT;
CREATE INDEX cases_queue ON cases (state, district_code, deadline);
CREATE INDEX cases_parent ON cases (parent_id);
-- When a licence's validity ran out and that was recorded on its case (expiry is told to the
-- applicant and the licence repository once).
ALTER TABLE issued_documents ADD COLUMN expired_at BIGINT;
