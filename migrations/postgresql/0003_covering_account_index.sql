-- PostgreSQL edition of sqlite/0003: range balances read the account index alone (an index-only scan).
DROP INDEX ix_postings_account_date;
CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount);
