-- Keyed hashes (HMAC-SHA256, key derived from SECRET_KEY) of the searched person's folded name or
-- E.164 phone number, so an admin can ask "was this person looked up?" without the log holding
-- the name or number. NULL for entries without a person (venue searches, paper lists, old rows).
ALTER TABLE audit_log ADD COLUMN name_hash TEXT;
ALTER TABLE audit_log ADD COLUMN phone_hash TEXT;
CREATE INDEX audit_log_name_hash ON audit_log (name_hash) WHERE name_hash IS NOT NULL;
CREATE INDEX audit_log_phone_hash ON audit_log (phone_hash) WHERE phone_hash IS NOT NULL;
