-- The event log: PostgreSQL edition of sqlite/0008 (see there).

CREATE TABLE events (
    book_id TEXT COLLATE "C" NOT NULL REFERENCES books (id),
    sequence BIGINT NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    occurred_at TEXT COLLATE "C" NOT NULL,
    actor_key_id TEXT COLLATE "C" NULL,
    actor_name TEXT COLLATE "C" NULL,
    subject_type TEXT COLLATE "C" NOT NULL,
    subject_id TEXT COLLATE "C" NOT NULL,
    data TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (book_id, sequence)
);

ALTER TABLE journal_entries ADD COLUMN event_sequence BIGINT NULL;
ALTER TABLE documents ADD COLUMN event_sequence BIGINT NULL;

ALTER TABLE books ADD COLUMN audit_from_entry BIGINT NOT NULL DEFAULT 0;
ALTER TABLE books ADD COLUMN audit_from_document BIGINT NOT NULL DEFAULT 0;
UPDATE books SET audit_from_entry = COALESCE((SELECT MAX(id) FROM journal_entries WHERE journal_entries.book_id = books.id), 0),
                 audit_from_document = COALESCE((SELECT MAX(id) FROM documents WHERE documents.book_id = books.id), 0);
