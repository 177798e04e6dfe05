-- Fixed-window request counters, kept in the store so that every instance counts together.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL
);
