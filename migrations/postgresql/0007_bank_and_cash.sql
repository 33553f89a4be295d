-- Bank and cash: the book's bank and cash accounts (each one asset account of the chart), the statements imported for
-- them and their lines, what each line is matched to, the rules that code lines, and closed reconciliations.
-- (PostgreSQL edition of sqlite/0007.) Statement lines are the bank's record, never the books': they post nothing themselves. A match either names an
-- entry already posted or posts one (a payment, or an entry against another account) dated on the line's booking date.

CREATE SEQUENCE bank_accounts_id_seq;
CREATE TABLE bank_accounts (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    name TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('bank', 'cash')),
    iban TEXT COLLATE "C" NULL,
    bic TEXT COLLATE "C" NULL,
    currency TEXT COLLATE "C" NOT NULL,
    archived BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, account)
);

-- How one bank's CSV files are laid out (the profile as JSON, read by the importer).
CREATE SEQUENCE csv_profiles_id_seq;
CREATE TABLE csv_profiles (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    bank_account_id BIGINT NOT NULL REFERENCES bank_accounts (id),
    name TEXT COLLATE "C" NOT NULL,
    profile TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, bank_account_id, name)
);

-- One imported file. The same file (by SHA-256 of its bytes) imports once per bank account.
CREATE SEQUENCE bank_statements_id_seq;
CREATE TABLE bank_statements (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    bank_account_id BIGINT NOT NULL REFERENCES bank_accounts (id),
    format TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    file_bytes BIGINT NOT NULL,
    imported_lines BIGINT NOT NULL,
    duplicate_lines BIGINT NOT NULL,
    opening_balance BIGINT NULL,
    opening_date TEXT COLLATE "C" NULL,
    closing_balance BIGINT NULL,
    closing_date TEXT COLLATE "C" NULL,
    first_date TEXT COLLATE "C" NULL,
    last_date TEXT COLLATE "C" NULL,
    imported_at TEXT COLLATE "C" NOT NULL,
    imported_by TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, bank_account_id, content_hash)
);
CREATE INDEX ix_bank_statements_account ON bank_statements (book_id, bank_account_id, last_date, id);

-- A line as the bank booked it (amount signed: money in positive). dedupe_key says which line of the bank's it is, so
-- an overlapping file imports only its new lines: the bank's reference with date and amount, or without one the
-- date, amount, text, counterparty and which occurrence of those it is within its file.
CREATE SEQUENCE statement_lines_id_seq;
CREATE TABLE statement_lines (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    bank_account_id BIGINT NOT NULL REFERENCES bank_accounts (id),
    statement_id BIGINT NOT NULL REFERENCES bank_statements (id),
    booking_date TEXT COLLATE "C" NOT NULL,
    value_date TEXT COLLATE "C" NOT NULL,
    amount BIGINT NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    counterparty TEXT COLLATE "C" NULL,
    counterparty_iban TEXT COLLATE "C" NULL,
    bank_reference TEXT COLLATE "C" NULL,
    reversal BIGINT NOT NULL CHECK (reversal IN (0, 1)),
    dedupe_key TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('unmatched', 'matched', 'ignored')),
    UNIQUE (book_id, bank_account_id, dedupe_key)
);
CREATE INDEX ix_statement_lines_account_date ON statement_lines (book_id, bank_account_id, booking_date, id);
CREATE INDEX ix_statement_lines_statement ON statement_lines (book_id, statement_id, id);

-- What a line is: an entry's line on the bank's GL account (posted before, or posted by this match). An undone match
-- stays with when it was undone and the reversal it posted. A line has at most one live match, and so has a posting.
CREATE SEQUENCE bank_matches_id_seq;
CREATE TABLE bank_matches (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    statement_line_id BIGINT NOT NULL REFERENCES statement_lines (id),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('posting', 'documents', 'account')),
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    line_no BIGINT NOT NULL,
    entry_date TEXT COLLATE "C" NOT NULL,
    payment_id BIGINT NULL,
    rule_id BIGINT NULL,
    matched_at TEXT COLLATE "C" NOT NULL,
    matched_by TEXT COLLATE "C" NOT NULL,
    undone_at TEXT COLLATE "C" NULL,
    undone_by TEXT COLLATE "C" NULL,
    reversal_entry_id BIGINT NULL REFERENCES journal_entries (id),
    reconciliation_id BIGINT NULL
);
CREATE UNIQUE INDEX ux_bank_matches_live_line ON bank_matches (statement_line_id) WHERE undone_at IS NULL;
CREATE UNIQUE INDEX ux_bank_matches_live_posting ON bank_matches (entry_id, line_no) WHERE undone_at IS NULL;
CREATE INDEX ix_bank_matches_book ON bank_matches (book_id, statement_line_id);

-- Rules that code statement lines: all conditions must hold (JSON list), the lowest priority number wins.
CREATE SEQUENCE bank_rules_id_seq;
CREATE TABLE bank_rules (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    name TEXT COLLATE "C" NOT NULL,
    priority BIGINT NOT NULL,
    conditions TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NULL,
    tax_rate TEXT COLLATE "C" NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    deleted_at TEXT COLLATE "C" NULL
);
CREATE INDEX ix_bank_rules_book ON bank_rules (book_id, priority, id);

-- A closed reconciliation: as of a date the statement balance was explained by the book balance, the postings not yet
-- on the statement and the lines not yet in the books. Its matches can no longer be undone.
CREATE SEQUENCE bank_reconciliations_id_seq;
CREATE TABLE bank_reconciliations (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    bank_account_id BIGINT NOT NULL REFERENCES bank_accounts (id),
    as_of TEXT COLLATE "C" NOT NULL,
    statement_balance BIGINT NOT NULL,
    book_balance BIGINT NOT NULL,
    unreconciled_postings BIGINT NOT NULL,
    unmatched_lines BIGINT NOT NULL,
    closed_at TEXT COLLATE "C" NOT NULL,
    closed_by TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, bank_account_id, as_of)
);
