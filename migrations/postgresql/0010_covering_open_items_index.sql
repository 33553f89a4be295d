-- The covering index of sqlite/0010 (see there). PostgreSQL's index-only scans also need the id (the join with the
-- allocations), which SQLite keeps in every index implicitly as the rowid.
DROP INDEX ix_open_items_ledger_date;
CREATE INDEX ix_open_items_ledger_date ON open_items (book_id, ledger, item_date, party_id, due_date, amount, entry_id, id);
