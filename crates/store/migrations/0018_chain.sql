-- 固废链, the four-province verifiable log. `chain_entries` are its leaves in order (seq is the
-- leaf index); `chain_nodes` holds every complete subtree's hash, so a proof reads O(log n)
-- rows; `chain_head` is the one row that serialises appenders (its UPDATE takes the lock on
-- PostgreSQL; SQLite has one writer anyway). Each appended batch ends in a checkpoint signed
-- by the log's SM2 key; witnesses add their cosignatures.
CREATE TABLE chain_head (
    id INTEGER PRIMARY KEY,
    size BIGINT NOT NULL,
    height BIGINT NOT NULL
);
INSERT INTO chain_head (id, size, height) VALUES (1, 0, 0);

CREATE TABLE chain_entries (
    seq BIGINT PRIMARY KEY,
    contract TEXT NOT NULL,
    version INTEGER NOT NULL,
    business_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    payload TEXT NOT NULL,
    payload_sm3 TEXT NOT NULL,
    app_id TEXT NOT NULL,
    app_signature TEXT NOT NULL,
    at BIGINT NOT NULL,
    prev_seq BIGINT,
    leaf_hash {blob} NOT NULL
);
CREATE INDEX chain_entries_key ON chain_entries (contract, business_key, seq);

CREATE TABLE chain_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash {blob} NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The state of each business key under its contract, as the contract left it.
CREATE TABLE chain_keys (
    contract TEXT NOT NULL,
    business_key TEXT NOT NULL,
    state TEXT NOT NULL,
    reference TEXT,
    last_seq BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (contract, business_key)
);
CREATE INDEX chain_keys_reference ON chain_keys (contract, reference);

CREATE TABLE chain_checkpoints (
    height BIGINT PRIMARY KEY,
    tree_size BIGINT NOT NULL,
    root {blob} NOT NULL,
    at BIGINT NOT NULL,
    signature {blob} NOT NULL
);

CREATE TABLE chain_cosignatures (
    height BIGINT NOT NULL,
    witness TEXT NOT NULL,
    signature {blob} NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (height, witness)
);

-- A witness's own memory (each province's witness has its own store): the last checkpoint of
-- each log it cosigned, and the evidence of every checkpoint it refused as a rewritten or
-- forked history (both signed checkpoints, kept for the bureaus to see).
CREATE TABLE witness_checkpoints (
    origin TEXT PRIMARY KEY,
    height BIGINT NOT NULL,
    tree_size BIGINT NOT NULL,
    root {blob} NOT NULL,
    at BIGINT NOT NULL,
    signature {blob} NOT NULL
);

CREATE TABLE witness_evidence (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    cosigned_body TEXT NOT NULL,
    cosigned_signature {blob} NOT NULL,
    offered_body TEXT NOT NULL,
    offered_signature {blob} NOT NULL,
    at BIGINT NOT NULL
);
