-- A statement line coded to an account with a tax rate posts tax outside any document: the match keeps the rate and
-- the net and tax it posted, so the tax summary counts them as it counts documents' lines. Matches made before this
-- migration keep NULL (their tax is still on the accounts, not in the summary).
ALTER TABLE bank_matches ADD COLUMN tax_rate TEXT COLLATE "C" NULL;
ALTER TABLE bank_matches ADD COLUMN net BIGINT NULL;
ALTER TABLE bank_matches ADD COLUMN tax BIGINT NULL;
