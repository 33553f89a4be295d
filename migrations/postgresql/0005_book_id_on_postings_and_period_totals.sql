-- PostgreSQL edition of sqlite/0005: postings and monthly totals carry book_id, so a book can be the distribution
-- column of a sharded PostgreSQL (Citus) and every query names it.
ALTER TABLE postings ADD COLUMN book_id TEXT COLLATE "C" NULL;
UPDATE postings SET book_id = (SELECT e.book_id FROM journal_entries e WHERE e.id = postings.entry_id);
ALTER TABLE postings ALTER COLUMN book_id SET NOT NULL;

ALTER TABLE account_period_totals ADD COLUMN book_id TEXT COLLATE "C" NULL;
UPDATE account_period_totals SET book_id = (SELECT a.book_id FROM accounts a WHERE a.id = account_period_totals.account_id);
ALTER TABLE account_period_totals ALTER COLUMN book_id SET NOT NULL;

-- The account index carries book_id last, so range balances filtered on the book stay index-only scans.
DROP INDEX ix_postings_account_date_amount;
CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount, book_id);

-- Every commit row is written for the one book its group locked; say so in the schema.
DELETE FROM commits WHERE book_id IS NULL;
ALTER TABLE commits ALTER COLUMN book_id SET NOT NULL;
