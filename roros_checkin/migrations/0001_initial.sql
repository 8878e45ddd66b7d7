-- The first schema. Times are integer Unix seconds in UTC.

CREATE TABLE venues (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE
                        CHECK (slug = lower(slug) AND length(slug) BETWEEN 1 AND 64
                               AND slug NOT GLOB '*[^a-z0-9-]*'),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    address     TEXT    NOT NULL DEFAULT '' CHECK (length(address) <= 200),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL
);

CREATE TABLE visits (
    id               INTEGER PRIMARY KEY,
    venue_id         INTEGER NOT NULL REFERENCES venues (id),
    name             TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    phone            TEXT    NOT NULL CHECK (phone GLOB '+[1-9]*' AND length(phone) BETWEEN 8 AND 16
                                             AND substr(phone, 2) NOT GLOB '*[^0-9]*'),
    party_size       INTEGER NOT NULL DEFAULT 1 CHECK (party_size BETWEEN 1 AND 20),
    area             TEXT    CHECK (area IS NULL OR length(area) BETWEEN 1 AND 40),
    arrived_at       INTEGER NOT NULL,
    left_at          INTEGER CHECK (left_at IS NULL OR left_at >= arrived_at),
    registered_at    INTEGER NOT NULL,
    source           TEXT    NOT NULL CHECK (source IN ('qr', 'kiosk', 'retro', 'paper')),
    -- A re-sent form carries the same key, so it can never store a second row.
    idempotency_key  TEXT    NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 16 AND 64),
    -- SHA-256 of the receipt URL's token: the token itself is never stored.
    receipt_hash     TEXT    UNIQUE,
    consent_version  TEXT
);
-- Venue search and the contact step of the case search.
CREATE INDEX visits_venue_arrived ON visits (venue_id, arrived_at);
-- Case search by phone number.
CREATE INDEX visits_phone_arrived ON visits (phone, arrived_at);
-- Purge by age without scanning the table.
CREATE INDEX visits_arrived ON visits (arrived_at);

CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE COLLATE NOCASE
                            CHECK (length(username) BETWEEN 2 AND 64),
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL DEFAULT 'tracer' CHECK (role IN ('tracer', 'admin')),
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    totp_secret     TEXT,
    -- Last accepted TOTP time step: a code is accepted once.
    totp_last_step  INTEGER,
    created_at      INTEGER NOT NULL
);

-- Server-side staff sessions: the cookie holds a random token, this table its SHA-256.
CREATE TABLE staff_sessions (
    token_hash    TEXT    PRIMARY KEY,
    staff_id      INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    -- 0 while the password is accepted but the one-time code is not yet.
    verified      INTEGER NOT NULL DEFAULT 1 CHECK (verified IN (0, 1))
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Login attempts for throttling and the authentication log. No passwords.
CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY,
    username   TEXT    NOT NULL,
    client     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    success    INTEGER NOT NULL CHECK (success IN (0, 1))
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);
CREATE INDEX login_attempts_client_at ON login_attempts (client, at);

-- Who searched, exported or typed in what. Never a guest's name or full phone number.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    staff         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    case_ref      TEXT,
    venue_slug    TEXT,
    window_from   INTEGER,
    window_to     INTEGER,
    result_count  INTEGER,
    detail        TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- When purge and backup last ran, for check-deploy and the health page.
CREATE TABLE maintenance_runs (
    task     TEXT    PRIMARY KEY,
    ran_at   INTEGER NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
);
