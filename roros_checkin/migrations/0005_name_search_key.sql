-- The case search by name: an index instead of reading every visit of the window.
-- Names are compared case-folded in any script (contacts.fold_name), which no built-in SQLite function
-- does, so the application stores a key of the folded name with each visit (queries.name_key: 8 bytes
-- of its BLAKE2b hash; the search still compares the folded names themselves, so a shared hash only
-- costs a row read). Visits stored before this migration have no key and are found by reading them,
-- as before, until the retention has removed them.
ALTER TABLE visits ADD COLUMN name_key INTEGER;
CREATE INDEX visits_name_key_arrived ON visits (name_key, arrived_at);
