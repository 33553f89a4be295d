-- A book's chart version is the highest id of its account versions (reports keep the chart's strings between calls
-- and read them again when it moves; ReportCharts): one probe of this index, not a scan of the book's versions.
CREATE INDEX ix_account_versions_book_id ON account_versions (book_id, id);
