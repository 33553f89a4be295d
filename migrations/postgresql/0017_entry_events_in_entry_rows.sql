-- A journal entry's event no longer gets a row of its own with a copy of the entry: the entries of one posting share
-- one row of events (a run: sequence to through_sequence, subject_id the first entry's id, hash the last event's),
-- and each entry keeps its event's hash on its row (32 bytes). The event's data is rebuilt from the entry's rows, which the hash
-- covers. Fingerprints (XXH3-64 of an entry's own members, and of each line) say which row changed
-- when a hash no longer follows. Events written before this migration keep their rows and data; their entries keep NULL.
ALTER TABLE events ADD COLUMN through_sequence BIGINT NULL;
ALTER TABLE journal_entries ADD COLUMN event_hash BYTEA NULL;
ALTER TABLE journal_entries ADD COLUMN fingerprint BIGINT NULL;
ALTER TABLE postings ADD COLUMN fingerprint BIGINT NULL;
