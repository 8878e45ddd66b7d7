-- Case work and SMS to contacts. Everything here is derived from visits and goes with them:
-- every link to a visit is deleted with the visit (ON DELETE CASCADE), a contact goes with its
-- last link (trigger), and its outbox messages go with the contact. A case goes when its last
-- update is past the visits' retention (retention.purge_expired).

-- The language the guest used at check-in: an SMS to them is written in it. NULL (paper lists,
-- visits stored before this column) means the default language.
ALTER TABLE visits ADD COLUMN language TEXT CHECK (language IS NULL OR length(language) BETWEEN 2 AND 12);

CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    case_ref    TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(case_ref) BETWEEN 1 AND 40),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    -- The last search that added to the case: its visits arrived before this.
    updated_at  INTEGER NOT NULL
);
CREATE INDEX cases_updated ON cases (updated_at);

-- One line per phone number of a case: people who share a phone are called once.
CREATE TABLE case_contacts (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'not_called'
                        CHECK (state IN ('not_called', 'reached', 'not_reached', 'wrong_number', 'sms')),
    -- Calls that did not reach anyone, and when the last one was made.
    tries       INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    tried_at    INTEGER,
    -- Raised by every change: an update based on an older version is refused.
    version     INTEGER NOT NULL DEFAULT 1,
    updated_by  TEXT,
    updated_at  INTEGER,
    UNIQUE (case_id, phone)
);

-- Which visits made a phone a contact of the case, and by how much they overlapped.
CREATE TABLE case_contact_visits (
    case_contact_id  INTEGER NOT NULL REFERENCES case_contacts (id) ON DELETE CASCADE,
    visit_id         INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    case_visit_id    INTEGER REFERENCES visits (id) ON DELETE CASCADE,
    overlap_seconds  INTEGER NOT NULL CHECK (overlap_seconds > 0),
    -- 1 when the overlap is shorter than MIN_OVERLAP_MINUTES: shown apart, for the tracer to judge.
    short            INTEGER NOT NULL CHECK (short IN (0, 1)),
    PRIMARY KEY (case_contact_id, visit_id)
) WITHOUT ROWID;
CREATE INDEX case_contact_visits_visit ON case_contact_visits (visit_id);
CREATE INDEX case_contact_visits_case_visit ON case_contact_visits (case_visit_id);

CREATE TRIGGER case_contact_last_visit AFTER DELETE ON case_contact_visits
WHEN NOT EXISTS (SELECT 1 FROM case_contact_visits WHERE case_contact_id = OLD.case_contact_id)
BEGIN
    DELETE FROM case_contacts WHERE id = OLD.case_contact_id;
END;

-- A corrected phone number (a guest's right to correction) unlinks the visit: the line it made was
-- for the old number, and a message queued for that number must not go. A new search links it again.
CREATE TRIGGER case_contact_visits_phone_corrected AFTER UPDATE OF phone ON visits
WHEN NEW.phone IS NOT OLD.phone
BEGIN
    DELETE FROM case_contact_visits WHERE visit_id = NEW.id;
END;

-- SMS waiting for, or accepted by, the gateway. One message per contact line: a shared number
-- is told once. A message is claimed for one attempt at a time (lease_until); once accepted_at
-- is set it is never sent again.
CREATE TABLE sms_outbox (
    id               INTEGER PRIMARY KEY,
    case_contact_id  INTEGER NOT NULL UNIQUE REFERENCES case_contacts (id) ON DELETE CASCADE,
    phone            TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    text             TEXT    NOT NULL CHECK (length(text) BETWEEN 1 AND 480),
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    lease_token      TEXT,
    -- The last refusal, without content: "HTTP 500", "timeout", "connection refused".
    last_error       TEXT,
    accepted_at      INTEGER
);
CREATE INDEX sms_outbox_due ON sms_outbox (next_attempt_at) WHERE accepted_at IS NULL;
