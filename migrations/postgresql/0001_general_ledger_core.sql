-- General-ledger core, PostgreSQL edition of sqlite/0001. Same tables, columns and indexes; the types differ:
--  * every integer is BIGINT (SQLite's INTEGER is 64-bit; ids, numbers and money must not be narrower here);
--  * text is COLLATE "C", so ORDER BY and comparisons are by code point as in SQLite, whatever the database's
--    locale: ISO-8601 dates and the fixed-width instants of the application sort correctly, and answers are the same
--    byte for byte on both engines;
--  * flags stay 0/1 BIGINT with a CHECK, so the SQL that reads and writes them is the same on both engines;
--  * application ids come from sequences (several API processes write at once), taken inside the transaction
--    that holds the book's row lock, so within a book ids grow in commit order (what "known at" relies on).

CREATE TABLE books (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    fiscal_year_start_month BIGINT NOT NULL DEFAULT 1,
    retained_earnings_account TEXT COLLATE "C" NULL,
    lock_date TEXT COLLATE "C" NULL,
    next_entry_number BIGINT NOT NULL DEFAULT 1,
    total_debit BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    book_id TEXT COLLATE "C" NULL REFERENCES books (id),
    is_admin BIGINT NOT NULL CHECK (is_admin IN (0, 1)),
    can_write BIGINT NOT NULL CHECK (can_write IN (0, 1)),
    key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    key_prefix TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT COLLATE "C" NULL
);

CREATE SEQUENCE accounts_id_seq;
CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    code TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    parent_code TEXT COLLATE "C" NULL,
    description TEXT COLLATE "C" NULL,
    archived BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    debit_total BIGINT NOT NULL DEFAULT 0,
    credit_total BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, code)
);

CREATE SEQUENCE journal_entries_id_seq;
CREATE TABLE journal_entries (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    number BIGINT NOT NULL,
    entry_date TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    reference TEXT COLLATE "C" NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    reversal_of BIGINT NULL REFERENCES journal_entries (id),
    reversed_by BIGINT NULL REFERENCES journal_entries (id),
    is_closing BIGINT NOT NULL DEFAULT 0 CHECK (is_closing IN (0, 1)),
    UNIQUE (book_id, number)
);
CREATE INDEX ix_journal_entries_book_date ON journal_entries (book_id, entry_date, id);
CREATE INDEX ix_journal_entries_book_reference ON journal_entries (book_id, reference);

CREATE TABLE postings (
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    line_no BIGINT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL,
    entry_date TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NULL,
    PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX ix_postings_account_date ON postings (account_id, entry_date, entry_id);

CREATE TABLE account_period_totals (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    period BIGINT NOT NULL,
    debit BIGINT NOT NULL,
    credit BIGINT NOT NULL,
    PRIMARY KEY (account_id, period)
);

CREATE TABLE idempotency_keys (
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    idempotency_key TEXT COLLATE "C" NOT NULL,
    request_hash TEXT COLLATE "C" NOT NULL,
    status_code BIGINT NOT NULL,
    location TEXT COLLATE "C" NULL,
    response_body TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (book_id, idempotency_key)
);
CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at);

-- One row per committed group of writes to one book: that book's entries with id <= max_entry_id were recorded at or
-- before recorded_at. On PostgreSQL every group writes one book (the writer groups by book under its row lock), so
-- recorded_at grows in commit order per book, across every API process.
CREATE SEQUENCE commits_id_seq;
CREATE TABLE commits (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NULL,
    recorded_at TEXT COLLATE "C" NOT NULL,
    max_entry_id BIGINT NOT NULL
);
CREATE INDEX ix_commits_book_recorded_at ON commits (book_id, recorded_at);
