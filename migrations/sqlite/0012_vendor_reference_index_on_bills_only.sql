-- Only bills carry the vendor's own reference; every invoice, credit note and vendor credit stored NULL in this index,
-- at a place set by its party, so each one cost the writer an index page of its own at commit. The duplicate check
-- (vendor_reference = @x) implies IS NOT NULL, so both engines still answer it from this index.
DROP INDEX ix_documents_vendor_reference;
CREATE INDEX ix_documents_vendor_reference ON documents (book_id, party_id, vendor_reference) WHERE vendor_reference IS NOT NULL;
