-- Individuals (个人): log in with phone or identity number and password; one-time SMS codes for
-- signing actions. Both numbers are SM4-GCM sealed; lookups go through HMAC-SM3 blind indexes.
CREATE TABLE individuals (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    id_number_index TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL,
    phone_index TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

-- A code is kept only as a keyed digest; it expires, allows a few attempts, and is spent once.
CREATE TABLE sms_codes (
    id TEXT PRIMARY KEY,
    individual_id TEXT NOT NULL REFERENCES individuals (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX sms_codes_individual ON sms_codes (individual_id, purpose, created_at);

ALTER TABLE sessions ADD COLUMN individual_id TEXT REFERENCES individuals (id) ON DELETE CASCADE;
