-- Periods: who moved a book's lock date and when, and which fiscal years have been closed.
-- Same portable SQL subset as 0001: application-generated ids, TEXT dates and instants, INTEGER flags.

-- Every change of books.lock_date, in the order made. Reopening a closed period is an admin act that
-- auditors ask about, so the history is never edited: one row per change, never updated or deleted.
CREATE TABLE lock_date_changes (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    from_date TEXT NULL,
    to_date TEXT NULL,
    source TEXT NOT NULL
);
CREATE INDEX ix_lock_date_changes_book ON lock_date_changes (book_id, id);

-- One row per closed fiscal year, pointing at its closing entry. A year is closed exactly when it has a row;
-- the balance sheet reads this small table (not every entry) to split earnings into closed and unclosed,
-- and income statements take these entries back out of their movements.
CREATE TABLE year_end_closes (
    book_id TEXT NOT NULL REFERENCES books (id),
    fiscal_year_end TEXT NOT NULL,
    fiscal_year_start TEXT NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES journal_entries (id),
    closed_at TEXT NOT NULL,
    closed_by TEXT NOT NULL,
    PRIMARY KEY (book_id, fiscal_year_end)
);
