-- The 固废链's access applications (SDK接入应用): each province's system, its grants, and its
-- HMAC-SM3 secret sealed with the field cipher (SM4-GCM), since checking a call needs it back.
-- Every nonce a call used is kept for as long as its timestamp could be accepted, so a call
-- cannot be replayed, on any instance.
CREATE TABLE chain_apps (
    app_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    province TEXT NOT NULL,
    secret TEXT NOT NULL,
    grants TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE chain_nonces (
    app_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (app_id, nonce)
);
CREATE INDEX chain_nonces_at ON chain_nonces (at);
