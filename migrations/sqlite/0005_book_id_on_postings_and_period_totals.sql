-- Every table that belongs to a book carries book_id, and every query on it filters on it, so that a book can be the
-- distribution column of a sharded PostgreSQL (Citus) where all of a book's rows live on one node. Postings and
-- monthly totals were reached only through their entry or account until now.
--
-- Added with a default and filled from the rows they belong to (SQLite adds a NOT NULL column only with a default).
-- No REFERENCES: the entry and the account already tie each row to its book, and SQLite refuses a foreign key on an
-- added column with a non-null default.
ALTER TABLE postings ADD COLUMN book_id TEXT NOT NULL DEFAULT '';
UPDATE postings SET book_id = (SELECT e.book_id FROM journal_entries e WHERE e.id = postings.entry_id);

ALTER TABLE account_period_totals ADD COLUMN book_id TEXT NOT NULL DEFAULT '';
UPDATE account_period_totals SET book_id = (SELECT a.book_id FROM accounts a WHERE a.id = account_period_totals.account_id);

-- The account index carries book_id last, so range balances filtered on the book still read the index alone.
DROP INDEX ix_postings_account_date_amount;
CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount, book_id);
