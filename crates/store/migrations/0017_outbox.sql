-- The outbox: every message for another system (the city platform's case library and licence
-- repository), written in the transaction of the change it reports and delivered in order per
-- destination with retries. The id is the message id the receiver deduplicates by.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    case_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    attempts BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (destination, delivered_at, id);
