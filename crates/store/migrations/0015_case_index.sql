-- The report index: for items that declare an [index] (yearly reports), one row per submitted
-- case with what officers search, list, export and count by. Written in the transaction that
-- submits the case; its status follows signing and the bureau's confirmation.
CREATE TABLE case_index (
    case_id TEXT PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    number TEXT NOT NULL,
    year BIGINT NOT NULL,
    title TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- The applicant's district (its enterprise's), for officers' jurisdiction.
    district_code TEXT NOT NULL,
    -- submitted | sealed | confirmed
    status TEXT NOT NULL,
    -- The index's further columns, as a JSON array of strings in the spec's order.
    columns TEXT NOT NULL,
    -- The index's figures, as a JSON array of integers in the spec's order.
    figures TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    inspection_number TEXT,
    confirmed_at BIGINT,
    confirmed_by TEXT
);
CREATE INDEX case_index_year ON case_index (item_id, year, district_code);
CREATE INDEX case_index_credit_code ON case_index (item_id, credit_code);
CREATE INDEX case_index_reference ON case_index (item_id, reference);
