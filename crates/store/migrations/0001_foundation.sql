-- Foundation: parties, sessions and durable jobs.
-- Written once for SQLite and PostgreSQL: TEXT ids (UUIDv7), BIGINT instants (Unix milliseconds),
-- BOOLEAN flags, {blob} for bytes. See crates/store/src/dialect.rs.

CREATE TABLE enterprises (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    legal_representative TEXT NOT NULL,
    registered_address TEXT NOT NULL,
    district_code TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE officers (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    -- Role codes separated by commas (see OfficerRole::code).
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A login session. The id is the SM3 digest of the cookie's secret, so reading this table does not
-- give anyone a usable cookie.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    officer_id TEXT REFERENCES officers (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Durable timed work. A row is claimed by setting locked_until (a lease); a crashed worker's claim
-- expires and the job runs again, so handlers are idempotent.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- At most one queued job per key (e.g. one expiry timer per draft).
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);
