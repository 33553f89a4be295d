-- Nothing reads parties in name order (lists go by code, the name search is a LIKE no index serves), so this index only
-- cost every new customer and vendor an insert. On PostgreSQL it also did harm: a plan the server made while the table
-- was nearly empty (kept until the table is first analyzed) checked a code through it, reading every party of the
-- book, where the unique (book_id, kind, code) index answers at once.
DROP INDEX ix_parties_book_kind_name;
