-- A book's chart version is the highest id of its account versions (reports keep the chart's strings between calls
-- and read them again when it moves; ReportCharts). With only (book_id, account_id, id), PostgreSQL may answer that
-- MAX by walking the primary key backwards past every newer version of other books; this makes it one probe.
CREATE INDEX ix_account_versions_book_id ON account_versions (book_id, id);
