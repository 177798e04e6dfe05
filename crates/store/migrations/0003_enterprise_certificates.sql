-- Enterprise certificates (法人一证通), login challenges, and requests to activate a primary
-- certificate (seed 001).

-- A certificate seen at login. Its role decides what it may do: the primary may do everything
-- and manage the others; a secondary may act on the services in `rights` (a JSON array of item
-- ids); an unregistered one may only ask to become primary, when the enterprise has none.
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    role TEXT NOT NULL,
    rights TEXT NOT NULL,
    holder TEXT NOT NULL,
    pem TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    revoked_at BIGINT,
    first_seen_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX certificates_enterprise ON certificates (enterprise_id);

-- One-time login challenges; a nonce is spent by the first login that uses it.
CREATE TABLE login_challenges (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- 主数字证书开通申请: reviewed by an officer within one working day, withdrawable before.
CREATE TABLE primary_activations (
    id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    certificate_serial TEXT NOT NULL REFERENCES certificates (serial),
    legal_representative TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    contact TEXT NOT NULL,
    -- SM4-GCM sealed (see crates/crypto/src/field.rs).
    contact_phone TEXT NOT NULL,
    media_number TEXT NOT NULL,
    -- SM3 digest of the stamped application form (JPG) in file storage.
    scan_digest TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    opinion TEXT NOT NULL
);
CREATE INDEX primary_activations_state ON primary_activations (state, submitted_at);

ALTER TABLE sessions ADD COLUMN enterprise_id TEXT REFERENCES enterprises (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN certificate_serial TEXT;
