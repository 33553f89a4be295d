-- Webhooks: subscriptions that push a book's events, one at a time and in sequence order, to a URL. Delivery is driven
-- from the event log: a subscription only remembers the last sequence its receiver acknowledged (a 2xx), so a restart
-- loses nothing and everything a delivery needs is in these tables. The secret the deliveries are signed with is
-- stored encrypted (AES-GCM), never in the clear; a deleted subscription keeps its row without it.
-- lease_owner and lease_until let one API process at a time deliver a subscription (several may share PostgreSQL).

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    url TEXT NOT NULL,
    types TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
    created_at TEXT NOT NULL,
    last_delivered_sequence INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    paused_at TEXT NULL,
    deleted_at TEXT NULL,
    lease_owner TEXT NULL,
    lease_until TEXT NULL
);
CREATE INDEX ix_webhooks_book ON webhooks (book_id, id);
CREATE INDEX ix_webhooks_due ON webhooks (status, next_attempt_at);

-- Every attempt, numbered per subscription (attempt_no, from webhooks.attempts); the oldest are pruned beyond a bound.
CREATE TABLE webhook_deliveries (
    book_id TEXT NOT NULL REFERENCES books (id),
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    attempt_no INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code INTEGER NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    error TEXT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (book_id, webhook_id, attempt_no)
) WITHOUT ROWID;
