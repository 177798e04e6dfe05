-- The append-only audit log, chained by SM3 (see crates/domain/src/audit.rs), and its head: the
-- last sequence number and digest, updated in the same transaction as each append. Locking the
-- head row serialises appends on PostgreSQL; SQLite has one writer anyway.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_digest TEXT NOT NULL,
    digest TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    digest TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, digest)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Officer lockout after repeated failed logins.
ALTER TABLE officers ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE officers ADD COLUMN locked_until BIGINT;
