-- Each run of the 固废链's hash check (哈希核验): the leaves it covered, what it found, and the
-- right edge of the tree it rebuilt (so the next, incremental run goes on from there without
-- trusting the stored subtrees). A run with findings is an alert on the workbench.
CREATE TABLE chain_audits (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    from_size BIGINT NOT NULL,
    to_size BIGINT NOT NULL,
    findings TEXT NOT NULL,
    frontier TEXT NOT NULL
);
CREATE INDEX chain_audits_at ON chain_audits (at);
