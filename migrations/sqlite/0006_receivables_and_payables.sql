-- Receivables and payables, derived from the general ledger. Every line posted to a book's receivables or payables
-- control account names its customer or vendor and becomes an open item; documents (invoices, bills and their
-- credits) and payments each post one balanced entry; allocations match open items of one party without posting.
-- So what is open per party always sums to the control account's balance. Same portable SQL subset as before.

-- The book's control accounts (codes in its chart), its default payment terms, and its document numbering.
ALTER TABLE books ADD COLUMN receivables_account TEXT NULL;
ALTER TABLE books ADD COLUMN payables_account TEXT NULL;
ALTER TABLE books ADD COLUMN payment_terms_days INTEGER NOT NULL DEFAULT 30;

-- What posted an entry, when a document or payment did (NULL for entries posted by hand).
ALTER TABLE journal_entries ADD COLUMN source_type TEXT NULL;
ALTER TABLE journal_entries ADD COLUMN source_id INTEGER NULL;

-- Customers and vendors. Codes are unique per book and kind; generated ones (C00001, V00001) count up per kind.
CREATE TABLE parties (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'vendor')),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NULL,
    tax_id TEXT NULL,
    address TEXT NULL,
    payment_terms_days INTEGER NOT NULL,
    notes TEXT NULL,
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (book_id, kind, code)
);
CREATE INDEX ix_parties_book_kind_name ON parties (book_id, kind, name, id);

-- Gapless counters per book and kind: customer and vendor codes, and each document kind's numbers.
CREATE TABLE book_sequences (
    book_id TEXT NOT NULL REFERENCES books (id),
    kind TEXT NOT NULL,
    prefix TEXT NOT NULL,
    next_number INTEGER NOT NULL,
    PRIMARY KEY (book_id, kind)
);

-- Tax rates: a percentage (exact decimal text such as '5.5'), the liability account sales tax posts to and the
-- asset account purchase tax posts to. A rate used by a document never changes; it can be archived.
CREATE TABLE tax_rates (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    rate TEXT NOT NULL,
    sales_account TEXT NOT NULL,
    purchase_account TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (book_id, code)
);

-- Invoices, bills, credit notes and vendor credits. A draft has no number and no entry; issuing numbers it and posts
-- its entry; voiding posts the reversal. Totals are the sums of the lines' rounded figures (net + tax = gross).
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'bill', 'credit_note', 'vendor_credit')),
    party_id INTEGER NOT NULL REFERENCES parties (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'void')),
    number TEXT NULL,
    document_date TEXT NOT NULL,
    due_date TEXT NULL,
    reference TEXT NULL,
    vendor_reference TEXT NULL,
    amounts_are TEXT NOT NULL CHECK (amounts_are IN ('exclusive', 'inclusive')),
    corrects_id INTEGER NULL REFERENCES documents (id),
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    entry_id INTEGER NULL REFERENCES journal_entries (id),
    void_entry_id INTEGER NULL REFERENCES journal_entries (id),
    created_at TEXT NOT NULL,
    issued_at TEXT NULL,
    voided_at TEXT NULL,
    UNIQUE (book_id, kind, number)
);
CREATE INDEX ix_documents_book_kind_date ON documents (book_id, kind, document_date, id);
CREATE INDEX ix_documents_party ON documents (book_id, party_id, document_date);
CREATE INDEX ix_documents_vendor_reference ON documents (book_id, party_id, vendor_reference);

CREATE TABLE document_lines (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    line_no INTEGER NOT NULL,
    book_id TEXT NOT NULL REFERENCES books (id),
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    account TEXT NOT NULL,
    tax_rate TEXT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    PRIMARY KEY (document_id, line_no)
);

-- Money in from or out to a party, through a bank or cash account. What is not allocated stays on the party as credit.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    party_id INTEGER NOT NULL REFERENCES parties (id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    payment_date TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    account TEXT NOT NULL,
    reference TEXT NULL,
    entry_id INTEGER NOT NULL REFERENCES journal_entries (id),
    void_entry_id INTEGER NULL REFERENCES journal_entries (id),
    created_at TEXT NOT NULL,
    voided_at TEXT NULL
);
CREATE INDEX ix_payments_book_date ON payments (book_id, payment_date, id);
CREATE INDEX ix_payments_party ON payments (book_id, party_id, payment_date);

-- One row per line posted to a control account: the amount as posted there (debit positive, credit negative), the
-- party, and what posted it. Its open amount at a date is its amount less the allocations on it by then.
CREATE TABLE open_items (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    party_id INTEGER NOT NULL REFERENCES parties (id),
    ledger TEXT NOT NULL CHECK (ledger IN ('receivables', 'payables')),
    entry_id INTEGER NOT NULL REFERENCES journal_entries (id),
    line_no INTEGER NOT NULL,
    item_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    amount BIGINT NOT NULL,
    source_type TEXT NOT NULL CHECK (source_type IN ('invoice', 'bill', 'credit_note', 'vendor_credit', 'payment', 'journal')),
    source_id INTEGER NULL,
    UNIQUE (entry_id, line_no)
);
CREATE INDEX ix_open_items_ledger_date ON open_items (book_id, ledger, item_date, id);
CREATE INDEX ix_open_items_party ON open_items (book_id, party_id, item_date, id);
CREATE INDEX ix_open_items_source ON open_items (book_id, source_type, source_id);

-- Matches of a debit item with a credit item of the same party and ledger. Undone allocations stay, with when they
-- were undone, so a report as known at an earlier instant still sees them.
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id),
    party_id INTEGER NOT NULL REFERENCES parties (id),
    ledger TEXT NOT NULL CHECK (ledger IN ('receivables', 'payables')),
    debit_item_id INTEGER NOT NULL REFERENCES open_items (id),
    credit_item_id INTEGER NOT NULL REFERENCES open_items (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    allocation_date TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    undone_at TEXT NULL,
    undone_by TEXT NULL
);
CREATE INDEX ix_allocations_debit_item ON allocations (book_id, debit_item_id);
CREATE INDEX ix_allocations_credit_item ON allocations (book_id, credit_item_id);
CREATE INDEX ix_allocations_party ON allocations (book_id, party_id, allocation_date);

-- Books that exist already keep working as before: they name no control accounts until they are set (PATCH book).

-- Documents and payments share one id space, so an allocation names either by id alone ("document", "against").
-- The writer draws their ids from this view's maximum (PostgreSQL: from the sequence of the same name).
CREATE VIEW subledger_items AS SELECT id FROM documents UNION ALL SELECT id FROM payments;
