-- What the chart of accounts and the fiscal year looked like at any instant, so that a report pulled "as known at"
-- an instant shows the accounts (and names) and the fiscal-year split it showed then. Same portable SQL subset.

-- One row per state of an account: when it was created, renamed or otherwise changed, and when it was deleted.
-- The row with the highest id recorded at or before an instant is the account as it stood then.
CREATE TABLE account_versions (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    book_id TEXT NOT NULL REFERENCES books (id),
    recorded_at TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    parent_code TEXT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX ix_account_versions_book ON account_versions (book_id, account_id, id);

-- Books that existed before this history: their accounts as they stand now, from when each was created.
INSERT INTO account_versions (id, account_id, book_id, recorded_at, code, name, type, parent_code, deleted)
SELECT id, id, book_id, created_at, code, name, type, parent_code, 0 FROM accounts;

-- Every change of a book's fiscal-year start month (allowed until a year is closed).
CREATE TABLE fiscal_year_start_changes (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    recorded_at TEXT NOT NULL,
    from_month INTEGER NOT NULL,
    to_month INTEGER NOT NULL
);
CREATE INDEX ix_fiscal_year_start_changes_book ON fiscal_year_start_changes (book_id, recorded_at);
