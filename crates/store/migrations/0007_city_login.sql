-- Sign-on through the city platform's unified login (OpenID Connect). A platform account
-- (issuer, subject) is linked to at most one individual, and an individual to at most one
-- account per platform.
CREATE TABLE external_accounts (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    individual_id TEXT NOT NULL REFERENCES individuals (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX external_accounts_one_per_individual ON external_accounts (issuer, individual_id);

-- A sign-on in progress, found by the SM3 of the secret in the browser's cookie: what the
-- platform must send back (state), what its ID token must carry (nonce), the PKCE verifier, and,
-- once the platform has answered for a person not yet linked, that person's claims (sealed).
CREATE TABLE external_logins (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    person TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX external_logins_expiry ON external_logins (expires_at);
