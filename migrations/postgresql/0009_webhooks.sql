-- Webhooks: PostgreSQL edition of sqlite/0009 (see there).

CREATE SEQUENCE webhooks_id_seq;
CREATE TABLE webhooks (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    url TEXT COLLATE "C" NOT NULL,
    types TEXT COLLATE "C" NOT NULL,
    secret TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
    created_at TEXT COLLATE "C" NOT NULL,
    last_delivered_sequence BIGINT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    failing_since TEXT COLLATE "C" NULL,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error TEXT COLLATE "C" NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    paused_at TEXT COLLATE "C" NULL,
    deleted_at TEXT COLLATE "C" NULL,
    lease_owner TEXT COLLATE "C" NULL,
    lease_until TEXT COLLATE "C" NULL
);
CREATE INDEX ix_webhooks_book ON webhooks (book_id, id);
CREATE INDEX ix_webhooks_due ON webhooks (status, next_attempt_at);

CREATE TABLE webhook_deliveries (
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    attempt_no BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    attempted_at TEXT COLLATE "C" NOT NULL,
    status_code BIGINT NULL,
    outcome TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    error TEXT COLLATE "C" NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (book_id, webhook_id, attempt_no)
);
