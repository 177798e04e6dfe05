-- Officers' login certificates, recorded when issued so that one can be revoked on its own.
-- A session opened with a certificate carries its serial (sessions.certificate_serial) and ends
-- when the certificate is revoked.
CREATE TABLE officer_certificates (
    serial TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX officer_certificates_officer ON officer_certificates (officer_id);
