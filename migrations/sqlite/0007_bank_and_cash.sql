-- Bank and cash: the book's bank and cash accounts (each one asset account of the chart), the statements imported for
-- them and their lines, what each line is matched to, the rules that code lines, and closed reconciliations.
-- Statement lines are the bank's record, never the books': they post nothing themselves. A match either names an
-- entry already posted or posts one (a payment, or an entry against another account) dated on the line's booking date.

CREATE TABLE bank_accounts (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bank', 'cash')),
    iban TEXT NULL,
    bic TEXT NULL,
    currency TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (book_id, account)
);

-- How one bank's CSV files are laid out (the profile as JSON, read by the importer).
CREATE TABLE csv_profiles (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts (id),
    name TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (book_id, bank_account_id, name)
);

-- One imported file. The same file (by SHA-256 of its bytes) imports once per bank account.
CREATE TABLE bank_statements (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts (id),
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    file_bytes BIGINT NOT NULL,
    imported_lines INTEGER NOT NULL,
    duplicate_lines INTEGER NOT NULL,
    opening_balance BIGINT NULL,
    opening_date TEXT NULL,
    closing_balance BIGINT NULL,
    closing_date TEXT NULL,
    first_date TEXT NULL,
    last_date TEXT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    UNIQUE (book_id, bank_account_id, content_hash)
);
CREATE INDEX ix_bank_statements_account ON bank_statements (book_id, bank_account_id, last_date, id);

-- A line as the bank booked it (amount signed: money in positive). dedupe_key says which line of the bank's it is, so
-- an overlapping file imports only its new lines: the bank's reference with date and amount, or without one the
-- date, amount, text, counterparty and which occurrence of those it is within its file.
CREATE TABLE statement_lines (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts (id),
    statement_id INTEGER NOT NULL REFERENCES bank_statements (id),
    booking_date TEXT NOT NULL,
    value_date TEXT NOT NULL,
    amount BIGINT NOT NULL,
    description TEXT NOT NULL,
    counterparty TEXT NULL,
    counterparty_iban TEXT NULL,
    bank_reference TEXT NULL,
    reversal INTEGER NOT NULL CHECK (reversal IN (0, 1)),
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unmatched', 'matched', 'ignored')),
    UNIQUE (book_id, bank_account_id, dedupe_key)
);
CREATE INDEX ix_statement_lines_account_date ON statement_lines (book_id, bank_account_id, booking_date, id);
CREATE INDEX ix_statement_lines_statement ON statement_lines (book_id, statement_id, id);

-- What a line is: an entry's line on the bank's GL account (posted before, or posted by this match). An undone match
-- stays with when it was undone and the reversal it posted. A line has at most one live match, and so has a posting.
CREATE TABLE bank_matches (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    statement_line_id INTEGER NOT NULL REFERENCES statement_lines (id),
    kind TEXT NOT NULL CHECK (kind IN ('posting', 'documents', 'account')),
    entry_id INTEGER NOT NULL REFERENCES journal_entries (id),
    line_no INTEGER NOT NULL,
    entry_date TEXT NOT NULL,
    payment_id INTEGER NULL,
    rule_id INTEGER NULL,
    matched_at TEXT NOT NULL,
    matched_by TEXT NOT NULL,
    undone_at TEXT NULL,
    undone_by TEXT NULL,
    reversal_entry_id INTEGER NULL REFERENCES journal_entries (id),
    reconciliation_id INTEGER NULL
);
CREATE UNIQUE INDEX ux_bank_matches_live_line ON bank_matches (statement_line_id) WHERE undone_at IS NULL;
CREATE UNIQUE INDEX ux_bank_matches_live_posting ON bank_matches (entry_id, line_no) WHERE undone_at IS NULL;
CREATE INDEX ix_bank_matches_book ON bank_matches (book_id, statement_line_id);

-- Rules that code statement lines: all conditions must hold (JSON list), the lowest priority number wins.
CREATE TABLE bank_rules (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    name TEXT NOT NULL,
    priority INTEGER NOT NULL,
    conditions TEXT NOT NULL,
    account TEXT NOT NULL,
    description TEXT NULL,
    tax_rate TEXT NULL,
    created_at TEXT NOT NULL,
    deleted_at TEXT NULL
);
CREATE INDEX ix_bank_rules_book ON bank_rules (book_id, priority, id);

-- A closed reconciliation: as of a date the statement balance was explained by the book balance, the postings not yet
-- on the statement and the lines not yet in the books. Its matches can no longer be undone.
CREATE TABLE bank_reconciliations (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts (id),
    as_of TEXT NOT NULL,
    statement_balance BIGINT NOT NULL,
    book_balance BIGINT NOT NULL,
    unreconciled_postings BIGINT NOT NULL,
    unmatched_lines BIGINT NOT NULL,
    closed_at TEXT NOT NULL,
    closed_by TEXT NOT NULL,
    UNIQUE (book_id, bank_account_id, as_of)
);
