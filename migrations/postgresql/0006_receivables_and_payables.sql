-- Receivables and payables, derived from the general ledger. Every line posted to a book's receivables or payables
-- control account names its customer or vendor and becomes an open item; documents (invoices, bills and their
-- credits) and payments each post one balanced entry; allocations match open items of one party without posting.
-- So what is open per party always sums to the control account's balance. PostgreSQL edition of sqlite/0006.

-- The book's control accounts (codes in its chart), its default payment terms, and its document numbering.
ALTER TABLE books ADD COLUMN receivables_account TEXT COLLATE "C" NULL;
ALTER TABLE books ADD COLUMN payables_account TEXT COLLATE "C" NULL;
ALTER TABLE books ADD COLUMN payment_terms_days BIGINT NOT NULL DEFAULT 30;

-- What posted an entry, when a document or payment did (NULL for entries posted by hand).
ALTER TABLE journal_entries ADD COLUMN source_type TEXT COLLATE "C" NULL;
ALTER TABLE journal_entries ADD COLUMN source_id BIGINT NULL;

-- Customers and vendors. Codes are unique per book and kind; generated ones (C00001, V00001) count up per kind.
CREATE SEQUENCE parties_id_seq;
CREATE TABLE parties (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('customer', 'vendor')),
    code TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    email TEXT COLLATE "C" NULL,
    tax_id TEXT COLLATE "C" NULL,
    address TEXT COLLATE "C" NULL,
    payment_terms_days BIGINT NOT NULL,
    notes TEXT COLLATE "C" NULL,
    archived BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, kind, code)
);
CREATE INDEX ix_parties_book_kind_name ON parties (book_id, kind, name, id);

-- Gapless counters per book and kind: customer and vendor codes, and each document kind's numbers.
CREATE TABLE book_sequences (
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    kind TEXT COLLATE "C" NOT NULL,
    prefix TEXT COLLATE "C" NOT NULL,
    next_number BIGINT NOT NULL,
    PRIMARY KEY (book_id, kind)
);

-- Tax rates: a percentage (exact decimal text such as '5.5'), the liability account sales tax posts to and the
-- asset account purchase tax posts to. A rate used by a document never changes; it can be archived.
CREATE SEQUENCE tax_rates_id_seq;
CREATE TABLE tax_rates (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    code TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    rate TEXT COLLATE "C" NOT NULL,
    sales_account TEXT COLLATE "C" NOT NULL,
    purchase_account TEXT COLLATE "C" NOT NULL,
    archived BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (book_id, code)
);

-- Invoices, bills, credit notes and vendor credits. A draft has no number and no entry; issuing numbers it and posts
-- its entry; voiding posts the reversal. Totals are the sums of the lines' rounded figures (net + tax = gross).
CREATE SEQUENCE documents_id_seq;
CREATE TABLE documents (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('invoice', 'bill', 'credit_note', 'vendor_credit')),
    party_id BIGINT NOT NULL REFERENCES parties (id),
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('draft', 'issued', 'void')),
    number TEXT COLLATE "C" NULL,
    document_date TEXT COLLATE "C" NOT NULL,
    due_date TEXT COLLATE "C" NULL,
    reference TEXT COLLATE "C" NULL,
    vendor_reference TEXT COLLATE "C" NULL,
    amounts_are TEXT COLLATE "C" NOT NULL CHECK (amounts_are IN ('exclusive', 'inclusive')),
    corrects_id BIGINT NULL REFERENCES documents (id),
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    entry_id BIGINT NULL REFERENCES journal_entries (id),
    void_entry_id BIGINT NULL REFERENCES journal_entries (id),
    created_at TEXT COLLATE "C" NOT NULL,
    issued_at TEXT COLLATE "C" NULL,
    voided_at TEXT COLLATE "C" NULL,
    UNIQUE (book_id, kind, number)
);
CREATE INDEX ix_documents_book_kind_date ON documents (book_id, kind, document_date, id);
CREATE INDEX ix_documents_party ON documents (book_id, party_id, document_date);
CREATE INDEX ix_documents_vendor_reference ON documents (book_id, party_id, vendor_reference);

