-- The four references every posted entry checks row by row, dropped on PostgreSQL only: postings to their entry and
-- account, entries and events to their book. Each was an AFTER ROW trigger that looks the referenced row up and locks
-- it FOR KEY SHARE. Measured on the batch benchmark (10,000-entry batches, 100,000 entries, this two-core machine,
-- alternated runs, entries/s): all keys 9,575-12,433 (mean of four 11,344); without the two posting keys 10,446-11,762
-- (11,198); without the two book keys 10,531-11,440 (11,016); without all four 12,445-16,650 (mean of nine 14,546).
-- Dropping either pair alone changed nothing measurable (as an earlier session found for the events' key alone); only
-- all four together did, so all four go.
--
-- What stands in for them:
--   * The writer: a posting's account is resolved from the book's chart in the same transaction, under the book's row
--     lock that every write of the book takes (account deletion included, which refuses an account with postings; and
--     the monthly totals, which every posting upserts, keep their key to the account); a posting's entry is inserted
--     before it, in the same transaction, with an id drawn from the sequence; books are never deleted.
--   * SQLite keeps these keys (there a check is one B-tree probe), so the suite, which runs whole on both engines,
--     fails there on a code path common to both that writes an orphan row; the PostgreSQL-only multi-process tests
--     check afterwards that no posting, entry or event lacks its entry, account or book.
--   * GET /v1/books/{bookId}/audit/verify names a posting whose entry is not in its book, and (for entries posted since
--     the log began) a line whose account is not in the book.
-- Every other reference (reversals, documents, payments, open items, statements) is written once per document or line,
-- not per posting, and keeps its key.
--
-- Dropping a key locks its tables briefly; a long report on the primary would make this wait and queue everything
-- behind it, so give up after 30 s (the API then fails to start, saying why, and the next start tries again).
SET LOCAL lock_timeout = '30s';
ALTER TABLE postings DROP CONSTRAINT postings_entry_id_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_account_id_fkey;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_book_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_book_id_fkey;
