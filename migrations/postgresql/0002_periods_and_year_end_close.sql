-- Periods, PostgreSQL edition of sqlite/0002 (types as in 0001).

CREATE SEQUENCE lock_date_changes_id_seq;
CREATE TABLE lock_date_changes (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    changed_at TEXT COLLATE "C" NOT NULL,
    changed_by TEXT COLLATE "C" NOT NULL,
    from_date TEXT COLLATE "C" NULL,
    to_date TEXT COLLATE "C" NULL,
    source TEXT COLLATE "C" NOT NULL
);
CREATE INDEX ix_lock_date_changes_book ON lock_date_changes (book_id, id);

CREATE TABLE year_end_closes (
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    fiscal_year_end TEXT COLLATE "C" NOT NULL,
    fiscal_year_start TEXT COLLATE "C" NOT NULL,
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    closed_at TEXT COLLATE "C" NOT NULL,
    closed_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (book_id, fiscal_year_end)
);
