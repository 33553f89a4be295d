-- PostgreSQL edition of sqlite/0004: the chart and fiscal-year start as they stood at any instant.

CREATE SEQUENCE account_versions_id_seq;
CREATE TABLE account_versions (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    recorded_at TEXT COLLATE "C" NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    parent_code TEXT COLLATE "C" NULL,
    deleted BIGINT NOT NULL CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_account_versions_book ON account_versions (book_id, account_id, id);

CREATE SEQUENCE fiscal_year_start_changes_id_seq;
CREATE TABLE fiscal_year_start_changes (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    recorded_at TEXT COLLATE "C" NOT NULL,
    from_month BIGINT NOT NULL,
    to_month BIGINT NOT NULL
);
CREATE INDEX ix_fiscal_year_start_changes_book ON fiscal_year_start_changes (book_id, recorded_at);
