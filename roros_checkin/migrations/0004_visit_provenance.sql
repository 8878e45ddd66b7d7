-- Who typed a visit in: the staff account behind a paper-list row (its provenance). NULL for a
-- guest's own check-in, and for paper rows typed before this column existed. An account is
-- disabled rather than deleted; should one ever be deleted, its rows keep their data, not its id.
ALTER TABLE visits ADD COLUMN entered_by INTEGER REFERENCES staff (id) ON DELETE SET NULL;
