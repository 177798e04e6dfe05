-- Signing a case's form. A certificate holder's key is outside Tongban (the 一证通 key), so its
-- signature takes two requests: the prepared file (signature left as zeros) waits here, with the
-- file it was prepared on, until the signature over its digest comes back or it expires.
CREATE TABLE pending_signatures (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    -- who may finish it: `enterprise:<id>`
    signer TEXT NOT NULL,
    -- file-store keys (SM3, hex) of the prepared file and of the file it adds a signature to
    prepared_file TEXT NOT NULL,
    base_file TEXT NOT NULL,
    contents_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_signatures_case ON pending_signatures (case_id);

-- Whose turn it is to sign after the applicant (an employer named by its credit code): what
-- that enterprise's home page lists as 待本单位签章. Removed once it has signed.
CREATE TABLE signature_requests (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, role)
);
CREATE INDEX signature_requests_code ON signature_requests (credit_code);
