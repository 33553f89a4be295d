-- The event log: one event per change of a book, in the same transaction as the change, numbered 1, 2, 3 … per book
-- without gaps, each hash-chained to the one before (hash = SHA-256(previous hash ‖ canonical bytes of the event)).
-- Entries and documents name the event that last described them, so the audit can check that the rows still say what
-- the log says. Rows from before this migration have no events: the book records where its audited history begins.

CREATE TABLE events (
    book_id TEXT NOT NULL REFERENCES books (id),
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_key_id TEXT NULL,
    actor_name TEXT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (book_id, sequence)
);

ALTER TABLE journal_entries ADD COLUMN event_sequence INTEGER NULL;
ALTER TABLE documents ADD COLUMN event_sequence INTEGER NULL;

-- Entries and documents with ids up to these were written before the log existed: the audit counts them apart.
ALTER TABLE books ADD COLUMN audit_from_entry INTEGER NOT NULL DEFAULT 0;
ALTER TABLE books ADD COLUMN audit_from_document INTEGER NOT NULL DEFAULT 0;
UPDATE books SET audit_from_entry = COALESCE((SELECT MAX(id) FROM journal_entries WHERE journal_entries.book_id = books.id), 0),
                 audit_from_document = COALESCE((SELECT MAX(id) FROM documents WHERE documents.book_id = books.id), 0);
