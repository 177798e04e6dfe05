-- Cases (办件) and their events. The events are the record: appended, SM3-chained per case. The
-- row in `cases` is the projection kept for lists and look-ups, updated in the same transaction
-- as each event. Drafts (暂存) carry an expiry and are deleted with their events when it passes.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    number TEXT UNIQUE,
    item_id TEXT NOT NULL,
    applicant_kind TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    step TEXT,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    expires_at BIGINT,
    last_seq BIGINT NOT NULL,
    last_digest TEXT NOT NULL
);
CREATE INDEX cases_applicant ON cases (applicant_kind, applicant_id, updated_at);
CREATE INDEX cases_draft_expiry ON cases (expires_at);

CREATE TABLE case_events (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_digest TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- The last sequence number used for each (item prefix, day), for readable case numbers.
CREATE TABLE case_numbers (
    prefix_day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
