-- An item's source (document or payment) is found by its id: documents and payments draw ids from one sequence, so the
-- id alone names the source. With source_type second, a search that took the type from a join (what is this id? a
-- document of some kind, or a payment) could only use the book: PostgreSQL, with some statistics, then read every item
-- of the book for each payment and allocation. Queries that name the type still use every column.
DROP INDEX ix_open_items_source;
CREATE INDEX ix_open_items_source ON open_items (book_id, source_id, source_type);
