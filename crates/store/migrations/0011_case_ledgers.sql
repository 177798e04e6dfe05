-- Ledger (台账) rows of a case: one row per line, its values (in column order) as a JSON array.
-- An import replaces a ledger's rows in one transaction; row numbers only grow, so a deleted
-- row's number is not reused.
CREATE TABLE case_ledger_rows (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    ledger_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (case_id, ledger_id, row_no)
);