CREATE TABLE document_lines (
    document_id BIGINT NOT NULL REFERENCES documents (id),
    line_no BIGINT NOT NULL,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    description TEXT COLLATE "C" NOT NULL,
    quantity TEXT COLLATE "C" NOT NULL,
    unit_price TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    tax_rate TEXT COLLATE "C" NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    PRIMARY KEY (document_id, line_no)
);

-- Money in from or out to a party, through a bank or cash account. What is not allocated stays on the party as credit.
CREATE SEQUENCE payments_id_seq;
CREATE TABLE payments (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    party_id BIGINT NOT NULL REFERENCES parties (id),
    direction TEXT COLLATE "C" NOT NULL CHECK (direction IN ('in', 'out')),
    payment_date TEXT COLLATE "C" NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    account TEXT COLLATE "C" NOT NULL,
    reference TEXT COLLATE "C" NULL,
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    void_entry_id BIGINT NULL REFERENCES journal_entries (id),
    created_at TEXT COLLATE "C" NOT NULL,
    voided_at TEXT COLLATE "C" NULL
);
CREATE INDEX ix_payments_book_date ON payments (book_id, payment_date, id);
CREATE INDEX ix_payments_party ON payments (book_id, party_id, payment_date);

-- One row per line posted to a control account: the amount as posted there (debit positive, credit negative), the
-- party, and what posted it. Its open amount at a date is its amount less the allocations on it by then.
CREATE SEQUENCE open_items_id_seq;
CREATE TABLE open_items (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    party_id BIGINT NOT NULL REFERENCES parties (id),
    ledger TEXT COLLATE "C" NOT NULL CHECK (ledger IN ('receivables', 'payables')),
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    line_no BIGINT NOT NULL,
    item_date TEXT COLLATE "C" NOT NULL,
    due_date TEXT COLLATE "C" NOT NULL,
    amount BIGINT NOT NULL,
    source_type TEXT COLLATE "C" NOT NULL CHECK (source_type IN ('invoice', 'bill', 'credit_note', 'vendor_credit', 'payment', 'journal')),
    source_id BIGINT NULL,
    UNIQUE (entry_id, line_no)
);
CREATE INDEX ix_open_items_ledger_date ON open_items (book_id, ledger, item_date, id);
CREATE INDEX ix_open_items_party ON open_items (book_id, party_id, item_date, id);
CREATE INDEX ix_open_items_source ON open_items (book_id, source_type, source_id);

-- Matches of a debit item with a credit item of the same party and ledger. Undone allocations stay, with when they
-- were undone, so a report as known at an earlier instant still sees them.
CREATE SEQUENCE allocations_id_seq;
CREATE TABLE allocations (
    id BIGINT PRIMARY KEY,
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    party_id BIGINT NOT NULL REFERENCES parties (id),
    ledger TEXT COLLATE "C" NOT NULL CHECK (ledger IN ('receivables', 'payables')),
    debit_item_id BIGINT NOT NULL REFERENCES open_items (id),
    credit_item_id BIGINT NOT NULL REFERENCES open_items (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    allocation_date TEXT COLLATE "C" NOT NULL,
    recorded_at TEXT COLLATE "C" NOT NULL,
    recorded_by TEXT COLLATE "C" NOT NULL,
    undone_at TEXT COLLATE "C" NULL,
    undone_by TEXT COLLATE "C" NULL
);
CREATE INDEX ix_allocations_debit_item ON allocations (book_id, debit_item_id);
CREATE INDEX ix_allocations_credit_item ON allocations (book_id, credit_item_id);
CREATE INDEX ix_allocations_party ON allocations (book_id, party_id, allocation_date);

-- Books that exist already keep working as before: they name no control accounts until they are set (PATCH book).

-- Documents and payments share one id space, so an allocation names either by id alone ("document", "against").
CREATE SEQUENCE subledger_items_id_seq;
