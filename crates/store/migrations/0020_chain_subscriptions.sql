-- Subscriptions to the 固废链: an application's callback and where its delivery stands. The
-- cursor is the next leaf to look at; entries are pushed in leaf order, and the cursor moves
-- only after the callback acknowledged them, so delivery is at least once, in order, and goes
-- on from the cursor after a failure or a restart.
CREATE TABLE chain_subscriptions (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    contracts TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX chain_subscriptions_app ON chain_subscriptions (app_id);
