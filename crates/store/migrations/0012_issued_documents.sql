-- Documents Tongban issued: notices, decisions, licences, certificates and signed forms. The row
-- points at the current file (content-addressed in the file store; each signature makes a new
-- one), keeps the places reserved for signatures, and for licences the live status that the
-- QR verification page shows: revocation takes effect on the next page view.
CREATE TABLE issued_documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    case_id TEXT REFERENCES cases (id) ON DELETE SET NULL,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    holder TEXT NOT NULL,
    file_digest TEXT NOT NULL,
    slots TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    valid_until TEXT,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX issued_documents_case ON issued_documents (case_id);
CREATE INDEX issued_documents_file ON issued_documents (file_digest);

-- Batch renders into one zip, as a background job. An item is done once its PDF is in the file
-- store and its digest recorded here, so a restarted job carries on with the items left and
-- the zip is assembled from the recorded files in order: none twice, none missing.
CREATE TABLE document_batches (
    id TEXT PRIMARY KEY,
    requested_by TEXT NOT NULL,
    title TEXT NOT NULL,
    total BIGINT NOT NULL,
    done BIGINT NOT NULL,
    zip_digest TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    error TEXT
);
CREATE TABLE document_batch_items (
    batch_id TEXT NOT NULL REFERENCES document_batches (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    file_digest TEXT,
    PRIMARY KEY (batch_id, seq)
);
