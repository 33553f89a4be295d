-- The ledger's big tables grow by appending: rows are inserted and never deleted, and hardly updated (an entry once,
-- when it is reversed; monthly totals in place, mostly HOT). PostgreSQL's defaults vacuum a table for inserts only after 20 % more rows
-- (autovacuum_vacuum_insert_scale_factor) and analyze it after 10 % changes, so in a table of ten million postings the
-- newest two million can wait weeks for a vacuum: their pages are not marked all-visible, and every report that
-- reads them through the account index (the part month of a trial balance as of a date, an account's first page) must
-- visit each posting's heap page instead of answering from the index alone; and their statistics lag, so plans are made
-- for a smaller table. Those newest rows are exactly what reports read most.
--
-- Measured (sixteenth session, 2-core host, server autovacuum_naptime 10 s): a benchmark book of 2,002,000 postings,
-- vacuumed, then 297,998 more dated in the first half of one month (13 % of the table, short of the default's 401,000).
-- Under the defaults no autovacuum came, and the trial balance's part-month sum over those days took 598-843 ms
-- (297,998 heap fetches, 313,051 buffers); with these settings autovacuum came within 10 s (0.19 s, 4,258 pages
-- scanned, no index scan) and the same sum took 180-254 ms (no heap fetches, 24,038 buffers). Vacuuming rows that were
-- only inserted is cheap: no dead tuples, no index cleanup; it marks the pages written since the last vacuum visible.
--
-- A vacuum or analyze after 2 % new rows (plus the default threshold of 1,000), per table; the server's other settings
-- (how often autovacuum looks at a database at all: autovacuum_naptime) belong to whoever runs the server.
ALTER TABLE postings SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE journal_entries SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE account_period_totals SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE events SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE commits SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
