-- The four references every posted entry checks row by row, dropped on PostgreSQL only. Each was an AFTER ROW trigger
-- that looks the referenced row up and locks it FOR KEY SHARE: for a posting's entry, a row its own transaction has
-- just inserted, so one more WAL record and one more page dirtied per entry. Measured on the batch benchmark (296,000
-- entries in 10,000-entry batches, this two-core machine, alternated): 8,921 and 10,390 entries/s with them, 16,172 and
-- 16,635/s without. In a single INSERT of 600,000 postings the two posting keys took 4.6 s of 7.3 s.
--
-- What stands in for them:
--   * The writer: a posting's account is resolved from the book's chart in the same transaction, under the book's row
--     lock that every write of the book takes (account deletion included, which refuses an account with postings);
--     a posting's entry is inserted before it, in the same transaction, with an id drawn from the sequence.
--   * SQLite keeps these keys (there a check is one B-tree probe), and the whole API suite runs on both engines, so a
--     code path that wrote an orphan row would fail there.
--   * GET /v1/books/{bookId}/audit/verify names a posting whose entry is not in its book, and a posting whose account is
--     not in its book (its entry no longer matches the entry's event).
-- Every other reference (reversals, documents, payments, open items, statements) is written once per document or line,
-- not per posting, and keeps its key.
ALTER TABLE postings DROP CONSTRAINT postings_entry_id_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_account_id_fkey;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_book_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_book_id_fkey;
